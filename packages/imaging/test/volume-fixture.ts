import type { Volume } from '../src/index.ts';

/** A small in-memory volume with an identity-like geometry, for tests. */
export function syntheticVolume(
  data: ArrayLike<number>,
  dims: [number, number, number],
  options: { spacing?: [number, number, number]; origin?: [number, number, number]; path?: string } = {},
): Volume {
  const spacing = options.spacing ?? [1, 1, 1];
  const origin = options.origin ?? [0, 0, 0];
  const affine = [
    [spacing[0], 0, 0, origin[0]],
    [0, spacing[1], 0, origin[1]],
    [0, 0, spacing[2], origin[2]],
    [0, 0, 0, 1],
  ];
  return {
    data: Float32Array.from(data),
    dims,
    spacing,
    affine,
    geometry: {
      qformCode: 0,
      sformCode: 2,
      quaternion: [0, 0, 0],
      qoffset: origin,
      pixdim: [1, ...spacing, 0, 0, 0, 0],
      srow: [affine[0]!, affine[1]!, affine[2]!],
      xyztUnits: 2,
    },
    source: {
      path: options.path ?? 'synthetic.nii',
      format: 'nifti-1',
      datatype: 'float32',
      nVolumes: 1,
      volumeIndex: 0,
    },
  };
}
