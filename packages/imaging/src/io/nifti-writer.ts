/**
 * Encodes images as single-file NIfTI-1 (`n+1`), little-endian, with the input's geometry copied
 * field by field (qform and sform codes, quaternion, qoffset, pixdim including qfac, srow,
 * xyzt_units), so that FSL, SPM, ANTs, nibabel and NiiVue place the output exactly where the input
 * was. Pure and browser-safe: gzip and files are in `nifti-file.ts`. Also builds the images of a
 * label map and of class probability maps from a reference volume.
 */

import type { DataType, NiftiGeometry, Volume } from '../types.ts';
import { NIFTI_DATATYPES } from './nifti-header.ts';
import { swapBytes } from './nifti-reader.ts';

/** An image to encode as NIfTI-1. */
export interface NiftiImage {
  /** Voxel values, x fastest, then y, z, t: length nx * ny * nz (* nt). */
  data: ArrayLike<number>;
  /** [nx, ny, nz] or [nx, ny, nz, nt]; each 1 to 32767 (NIfTI-1 stores int16). */
  dims: [number, number, number] | [number, number, number, number];
  /** On-disk voxel type. Integer types require integer values within the type's range. */
  datatype: DataType;
  /** Written unchanged (numbers as float32, as NIfTI-1 stores them). */
  geometry: NiftiGeometry;
  /** intent_code, e.g. 1002 (NIFTI_INTENT_LABEL). Default 0. */
  intentCode?: number;
  /** intent_name, ASCII, at most 16 characters. Default empty. */
  intentName?: string;
  /** descrip, ASCII, at most 80 characters. Default empty. */
  description?: string;
  /** cal_min, the display range's low end. Default 0. */
  calMin?: number;
  /** cal_max, the display range's high end. Default 0 (no range). */
  calMax?: number;
}

/** NIFTI_INTENT_LABEL: voxel values are indices into a set of labels. */
export const NIFTI_INTENT_LABEL = 1002;

const HEADER_BYTES = 348;
/** Header plus the 4 extension flag bytes (all zero: no extensions). */
const VOX_OFFSET = 352;

const INTEGER_RANGES: Partial<Record<DataType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Buffers made by {@link float32VoxelsWithHeaderRoom}: their first VOX_OFFSET bytes are the header's. */
const framedBuffers = new WeakSet<ArrayBufferLike>();

/**
 * A zeroed float32 array of `n` voxels that sits in a buffer with room for the NIfTI-1 header
 * before it, so that {@link encodeNifti1} writes the header in place instead of allocating the
 * file's bytes and copying every voxel. On virtual machines first touching fresh memory costs
 * about 3 ms per MB (page faults): a 36 MB probability map made this way is touched once, not
 * twice.
 */
export function float32VoxelsWithHeaderRoom(n: number): Float32Array {
  const buffer = new ArrayBuffer(VOX_OFFSET + n * 4);
  framedBuffers.add(buffer);
  return new Float32Array(buffer, VOX_OFFSET, n);
}

/**
 * Encodes an image as a single-file NIfTI-1: sizeof_hdr 348, magic "n+1\0", vox_offset 352 (four
 * zero extension bytes), little-endian, scl_slope 1 and scl_inter 0 (values are stored as given),
 * unused dim[] entries 1, and the geometry written field by field.
 *
 * @returns the file's bytes: 352 + nVoxels * bytes-per-voxel.
 * @throws {RangeError} when dims are not 3 or 4 integers from 1 to 32767, data.length is not their
 *   product, an integer datatype gets a value that is not an integer in its range, or a text field
 *   is too long or not ASCII.
 */
