/** Whether two volumes share a voxel grid, and how to say what a grid is. */
import type { Volume } from './types.ts';

/** Largest difference, in mm, between two affines that still counts as the same grid. */
export const AFFINE_TOLERANCE_MM = 1e-3;

/** Same dimensions and voxel-to-world affines equal within {@link AFFINE_TOLERANCE_MM}. */
export function sameGrid(a: Volume, b: Volume): boolean {
  if (a.dims.some((n, i) => n !== b.dims[i])) return false;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      if (Math.abs(a.affine[r]![c]! - b.affine[r]![c]!) > AFFINE_TOLERANCE_MM) return false;
    }
  }
  return true;
}

/** "182x218x182 voxels of 1x1x1 mm, affine [[-1,0,0,90],[0,1,0,-126],[0,0,1,-72]]" */
export function describeGrid(volume: Volume): string {
  const round = (v: number) => Number(v.toPrecision(6));
  const rows = volume.affine.slice(0, 3).map((row) => `[${row.map(round).join(',')}]`);
  return `${volume.dims.join('x')} voxels of ${volume.spacing.map(round).join('x')} mm, affine [${rows.join(',')}]`;
}
