/**
 * Shared types of @mixseg/imaging: a volume is its voxel values plus the geometry needed to put
 * results back in the same space. Voxel order is NIfTI's: x fastest, then y, then z,
 * index = x + nx * (y + ny * z).
 */

/** Voxel values after scaling (scl_slope / scl_inter applied). */
export type VoxelData = Float32Array | Float64Array;

/** On-disk voxel types. */
export type DataType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** Where a volume came from. */
export type SourceFormat = 'nifti-1' | 'nifti-2' | 'png' | 'jpeg';

/**
 * The geometry of a NIfTI header, kept so that results can be written with the input's exact
 * header geometry (both transforms, their codes, pixdim and units), as FSL, ANTs, SPM, nibabel and
 * NiiVue expect. Images read from PNG/JPEG get a plain 1 mm identity geometry.
 */
export interface NiftiGeometry {
  /** 0 unknown, 1 scanner, 2 aligned, 3 talairach, 4 MNI-152, 5 template */
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d */
  quaternion: [number, number, number];
  /** qoffset_x, qoffset_y, qoffset_z */
  qoffset: [number, number, number];
  /** pixdim[0..7]; pixdim[0] is qfac (-1 or 1) */
  pixdim: number[];
  /** srow_x, srow_y, srow_z (three rows of four) */
  srow: [number[], number[], number[]];
  /** xyzt_units byte (spatial | temporal units) */
  xyztUnits: number;
}

/** A 3-D image (a 2-D image is a volume with nz = 1). */
export interface Volume {
  /** Scaled voxel values, length nx * ny * nz, x fastest. */
  data: VoxelData;
  /** [nx, ny, nz] */
  dims: [number, number, number];
  /** Voxel size in millimetres, [sx, sy, sz] (absolute values of pixdim[1..3], converted to mm). */
  spacing: [number, number, number];
  /**
   * Voxel-to-world affine (4 x 4, row-major rows), in millimetres: the sform when its code is set
   * (as the NIfTI standard prefers), otherwise the qform, otherwise pixdim scaling.
   */
  affine: number[][];
  geometry: NiftiGeometry;
  source: {
    /** File the volume was read from ("<memory>" when parsed from bytes without a name). */
    path: string;
    format: SourceFormat;
    datatype: DataType;
    /** Number of volumes in the file (the 4th dimension) and the one read (0-based). */
    nVolumes: number;
    volumeIndex: number;
  };
}

/** Raised for a file that cannot be read or written: names the file and what is wrong. */
export class ImageFileError extends Error {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`${path}: ${reason}`, options);
    this.name = 'ImageFileError';
    this.path = path;
    this.reason = reason;
  }
}