export function encodeNifti1(image: NiftiImage): Uint8Array {
  const { data, dims, datatype, geometry } = image;
  const rank: number = dims.length;
  if (rank !== 3 && rank !== 4) throw new RangeError(`dims must have 3 or 4 entries, got ${rank}`);
  dims.forEach((size, i) => {
    if (!Number.isInteger(size) || size < 1 || size > 32767) {
      throw new RangeError(`dims[${i}] must be an integer from 1 to 32767 (NIfTI-1 int16), got ${size}`);
    }
  });
  const nValues = dims.reduce((product, size) => product * size, 1);
  if (data.length !== nValues) {
    throw new RangeError(`data.length must equal ${dims.join(' x ')} = ${nValues}, got ${data.length}`);
  }
  const type = NIFTI_DATATYPES[datatype];
  if (type === undefined) throw new RangeError(`unknown datatype ${String(datatype)}`);
  if (geometry.pixdim.length < 4 || geometry.pixdim.length > 8) {
    throw new RangeError(`geometry.pixdim must have 4 to 8 entries, got ${geometry.pixdim.length}`);
  }
  checkInteger('geometry.qformCode', geometry.qformCode, -32768, 32767);
  checkInteger('geometry.sformCode', geometry.sformCode, -32768, 32767);
  checkInteger('geometry.xyztUnits', geometry.xyztUnits, 0, 255);
  checkInteger('intentCode', image.intentCode ?? 0, -32768, 32767);

  // float32 voxels made with room for the header are written around in place (no copy)
  const inPlace =
    HOST_LITTLE_ENDIAN &&
    datatype === 'float32' &&
    data instanceof Float32Array &&
    data.byteOffset === VOX_OFFSET &&
    framedBuffers.has(data.buffer) &&
    data.buffer.byteLength === VOX_OFFSET + nValues * 4;
  const bytes = inPlace
    ? new Uint8Array((data as Float32Array).buffer)
    : new Uint8Array(VOX_OFFSET + nValues * type.bytes);
  if (inPlace) bytes.fill(0, 0, VOX_OFFSET);
  const view = new DataView(bytes.buffer);
  const le = true;
  view.setInt32(0, HEADER_BYTES, le);
  bytes[38] = 0x72; // regular = 'r', as nibabel writes
  view.setInt16(40, dims.length, le);
  for (let i = 1; i <= 7; i++) view.setInt16(40 + i * 2, dims[i - 1] ?? 1, le);
  view.setInt16(68, image.intentCode ?? 0, le);
  view.setInt16(70, type.code, le);
  view.setInt16(72, type.bytes * 8, le);
  for (let i = 0; i < 8; i++) view.setFloat32(76 + i * 4, geometry.pixdim[i] ?? 0, le);
  view.setFloat32(108, VOX_OFFSET, le);
  view.setFloat32(112, 1, le);
  view.setFloat32(116, 0, le);
  bytes[123] = geometry.xyztUnits;
  view.setFloat32(124, image.calMax ?? 0, le);
  view.setFloat32(128, image.calMin ?? 0, le);
  writeText(bytes, 148, 80, image.description ?? '', 'description');
  view.setInt16(252, geometry.qformCode, le);
  view.setInt16(254, geometry.sformCode, le);
  for (let i = 0; i < 3; i++) {
    view.setFloat32(256 + i * 4, geometry.quaternion[i]!, le);
    view.setFloat32(268 + i * 4, geometry.qoffset[i]!, le);
  }
  for (let row = 0; row < 3; row++) {
    const values = geometry.srow[row]!;
    if (values.length !== 4)
      throw new RangeError(`geometry.srow[${row}] must have 4 entries, got ${values.length}`);
    for (let column = 0; column < 4; column++)
      view.setFloat32(280 + (row * 4 + column) * 4, values[column]!, le);
  }
  writeText(bytes, 328, 16, image.intentName ?? '', 'intentName');
  writeText(bytes, 344, 4, 'n+1', 'magic');
  // bytes 348-351 stay zero: no extensions.

  if (!inPlace) writeVoxels(bytes.subarray(VOX_OFFSET), data, datatype, type.bytes);
  return bytes;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function writeText(bytes: Uint8Array, offset: number, size: number, text: string, name: string): void {
  if (text.length > size)
    throw new RangeError(`${name} must be at most ${size} characters, got ${text.length}`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new RangeError(`${name} must be printable ASCII, got character code ${code} at index ${i}`);
    }
    bytes[offset + i] = code;
  }
}

/** Stores values little-endian into `target` (a fresh, 8-byte aligned region), checking integers. */
function writeVoxels(target: Uint8Array, data: ArrayLike<number>, datatype: DataType, size: number): void {
  const n = data.length;
  const { buffer, byteOffset } = target;
  const range = INTEGER_RANGES[datatype];
  if (range !== undefined) {
    const [min, max] = range;
    for (let i = 0; i < n; i++) {
      const value = data[i]!;
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new RangeError(
          `data[${i}] is ${value}: ${datatype} holds integers from ${min} to ${max} (round or rescale first)`,
        );
      }
    }
  }
  let values: { set(source: ArrayLike<number>): void };
  switch (datatype) {
    case 'uint8':
      values = new Uint8Array(buffer, byteOffset, n);
      break;
    case 'int8':
      values = new Int8Array(buffer, byteOffset, n);
      break;
    case 'int16':
      values = new Int16Array(buffer, byteOffset, n);
      break;
    case 'uint16':
      values = new Uint16Array(buffer, byteOffset, n);
      break;
    case 'int32':
      values = new Int32Array(buffer, byteOffset, n);
      break;
    case 'uint32':
      values = new Uint32Array(buffer, byteOffset, n);
      break;
    case 'float32':
      values = new Float32Array(buffer, byteOffset, n);
      break;
    case 'float64':
      values = new Float64Array(buffer, byteOffset, n);
      break;
    default: {
      const unreachable: never = datatype;
      throw new RangeError(`unknown datatype ${String(unreachable)}`);
    }
  }
  values.set(data);
  if (!HOST_LITTLE_ENDIAN && size > 1) swapBytes(target, size);
}

