/**
 * Where a NIfTI image lies: the geometry fields of its header (qform, sform, pixdim, units), the
 * voxel-to-world affine they define and the voxel size, as nifti1_io.c computes them.
 */
import type { NiftiGeometry } from '../types.ts';
import { ImageFileError } from '../types.ts';
import type { NiftiLayout } from './nifti-header.ts';

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

export function spacingOf(geometry: NiftiGeometry): [number, number, number] {
  const scale = spatialUnitToMm(geometry.xyztUnits);
  const size = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value) && value !== 0 ? Math.abs(value) * scale : 1;
  return [size(geometry.pixdim[1]), size(geometry.pixdim[2]), size(geometry.pixdim[3])];
}

/**
 * The geometry fields of the header. srow is read here, not from nifti-reader-js: for NIfTI-1 the
 * library exposes srow only through its `affine`, which it fills from the qform instead when
 * qform_code > sform_code.
 */
export function readGeometry(bytes: Uint8Array, layout: NiftiLayout): NiftiGeometry {
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
export function checkTransform(geometry: NiftiGeometry, path: string): void {
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
