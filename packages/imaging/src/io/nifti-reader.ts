/**
 * Reads NIfTI-1 and NIfTI-2 single files (`.nii`, and `.nii.gz` detected by its gzip magic) from
 * bytes, in the browser or in Node: the header is checked first (nifti-header.ts), gzip data is
 * inflated and verified (nifti-gzip.ts), the geometry gives the affine and voxel size
 * (nifti-orientation.ts), and one volume's voxels are decoded here.
 */
import { type DataType, ImageFileError, type Volume, type VoxelData } from '../types.ts';
import { inflateHeader, inflateNifti, isGzip } from './nifti-gzip.ts';
import { checkFileLength, type NiftiLayout, readLayout } from './nifti-header.ts';
import { checkTransform, niftiAffine, readGeometry, spacingOf } from './nifti-orientation.ts';

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

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
  const header = compressed ? inflateHeader(start, path) : start;
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