/**
 * The image of a label map on a reference volume's grid: uint8, intent_code 1002
 * (NIFTI_INTENT_LABEL), cal_min 0 and cal_max the largest label, the reference's geometry.
 *
 * @param labels - one label per voxel of the reference, length nx * ny * nz, x fastest.
 * @throws {RangeError} when labels.length is not the reference's number of voxels.
 */
export function labelMapImage(labels: Uint8Array, reference: Volume): NiftiImage {
  const [nx, ny, nz] = reference.dims;
  const nVoxels = nx * ny * nz;
  if (labels.length !== nVoxels) {
    throw new RangeError(
      `labels.length must equal the reference's ${nx} x ${ny} x ${nz} = ${nVoxels} voxels (${reference.source.path}), got ${labels.length}`,
    );
  }
  let maxLabel = 0;
  for (let i = 0; i < nVoxels; i++) if (labels[i]! > maxLabel) maxLabel = labels[i]!;
  return {
    data: labels,
    dims: [nx, ny, nz],
    datatype: 'uint8',
    geometry: reference.geometry,
    intentCode: NIFTI_INTENT_LABEL,
    description: 'mixseg label map',
    calMin: 0,
    calMax: maxLabel,
  };
}

/**
 * The image of class probability maps on a reference volume's grid: float32, 4-D with nt =
 * nClasses, cal_min 0 and cal_max 1, the reference's geometry. The input is voxel-major (the
 * probability of class k at voxel v is probabilities[v * nClasses + k]); NIfTI stores volume k
 * contiguously, so the values are transposed.
 *
 * @throws {RangeError} when nClasses is not a positive integer or probabilities.length is not
 *   nVoxels * nClasses.
 */
export function probabilityMapsImage(
  probabilities: Float32Array,
  nClasses: number,
  reference: Volume,
): NiftiImage {
  const nVoxels = checkProbabilities(probabilities, nClasses, reference);
  const [nx, ny, nz] = reference.dims;
  const data = float32VoxelsWithHeaderRoom(nVoxels * nClasses);
  // Reads sequentially and writes nClasses sequential streams: faster than the other loop order.
  for (let v = 0; v < nVoxels; v++) {
    const row = v * nClasses;
    for (let k = 0; k < nClasses; k++) data[k * nVoxels + v] = probabilities[row + k]!;
  }
  return probabilityImage(data, [nx, ny, nz, nClasses], reference);
}

/**
 * The image of one class's probability map (3-D float32, class `classIndex`) from voxel-major
 * probabilities, as {@link probabilityMapsImage} describes.
 *
 * @throws {RangeError} as {@link probabilityMapsImage}, or when classIndex is not 0 to nClasses - 1.
 */
export function classProbabilityImage(
  probabilities: Float32Array,
  nClasses: number,
  classIndex: number,
  reference: Volume,
): NiftiImage {
  const nVoxels = checkProbabilities(probabilities, nClasses, reference);
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= nClasses) {
    throw new RangeError(`classIndex must be an integer from 0 to ${nClasses - 1}, got ${classIndex}`);
  }
  const data = float32VoxelsWithHeaderRoom(nVoxels);
  for (let v = 0; v < nVoxels; v++) data[v] = probabilities[v * nClasses + classIndex]!;
  return probabilityImage(data, [...reference.dims], reference);
}

function checkProbabilities(probabilities: Float32Array, nClasses: number, reference: Volume): number {
  if (!Number.isInteger(nClasses) || nClasses < 1) {
    throw new RangeError(`nClasses must be a positive integer, got ${nClasses}`);
  }
  const [nx, ny, nz] = reference.dims;
  const nVoxels = nx * ny * nz;
  if (probabilities.length !== nVoxels * nClasses) {
    throw new RangeError(
      `probabilities.length must equal ${nx} x ${ny} x ${nz} voxels x ${nClasses} classes = ${nVoxels * nClasses} (${reference.source.path}), got ${probabilities.length}`,
    );
  }
  return nVoxels;
}

function probabilityImage(data: Float32Array, dims: NiftiImage['dims'], reference: Volume): NiftiImage {
  return {
    data,
    dims,
    datatype: 'float32',
    geometry: reference.geometry,
    description: 'mixseg class probabilities',
    calMin: 0,
    calMax: 1,
  };
}
