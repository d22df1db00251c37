/**
 * Reads NIfTI-1 and NIfTI-2 single files (`.nii`, and `.nii.gz` detected by its gzip magic) from
 * bytes, in the browser or in Node. nifti-reader-js parses the header fields; everything that
 * decides how many bytes to read or allocate (sizeof_hdr, magic, dim, datatype, vox_offset, the
 * file's length) is checked here first, so that a damaged or hostile file is refused with an
 * {@link ImageFileError} before any large array exists. gzip data is inflated incrementally with
 * fflate: the NIfTI header is checked as soon as its bytes are out, and the gzip trailer (CRC-32
 * and length) of every member is verified, so that a truncated or corrupt download is an error,
 * never silently wrong voxels.
 */
import { Gunzip } from 'fflate';
import { NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { type DataType, ImageFileError, type NiftiGeometry, type Volume, type VoxelData } from '../types.ts';

/** Options of {@link parseNifti}. */
export interface ParseNiftiOptions {
  /** 0-based index of the volume to read from a 4-D file. Default 0. */
  volume?: number;
  /**
   * A native gzip inflater for the whole stream (Node's readNifti passes node:zlib's, 3x faster),
   * called once the header inflated by the portable inflater has been checked, with the most
   * bytes the header allows. It must throw unless it inflated every byte (all members, CRCs and
   * lengths checked); whenever it throws, the portable inflater runs instead, so that what is
   * accepted and the error messages do not depend on it.
   */
  inflate?: (compressed: Uint8Array, maxOutputLength: number) => Uint8Array;
}

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

const NIFTI1_HEADER_BYTES = 348;
const NIFTI2_HEADER_BYTES = 540;
/** Header bytes to inflate before the header is checked: enough for either version. */
const HEADER_PROBE_BYTES = NIFTI2_HEADER_BYTES;
/** Compressed bytes handed to the inflater at a time. */
const GZIP_CHUNK_BYTES = 1 << 18;
/** Bytes a gzip stream may inflate to beyond what its NIfTI header needs (trailing data is ignored). */
const GZIP_TRAILING_LIMIT_BYTES = 1 << 20;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What the header says about the layout of the voxel data, checked. */
interface NiftiLayout {
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
 * Parses a NIfTI-1 or NIfTI-2 single file (`.nii` bytes, or `.nii.gz` bytes: gzip is detected by
 * its magic number, not by the name) into one 3-D {@link Volume}.
 *
 * - Datatypes uint8, int8, int16, uint16 and float32 give a `Float32Array` (exact); int32, uint32
 *   and float64 give a `Float64Array` (exact). Values are scaled by scl_slope and scl_inter unless
 *   scl_slope is 0 or not finite (the standard's "unscaled"); scaling is computed in float64 and
 *   stored in the output type. NaN and infinite voxels are kept.
 * - Dimensions: 1-D and 2-D images give nz = 1 (and ny = 1); a 4-D file gives the volume
 *   `options.volume` (default 0), and a 4-D file with one volume is a 3-D image. dim[5..7], when
 *   used, must be 1.
 * - `affine` (in mm): the sform when sform_code > 0, else the qform (quaternion, qfac, pixdim and
 *   qoffset, as nifti1_io.c computes it) when qform_code > 0, else diag(pixdim[1..3]); metres and
 *   micrometres are converted as for `spacing`. Both transforms, their codes, pixdim and
 *   xyzt_units are kept unchanged in `geometry`.
 * - `spacing` (mm): |pixdim[1..3]| converted from xyzt_units (metres and micrometres; unknown units
 *   are taken as mm); a pixdim that is 0 or not finite gives 1 mm.
 *
 * @param bytes - the whole file; not modified.
 * @param path - the file's name, used in error messages and kept in `source.path`.
 * @throws {ImageFileError} when the file is not a readable NIfTI file: too short, wrong magic,
 *   unsupported datatype, dimensions out of range (each 1 to {@link NIFTI_MAX_DIMENSION}, at most
 *   {@link NIFTI_MAX_VOXELS} per volume), vox_offset beyond the file, fewer bytes than the
 *   dimensions need, gzip data truncated or corrupt or inflating to over 1 MiB more than the header
 *   needs, a transform in use (code > 0) holding values that are not finite, or a scl_slope in use
 *   with a scl_inter that is not finite. These are found before large arrays are made.
 * @throws {RangeError} when `options.volume` is not an integer from 0 to nVolumes - 1.
 */
export function parseNifti(bytes: Uint8Array, path: string, options: ParseNiftiOptions = {}): Volume {
  const volumeIndex = options.volume ?? 0;
  if (!Number.isInteger(volumeIndex) || volumeIndex < 0) {
    throw new RangeError(`volume must be a non-negative integer, got ${volumeIndex} (reading ${path})`);
  }
  const compressed = isGzip(bytes);
  const file = compressed ? inflateNifti(bytes, path, options.inflate) : bytes;
  const layout = readLayout(file, path);
  checkFileLength(layout, file.length, compressed, path);
  if (volumeIndex >= layout.nVolumes) {
    throw new RangeError(
      `volume must be from 0 to ${layout.nVolumes - 1} for ${path} (${layout.nVolumes} volumes), got ${volumeIndex}`,
    );
  }
  const { header } = layout;
  const geometry = readGeometry(file, layout);
  checkTransform(geometry, path);
  let slope = header.scl_slope;
  let inter = header.scl_inter;
  if (slope === 0 || !Number.isFinite(slope)) {
    slope = 1;
    inter = 0;
  } else if (!Number.isFinite(inter)) {
    throw new ImageFileError(path, `scl_slope is ${slope} but scl_inter is ${inter}: cannot scale the data`);
  }
  return {
    data: decodeVolume(file, layout, volumeIndex, slope, inter),
    dims: layout.dims,
    spacing: spacingOf(geometry),
    affine: niftiAffine(geometry),
    geometry,
    source: {
      path,
      format: layout.version === 1 ? 'nifti-1' : 'nifti-2',
      datatype: layout.datatype,
      nVolumes: layout.nVolumes,
      volumeIndex,
    },
  };
}

/** What a NIfTI header says about its image, read without the voxels: see {@link parseNiftiHeader}. */
export interface NiftiHeaderSummary {
  version: 1 | 2;
  /** The stored voxel type. */
  datatype: DataType;
  /** Bytes of one stored voxel. */
  bytesPerVoxel: number;
  /** nx, ny, nz of one volume (1-D and 2-D images have ny = 1 or nz = 1). */
  dims: [number, number, number];
  /** Volumes in a 4-D file (1 for 3-D). */
  nVolumes: number;
  /** nx * ny * nz: voxels of one volume, what reading one volume allocates per array. */
  nVoxels: number;
  /** Whether the file is gzip-compressed. */
  compressed: boolean;
}

/** Compressed bytes handed to the inflater at a time while looking for the header. */
const HEADER_CHUNK_BYTES = 1 << 10;

/**
 * Parses only the header of a NIfTI-1 or NIfTI-2 single file, from the first bytes of the file:
 * for `.nii.gz`, at most a few kilobytes are inflated (stopping as soon as the header is out), so
 * a small file that declares a huge image is found out before anything large is allocated. The
 * header gets the same checks as {@link parseNifti} (sizeof_hdr, magic, datatype, dimensions,
 * vox_offset); the file's length and the voxels are not looked at.
 *
 * @param start - the file's first bytes (the whole file will do); a few kilobytes hold any header.
 * @param path - the file's name, for error messages.
 * @throws {ImageFileError} when the bytes do not start a readable NIfTI file, or their gzip data
 *   does not inflate to a whole header.
 */
export function parseNiftiHeader(start: Uint8Array, path: string): NiftiHeaderSummary {
  const compressed = isGzip(start);
  let header = start;
  if (compressed) {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const inflater = new Gunzip((chunk) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    try {
      for (
        let offset = 0;
        total < HEADER_PROBE_BYTES && offset < start.length;
        offset += HEADER_CHUNK_BYTES
      ) {
        inflater.push(start.subarray(offset, offset + HEADER_CHUNK_BYTES), false);
      }
    } catch (error) {
      throw new ImageFileError(path, `gzip data is corrupt (${(error as Error).message}) at its start`, {
        cause: error,
      });
    }
    header = concatenate(chunks, Math.min(total, HEADER_PROBE_BYTES));
  }
  const layout = readLayout(header, path);
  const [nx, ny, nz] = layout.dims;
  return {
    version: layout.version,
    datatype: layout.datatype,
    bytesPerVoxel: layout.bytesPerVoxel,
    dims: layout.dims,
    nVolumes: layout.nVolumes,
    nVoxels: nx * ny * nz,
    compressed,
  };
}

/**
 * The voxel-to-world affine (4 x 4 rows, in mm) that a NIfTI geometry defines: the sform when
 * sformCode > 0, else the qform when qformCode > 0, else diag(pixdim[1..3]) ("method 1"; a pixdim
 * that is 0 or not finite counts as 1, as in nifti1_io.c).
 * Spatial units in `xyztUnits` (metres, micrometres) are converted to mm; unknown units are mm.
 */
export function niftiAffine(geometry: NiftiGeometry): number[][] {
  const scale = spatialUnitToMm(geometry.xyztUnits);
  let rows: number[][];
  if (geometry.sformCode > 0) {
    rows = geometry.srow.map((row) => row.slice(0, 4));
  } else if (geometry.qformCode > 0) {
    rows = qformRows(geometry);
  } else {
    // As nifti1_io.c, a pixdim that is 0 or not finite counts as 1.
    const size = (value: number | undefined) =>
      value !== undefined && Number.isFinite(value) && value !== 0 ? value : 1;
    const p = geometry.pixdim;
    rows = [
      [size(p[1]), 0, 0, 0],
      [0, size(p[2]), 0, 0],
      [0, 0, size(p[3]), 0],
    ];
  }
  return [...rows.map((row) => row.map((value) => value * scale)), [0, 0, 0, 1]];
}

/**
 * The qform's rows, from the quaternion (b, c, d; a = sqrt(1 - b² - c² - d²)), qfac = pixdim[0]
 * (negative means -1, anything else 1), pixdim[1..3] (non-positive taken as 1) and qoffset, exactly
 * as nifti_quatern_to_mat44 in nifti1_io.c.
 */
function qformRows(geometry: NiftiGeometry): number[][] {
  let [b, c, d] = geometry.quaternion;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // b, c, d describe a rotation by 180 degrees (or are slightly too long): renormalise them.
    a = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= a;
    c *= a;
    d *= a;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const p = geometry.pixdim;
  const positive = (value: number | undefined) => (value !== undefined && value > 0 ? value : 1);
  const xd = positive(p[1]);
  const yd = positive(p[2]);
  const zd = (p[0] ?? 1) < 0 ? -positive(p[3]) : positive(p[3]);
  const [qx, qy, qz] = geometry.qoffset;
  return [
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, qx],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, qy],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, qz],
  ];
}

/** mm per spatial unit of an xyzt_units value: metres 1000, micrometres 0.001, mm and unknown 1. */
function spatialUnitToMm(xyztUnits: number): number {
  switch (xyztUnits & 7) {
    case 1:
      return 1000;
    case 3:
      return 0.001;
    default:
      return 1;
  }
}

function spacingOf(geometry: NiftiGeometry): [number, number, number] {
  const scale = spatialUnitToMm(geometry.xyztUnits);
  const size = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value) && value !== 0 ? Math.abs(value) * scale : 1;
  return [size(geometry.pixdim[1]), size(geometry.pixdim[2]), size(geometry.pixdim[3])];
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads and checks the header: version and byte order from sizeof_hdr, the magic string, then the
 * fields nifti-reader-js parsed (given only the header's bytes, so that it never walks extensions).
 * Does not look at the file's length.
 */
function readLayout(bytes: Uint8Array, path: string): NiftiLayout {
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

function checkFileLength(layout: NiftiLayout, length: number, compressed: boolean, path: string): void {
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

/**
 * The geometry fields of the header. srow is read here, not from nifti-reader-js: for NIfTI-1 the
 * library exposes srow only through its `affine`, which it fills from the qform instead when
 * qform_code > sform_code.
 */
function readGeometry(bytes: Uint8Array, layout: NiftiLayout): NiftiGeometry {
  const { header, littleEndian } = layout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, layout.headerBytes);
  const srow: [number[], number[], number[]] = [[], [], []];
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 4; column++) {
      const index = row * 4 + column;
      srow[row]![column] =
        layout.version === 1
          ? view.getFloat32(280 + index * 4, littleEndian)
          : view.getFloat64(400 + index * 8, littleEndian);
    }
  }
  return {
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    quaternion: [header.quatern_b, header.quatern_c, header.quatern_d],
    qoffset: [header.qoffset_x, header.qoffset_y, header.qoffset_z],
    pixdim: header.pixDims.slice(0, 8),
    srow,
    xyztUnits: header.xyzt_units,
  };
}

/** Refuses a transform that is in use (code > 0) but holds values that are not finite. */
function checkTransform(geometry: NiftiGeometry, path: string): void {
  if (geometry.sformCode > 0) {
    if (!geometry.srow.flat().every(Number.isFinite)) {
      throw new ImageFileError(
        path,
        `sform_code is ${geometry.sformCode} but srow holds a value that is not finite: ${JSON.stringify(geometry.srow)}`,
      );
    }
  } else if (geometry.qformCode > 0) {
    // pixdim needs no check: the qform takes a pixdim that is not positive (or NaN) as 1.
    if (![...geometry.quaternion, ...geometry.qoffset].every(Number.isFinite)) {
      throw new ImageFileError(
        path,
        `qform_code is ${geometry.qformCode} but the quaternion or qoffset holds a value that is not finite: ` +
          `${JSON.stringify([...geometry.quaternion, ...geometry.qoffset])}`,
      );
    }
  }
}

/** Copies one volume out of the file into a Float32Array or Float64Array, scaled. */
function decodeVolume(
  bytes: Uint8Array,
  layout: NiftiLayout,
  volumeIndex: number,
  slope: number,
  inter: number,
): VoxelData {
  const { datatype, bytesPerVoxel } = layout;
  const nVoxels = layout.dims[0] * layout.dims[1] * layout.dims[2];
  const start = layout.voxOffset + volumeIndex * nVoxels * bytesPerVoxel;
  let raw = bytes.subarray(start, start + nVoxels * bytesPerVoxel);
  const swap = bytesPerVoxel > 1 && layout.littleEndian !== HOST_LITTLE_ENDIAN;
  if (swap || raw.byteOffset % bytesPerVoxel !== 0) {
    raw = raw.slice();
    if (swap) swapBytes(raw, bytesPerVoxel);
  }
  const values = typedView(datatype, raw, nVoxels);
  const output =
    datatype === 'int32' || datatype === 'uint32' || datatype === 'float64'
      ? new Float64Array(nVoxels)
      : new Float32Array(nVoxels);
  if (slope === 1 && inter === 0) {
    output.set(values);
  } else {
    for (let i = 0; i < nVoxels; i++) output[i] = values[i]! * slope + inter;
  }
  return output;
}

type RawValues =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

function typedView(datatype: DataType, raw: Uint8Array, length: number): RawValues {
  const { buffer, byteOffset } = raw;
  switch (datatype) {
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
    default: {
      const unreachable: never = datatype;
      throw new TypeError(`unknown datatype ${String(unreachable)}`);
    }
  }
}

/** Reverses the byte order of every `size`-byte word of `bytes`, in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let low = i, high = i + size - 1; low < high; low++, high--) {
      const byte = bytes[low]!;
      bytes[low] = bytes[high]!;
      bytes[high] = byte;
    }
  }
}

/**
 * Inflates a gzip file: with a native inflater when one is given and the header (inflated by the
 * portable inflater from the first chunk) checks out, else, or when the native one throws, with
 * the portable {@link gunzipNifti}.
 */
function inflateNifti(
  compressed: Uint8Array,
  path: string,
  inflate: ParseNiftiOptions['inflate'],
): Uint8Array {
  if (!inflate) return gunzipNifti(compressed, path);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const probe = new Gunzip((chunk) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    for (let offset = 0; total < HEADER_PROBE_BYTES && offset < compressed.length; offset += 1 << 12) {
      probe.push(compressed.subarray(offset, offset + (1 << 12)), false);
    }
  } catch {
    return gunzipNifti(compressed, path);
  }
  if (total < HEADER_PROBE_BYTES) return gunzipNifti(compressed, path);
  const limit =
    readLayout(concatenate(chunks, HEADER_PROBE_BYTES), path).requiredBytes + GZIP_TRAILING_LIMIT_BYTES;
  try {
    return inflate(compressed, limit);
  } catch {
    return gunzipNifti(compressed, path);
  }
}

/**
 * Inflates a gzip file (one or more members), checking the NIfTI header as soon as its bytes are
 * out, refusing output far beyond what the header needs, and verifying every member's CRC-32 and
 * length. fflate's one-shot gunzipSync is not used: it allocates whatever length the last four
 * bytes claim (up to 4 GiB for a truncated file) and does not check the CRC.
 */
function gunzipNifti(compressed: Uint8Array, path: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit = Number.POSITIVE_INFINITY;
  let headerChecked = false;
  const members = [{ start: 0, outputStart: 0 }];
  const inflater = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    if (!headerChecked && total >= HEADER_PROBE_BYTES) {
      headerChecked = true;
      limit =
        readLayout(concatenate(chunks, HEADER_PROBE_BYTES), path).requiredBytes + GZIP_TRAILING_LIMIT_BYTES;
    }
    if (total > limit) {
      throw new ImageFileError(
        path,
        `gzip data inflates to more than ${limit} bytes, over 1 MiB beyond the ${limit - GZIP_TRAILING_LIMIT_BYTES} bytes its NIfTI header describes`,
      );
    }
  });
  inflater.onmember = (offset) => {
    members.push({ start: offset, outputStart: total });
  };
  try {
    // Every chunk is pushed as not final, then an empty final one, so that fflate looks for
    // further gzip members after each one ends.
    for (let offset = 0; offset < compressed.length; offset += GZIP_CHUNK_BYTES) {
      inflater.push(compressed.subarray(offset, offset + GZIP_CHUNK_BYTES), false);
    }
    inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof ImageFileError) throw error;
    const message = (error as Error).message;
    if (message === 'unexpected EOF') {
      throw new ImageFileError(
        path,
        `gzip data ends early (truncated file?): the stream stops after ${total} inflated bytes`,
        { cause: error },
      );
    }
    throw new ImageFileError(path, `gzip data is corrupt (${message}) after ${total} inflated bytes`, {
      cause: error,
    });
  }
  const output = concatenate(chunks, total);
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    const next = members[i + 1];
    const end = next?.start ?? compressed.length;
    const outputEnd = next?.outputStart ?? total;
    if (end - member.start < 18) {
      throw new ImageFileError(
        path,
        `gzip data ends early (truncated file?): member ${i + 1} is ${end - member.start} bytes, less than a gzip header and trailer`,
      );
    }
    const trailer = new DataView(compressed.buffer, compressed.byteOffset + end - 8, 8);
    const expectedCrc = trailer.getUint32(0, true);
    const expectedLength = trailer.getUint32(4, true);
    const length = outputEnd - member.outputStart;
    const crc = crc32(output.subarray(member.outputStart, outputEnd));
    if (crc !== expectedCrc || length % 2 ** 32 !== expectedLength) {
      throw new ImageFileError(
        path,
        `gzip data is corrupt or truncated: member ${i + 1} inflates to ${length} bytes with CRC-32 ` +
          `${hex(crc)}, its trailer says ${expectedLength} bytes with CRC-32 ${hex(expectedCrc)}`,
      );
    }
  }
  return output;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function concatenate(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const output = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= length) break;
    const part = chunk.subarray(0, length - offset);
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as gzip uses), slicing by four bytes. */
function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(1024);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
    for (let n = 0; n < 256; n++) {
      for (let t = 1; t < 4; t++) {
        const previous = crcTable[(t - 1) * 256 + n]!;
        crcTable[t * 256 + n] = (crcTable[previous & 0xff]! ^ (previous >>> 8)) >>> 0;
      }
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  let i = 0;
  const end4 = bytes.length - (bytes.length % 4);
  for (; i < end4; i += 4) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc =
      table[768 + (crc & 0xff)]! ^
      table[512 + ((crc >>> 8) & 0xff)]! ^
      table[256 + ((crc >>> 16) & 0xff)]! ^
      table[crc >>> 24]!;
  }
  for (; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
