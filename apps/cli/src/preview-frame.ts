/**
 * The preview's anatomical frame: a volume's voxels seen along R, A and S, whatever order they are
 * stored in (RAS, LAS, LPS, PIR...). The stored axes are permuted and flipped to the closest of the
 * world axes (nibabel's `as_closest_canonical`; an oblique affine is shown in its closest
 * orientation, without resampling), so the same brain stored in any order gives the same picture.
 */
import type { Volume } from '@mixseg/imaging/node';
import { axisCodes } from './orientation.ts';

/** How the picture's orientation is known. */
export type OrientationSource =
  /** From the NIfTI sform or qform. */
  | 'affine'
  /** A NIfTI file with neither transform: pixdim scaling, the orientation an assumption. */
  | 'unknown'
  /** A PNG or JPEG slice: drawn as the picture is stored, no anatomical directions. */
  | 'raster';

/** Canonical axis w (0 = R, 1 = A, 2 = S) in terms of the stored axes. */
export interface FrameAxis {
  /** The stored voxel axis (0 = i, 1 = j, 2 = k) along this world axis. */
  stored: number;
  /** Stored indices run against the world axis (L, P or I). */
  flip: boolean;
}

export interface AnatomicalFrame {
  /** Voxels along R, A, S. */
  dims: [number, number, number];
  /** Voxel size along R, A, S in mm (the affine's column lengths). */
  spacing: [number, number, number];
  axes: [FrameAxis, FrameAxis, FrameAxis];
  /** Stored voxel index of frame voxel (0, 0, 0), and the index step per voxel along R, A, S. */
  offset: number;
  strides: [number, number, number];
  /** The stored axis codes (`LAS`...), as `mixseg info` prints them. */
  storedCodes: string;
  source: OrientationSource;
}

const WORLD_AXIS: Record<string, [number, boolean]> = {
  R: [0, false],
  L: [0, true],
  A: [1, false],
  P: [1, true],
  S: [2, false],
  I: [2, true],
};

/** The frame of a volume, from its affine's axis codes. */
export function anatomicalFrame(volume: Volume): AnatomicalFrame {
  const raster = volume.source.format === 'png' || volume.source.format === 'jpeg';
  const transform = volume.geometry.sformCode > 0 || volume.geometry.qformCode > 0;
  const codes = axisCodes(volume.affine);
  const usable = !raster && !codes.includes('?');
  const axes: FrameAxis[] = [];
  for (let w = 0; w < 3; w++) {
    const stored = usable ? [...codes].findIndex((code) => WORLD_AXIS[code]![0] === w) : w;
    axes.push({ stored, flip: usable ? WORLD_AXIS[codes[stored]!]![1] : false });
  }
  const storedStrides = [1, volume.dims[0], volume.dims[0] * volume.dims[1]];
  let offset = 0;
  const dims = [0, 0, 0] as [number, number, number];
  const spacing = [0, 0, 0] as [number, number, number];
  const strides = [0, 0, 0] as [number, number, number];
  axes.forEach(({ stored, flip }, w) => {
    dims[w] = volume.dims[stored]!;
    const column = Math.hypot(...[0, 1, 2].map((row) => volume.affine[row]?.[stored] ?? 0));
    // a degenerate affine or pixdim of 0: 1 mm, so that the picture still has a size
    spacing[w] = column > 0 ? column : volume.spacing[stored]! > 0 ? volume.spacing[stored]! : 1;
    strides[w] = flip ? -storedStrides[stored]! : storedStrides[stored]!;
    if (flip) offset += (dims[w] - 1) * storedStrides[stored]!;
  });
  return {
    dims,
    spacing,
    axes: axes as [FrameAxis, FrameAxis, FrameAxis],
    offset,
    strides,
    storedCodes: codes,
    source: raster ? 'raster' : transform ? 'affine' : 'unknown',
  };
}

/** World coordinates (mm) of frame voxel (r, a, s), through the volume's affine. */
export function worldPosition(
  volume: Volume,
  frame: AnatomicalFrame,
  position: readonly [number, number, number],
): [number, number, number] {
  const stored = [0, 0, 0];
  frame.axes.forEach(({ stored: axis, flip }, w) => {
    stored[axis] = flip ? frame.dims[w]! - 1 - position[w]! : position[w]!;
  });
  const row = (r: number) =>
    volume.affine[r]![0]! * stored[0]! +
    volume.affine[r]![1]! * stored[1]! +
    volume.affine[r]![2]! * stored[2]! +
    volume.affine[r]![3]!;
  return [row(0), row(1), row(2)];
}
