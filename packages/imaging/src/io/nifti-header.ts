/**
 * The NIfTI-1 and NIfTI-2 header, checked: version and byte order from sizeof_hdr, the magic
 * string, the datatype, the dimensions and vox_offset, everything that decides how many bytes to
 * read or allocate, so that a damaged or hostile file is refused with an {@link ImageFileError}
 * before any large array exists. nifti-reader-js parses the fields.
 */
import { NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { type DataType, ImageFileError } from '../types.ts';

/** Largest accepted size of any one dimension (x, y, z or t): 2^16 = 65,536. */
export const NIFTI_MAX_DIMENSION = 65_536;

/** Largest accepted number of voxels in one volume (nx * ny * nz): 2^31 = 2,147,483,648. */
export const NIFTI_MAX_VOXELS = 2 ** 31;

/** NIfTI datatype codes of the voxel types this package reads and writes, with their sizes in bytes. */
export const NIFTI_DATATYPES: Readonly<Record<DataType, { code: number; bytes: number }>> = {
  uint8: { code: 2, bytes: 1 },
  int8: { code: 256, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  uint16: { code: 512, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  uint32: { code: 768, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
};

/** Names of the NIfTI datatype codes this reader refuses, for error messages. */
const UNSUPPORTED_DATATYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'binary',
  32: 'complex64',
  128: 'RGB24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

const DATATYPE_BY_CODE = new Map<number, DataType>(
  (Object.keys(NIFTI_DATATYPES) as DataType[]).map((name) => [NIFTI_DATATYPES[name].code, name]),
);

const SUPPORTED_DATATYPES = (Object.keys(NIFTI_DATATYPES) as DataType[])
  .map((name) => `${name} (${NIFTI_DATATYPES[name].code})`)
  .join(', ');

export const NIFTI1_HEADER_BYTES = 348;
export const NIFTI2_HEADER_BYTES = 540;
/** Header bytes to inflate before the header is checked: enough for either version. */
export const HEADER_PROBE_BYTES = NIFTI2_HEADER_BYTES;

/** What the header says about the layout of the voxel data, checked. */
export interface NiftiLayout {
  version: 1 | 2;
  littleEndian: boolean;
  headerBytes: number;
  datatype: DataType;
  bytesPerVoxel: number;
  dims: [number, number, number];
  nVolumes: number;
  voxOffset: number;
  /** vox_offset plus the bytes of every volume: the least the file must hold. */
  requiredBytes: number;
  /** The whole header as nifti-reader-js parsed it. */
  header: NIFTI1 | NIFTI2;
}

/**
 * Reads and checks the header: version and byte order from sizeof_hdr, the magic string, then the
 * fields nifti-reader-js parsed (given only the header's bytes, so that it never walks extensions).
 * Does not look at the file's length.
 */
export function readLayout(bytes: Uint8Array, path: string): NiftiLayout {
  if (bytes.length === 0) throw new ImageFileError(path, 'file is empty (0 bytes)');
  if (bytes.length < 4) {
    throw new ImageFileError(path, `truncated header: ${bytes.length} bytes, a NIfTI-1 header needs 348`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLittle = view.getInt32(0, true);
  const sizeBig = view.getInt32(0, false);
  let version: 1 | 2;
  let littleEndian: boolean;
  if (sizeLittle === NIFTI1_HEADER_BYTES || sizeBig === NIFTI1_HEADER_BYTES) {
    version = 1;
    littleEndian = sizeLittle === NIFTI1_HEADER_BYTES;
  } else if (sizeLittle === NIFTI2_HEADER_BYTES || sizeBig === NIFTI2_HEADER_BYTES) {
    version = 2;
    littleEndian = sizeLittle === NIFTI2_HEADER_BYTES;
  } else {
    throw new ImageFileError(
      path,
      `not a NIfTI file: sizeof_hdr (bytes 0-3) is ${sizeLittle} little-endian or ${sizeBig} big-endian, ` +
        'expected 348 (NIfTI-1) or 540 (NIfTI-2)',
    );
  }
  const headerBytes = version === 1 ? NIFTI1_HEADER_BYTES : NIFTI2_HEADER_BYTES;
  if (bytes.length < headerBytes) {
    throw new ImageFileError(
      path,
      `truncated header: ${bytes.length} bytes, a NIfTI-${version} header needs ${headerBytes}`,
    );
  }
  checkMagic(bytes, version, path);

  const header = version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    header.readHeader(bytes.slice(0, headerBytes).buffer);
  } catch (error) {
    throw new ImageFileError(path, `cannot parse the header: ${(error as Error).message}`, { cause: error });
  }

  const datatype = DATATYPE_BY_CODE.get(header.datatypeCode);
  if (datatype === undefined) {
    const name = UNSUPPORTED_DATATYPE_NAMES[header.datatypeCode] ?? 'not a NIfTI datatype';
    throw new ImageFileError(
      path,
      `unsupported datatype code ${header.datatypeCode} (${name}); supported: ${SUPPORTED_DATATYPES}`,
    );
  }
  const { dims, nVolumes } = checkDims(header.dims, path);
  const bytesPerVoxel = NIFTI_DATATYPES[datatype].bytes;
  const voxOffset = header.vox_offset;
  if (!Number.isInteger(voxOffset) || voxOffset < headerBytes) {
    throw new ImageFileError(
      path,
      `vox_offset is ${voxOffset}: must be a whole number of bytes, at least the header's ${headerBytes}`,
    );
  }
  const requiredBytes = voxOffset + dims[0] * dims[1] * dims[2] * nVolumes * bytesPerVoxel;
  return {
    version,
    littleEndian,
    headerBytes,
    datatype,
    bytesPerVoxel,
    dims,
    nVolumes,
    voxOffset,
    requiredBytes,
    header,
  };
}

const NIFTI1_MAGIC = 'n+1\0';
const NIFTI2_MAGIC = 'n+2\0\r\n\x1a\n';

function checkMagic(bytes: Uint8Array, version: 1 | 2, path: string): void {
  const start = version === 1 ? 344 : 4;
  const expected = version === 1 ? NIFTI1_MAGIC : NIFTI2_MAGIC;
  const found = String.fromCharCode(...bytes.subarray(start, start + expected.length));
  if (found === expected) return;
  // NIfTI-2 files whose 4 line-ending check bytes are zero are accepted, as nibabel does.
  if (version === 2 && found === 'n+2\0\0\0\0\0') return;
  if (found.startsWith(`ni${version}\0`)) {
    throw new ImageFileError(
      path,
      `magic is "ni${version}": the header of a .hdr/.img pair; only single .nii files are read`,
    );
  }
  if (version === 2 && found.startsWith('n+2\0')) {
    throw new ImageFileError(
      path,
      `wrong magic: the NIfTI-2 line-ending check bytes are ${show(found.slice(4))}, expected "\\r\\n\\x1a\\n" ` +
        '(was the file transferred in text mode?)',
    );
  }
  throw new ImageFileError(
    path,
    `wrong magic at byte ${start}: expected ${show(expected)}, found ${show(found)} ` +
      `(sizeof_hdr says NIfTI-${version}; Analyze 7.5 files are not read)`,
  );
}

/** A byte string as a quoted literal with non-printable bytes escaped: "n+1\0". */
function show(text: string): string {
  const escaped = [...text]
    .map((character) => {
      const code = character.charCodeAt(0);
      if (code === 0) return '\\0';
      if (code >= 0x20 && code < 0x7f && character !== '"' && character !== '\\') return character;
      return `\\x${code.toString(16).padStart(2, '0')}`;
    })
    .join('');
  return `"${escaped}"`;
}

function checkDims(
  dim: readonly number[],
  path: string,
): { dims: [number, number, number]; nVolumes: number } {
  const rank = dim[0] ?? 0;
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) {
    throw new ImageFileError(path, `dim[0] (the number of dimensions) is ${rank}: must be 1 to 7`);
  }
  const sizes = [1, 1, 1, 1];
  for (let i = 1; i <= rank; i++) {
    const size = dim[i] ?? 0;
    if (!Number.isInteger(size) || size < 1 || size > NIFTI_MAX_DIMENSION) {
      throw new ImageFileError(
        path,
        `dim[${i}] is ${size}: each dimension must be from 1 to ${NIFTI_MAX_DIMENSION} (2^16)`,
      );
    }
    if (i >= 5 && size !== 1) {
      throw new ImageFileError(
        path,
        `dim[${i}] is ${size}: images with more than 4 dimensions (dim[0] = ${rank}) are not read`,
      );
    }
    if (i <= 4) sizes[i - 1] = size;
  }
  const [nx, ny, nz, nt] = sizes as [number, number, number, number];
  const nVoxels = nx * ny * nz;
  if (nVoxels > NIFTI_MAX_VOXELS) {
    throw new ImageFileError(
      path,
      `${nx} x ${ny} x ${nz} = ${nVoxels} voxels per volume is more than the limit of 2^31 (${NIFTI_MAX_VOXELS})`,
    );
  }
  return { dims: [nx, ny, nz], nVolumes: nt };
}

export function checkFileLength(
  layout: NiftiLayout,
  length: number,
  compressed: boolean,
  path: string,
): void {
  const what = compressed ? 'the decompressed data has' : 'the file has';
  if (layout.voxOffset > length) {
    throw new ImageFileError(
      path,
      `vox_offset ${layout.voxOffset} is beyond the end of the data: ${what} ${length} bytes`,
    );
  }
  if (length < layout.requiredBytes) {
    const [nx, ny, nz] = layout.dims;
    throw new ImageFileError(
      path,
      `too short for its dimensions: ${nx} x ${ny} x ${nz} x ${layout.nVolumes} ${layout.datatype} voxels ` +
        `from vox_offset ${layout.voxOffset} need ${layout.requiredBytes} bytes, ${what} ${length} bytes`,
    );
  }
}
