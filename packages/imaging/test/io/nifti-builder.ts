/**
 * Builds small NIfTI-1 and NIfTI-2 files byte by byte with a DataView, independently of the
 * package's writer, so that the reader is tested against headers laid out as the standard says.
 */
import type { DataType } from '../../src/types.ts';

type Setter = (view: DataView, offset: number, value: number, littleEndian: boolean) => void;

/** Datatype code, size and DataView setter of each voxel type. */
export const STORAGE: Record<DataType, { code: number; bytes: number; set: Setter }> = {
  uint8: { code: 2, bytes: 1, set: (view, offset, value) => view.setUint8(offset, value) },
  int8: { code: 256, bytes: 1, set: (view, offset, value) => view.setInt8(offset, value) },
  int16: { code: 4, bytes: 2, set: (view, offset, value, le) => view.setInt16(offset, value, le) },
  uint16: { code: 512, bytes: 2, set: (view, offset, value, le) => view.setUint16(offset, value, le) },
  int32: { code: 8, bytes: 4, set: (view, offset, value, le) => view.setInt32(offset, value, le) },
  uint32: { code: 768, bytes: 4, set: (view, offset, value, le) => view.setUint32(offset, value, le) },
  float32: { code: 16, bytes: 4, set: (view, offset, value, le) => view.setFloat32(offset, value, le) },
  float64: { code: 64, bytes: 8, set: (view, offset, value, le) => view.setFloat64(offset, value, le) },
};

/** What to put in a hand-built file; everything but `dim` and `values` has a plain default. */
export interface SyntheticNifti {
  /** 1 (348-byte header, default) or 2 (540-byte header). */
  version?: 1 | 2;
  /** Default true. */
  littleEndian?: boolean;
  /** Default 'int16'. */
  datatype?: DataType;
  /** dim[0], dim[1], ...; entries not given are 1. */
  dim: number[];
  /** Stored (unscaled) voxel values, in file order. */
  values: readonly number[];
  /** pixdim[0..7]; default [1, 1, 1, 1, 0, 0, 0, 0]. */
  pixdim?: number[];
  /** Default 352 (NIfTI-1) or 544 (NIfTI-2). */
  voxOffset?: number;
  sclSlope?: number;
  sclInter?: number;
  /** Default 2 (mm). */
  xyztUnits?: number;
  qformCode?: number;
  sformCode?: number;
  quaternion?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: [number[], number[], number[]];
  intentCode?: number;
  description?: string;
}

/** The bytes of a single-file NIfTI-1 or NIfTI-2 image laid out as `spec` says. */
export function buildNifti(spec: SyntheticNifti): Uint8Array {
  const version = spec.version ?? 1;
  const le = spec.littleEndian ?? true;
  const storage = STORAGE[spec.datatype ?? 'int16'];
  const voxOffset = spec.voxOffset ?? (version === 1 ? 352 : 544);
  const bytes = new Uint8Array(
    Math.max(voxOffset, version === 1 ? 352 : 544) + spec.values.length * storage.bytes,
  );
  const view = new DataView(bytes.buffer);
  const dim = Array.from({ length: 8 }, (_, i) => spec.dim[i] ?? 1);
  const pixdim = spec.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0];
  const quaternion = spec.quaternion ?? [0, 0, 0];
  const qoffset = spec.qoffset ?? [0, 0, 0];
  const srow = spec.srow ?? [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  const description = spec.description ?? 'built by nifti-builder.ts';
  if (version === 1) {
    view.setInt32(0, 348, le);
    put(dim, 40, 2, (at, value) => view.setInt16(at, value, le));
    view.setInt16(68, spec.intentCode ?? 0, le);
    view.setInt16(70, storage.code, le);
    view.setInt16(72, storage.bytes * 8, le);
    put(pixdim, 76, 4, (at, value) => view.setFloat32(at, value, le));
    view.setFloat32(108, voxOffset, le);
    view.setFloat32(112, spec.sclSlope ?? 1, le);
    view.setFloat32(116, spec.sclInter ?? 0, le);
    view.setUint8(123, spec.xyztUnits ?? 2);
    putText(bytes, 148, description);
    view.setInt16(252, spec.qformCode ?? 0, le);
    view.setInt16(254, spec.sformCode ?? 0, le);
    put(quaternion, 256, 4, (at, value) => view.setFloat32(at, value, le));
    put(qoffset, 268, 4, (at, value) => view.setFloat32(at, value, le));
    put(srow.flat(), 280, 4, (at, value) => view.setFloat32(at, value, le));
    putText(bytes, 344, 'n+1\0');
  } else {
    view.setInt32(0, 540, le);
    putText(bytes, 4, 'n+2\0\r\n\x1a\n');
    view.setInt16(12, storage.code, le);
    view.setInt16(14, storage.bytes * 8, le);
    put(dim, 16, 8, (at, value) => view.setBigInt64(at, BigInt(value), le));
    put(pixdim, 104, 8, (at, value) => view.setFloat64(at, value, le));
    view.setBigInt64(168, BigInt(voxOffset), le);
    view.setFloat64(176, spec.sclSlope ?? 1, le);
    view.setFloat64(184, spec.sclInter ?? 0, le);
    putText(bytes, 240, description);
    view.setInt32(344, spec.qformCode ?? 0, le);
    view.setInt32(348, spec.sformCode ?? 0, le);
    put(quaternion, 352, 8, (at, value) => view.setFloat64(at, value, le));
    put(qoffset, 376, 8, (at, value) => view.setFloat64(at, value, le));
    put(srow.flat(), 400, 8, (at, value) => view.setFloat64(at, value, le));
    view.setInt32(500, spec.xyztUnits ?? 2, le);
    view.setInt32(504, spec.intentCode ?? 0, le);
  }
  put(spec.values, voxOffset, storage.bytes, (at, value) => storage.set(view, at, value, le));
  return bytes;
}

/** Stores values[i] at byte offset + i * step. */
function put(
  values: readonly number[],
  offset: number,
  step: number,
  store: (at: number, value: number) => void,
) {
  for (let i = 0; i < values.length; i++) store(offset + i * step, values[i]!);
}

/** Stores the character codes of an ASCII string from byte `offset`. */
function putText(bytes: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
}

/** A copy of `bytes` changed by `edit` (which gets a DataView on the copy). */
export function patched(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}
