/**
 * World (mm) to voxel coordinates through a volume's 4 x 4 affine, for the crosshair readout: the
 * viewer reads values from its own parsed volumes, in file voxel order, whatever NiiVue's display
 * orientation.
 */
import type { Volume } from '@mixseg/imaging';

/** The voxel index (x fastest) nearest to world point `mm`, or -1 outside the volume. */
export function voxelIndexAt(volume: Volume, mm: ArrayLike<number>): number {
  const [ijk, inside] = voxelAt(volume, mm);
  if (!inside) return -1;
  const [nx, ny] = volume.dims;
  return ijk[0] + nx * (ijk[1] + ny * ijk[2]);
}

/** The nearest voxel [i, j, k] to world point `mm`, and whether it is inside the volume. */
export function voxelAt(volume: Volume, mm: ArrayLike<number>): [[number, number, number], boolean] {
  const a = volume.affine;
  const m = [0, 1, 2].map((row) => [a[row]![0]!, a[row]![1]!, a[row]![2]!]);
  const b = [0, 1, 2].map((row) => (mm[row] ?? 0) - a[row]![3]!);
  const det = determinant(m);
  const solution = [0, 1, 2].map((column) => {
    const replaced = m.map((row, r) => row.map((value, c) => (c === column ? b[r]! : value)));
    return determinant(replaced) / det;
  });
  const ijk = solution.map((value) => Math.round(value)) as [number, number, number];
  const inside = ijk.every((value, axis) => value >= 0 && value < volume.dims[axis]!);
  return [ijk, inside && Number.isFinite(det) && det !== 0];
}

function determinant(m: number[][]): number {
  const [a, b, c] = m as [number[], number[], number[]];
  return (
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)
  );
}

/**
 * The world position (mm) of voxel [i, j, k]'s centre: the affine applied to the integer indices
 * (NIfTI puts voxel centres at integer indices, so no half-voxel shift).
 */
export function voxelCentre(volume: Volume, ijk: readonly number[]): [number, number, number] {
  const a = volume.affine;
  const [i, j, k] = [ijk[0] ?? 0, ijk[1] ?? 0, ijk[2] ?? 0];
  return [0, 1, 2].map((row) => a[row]![0]! * i + a[row]![1]! * j + a[row]![2]! * k + a[row]![3]!) as [
    number,
    number,
    number,
  ];
}
