/**
 * Orientation codes of a voxel-to-world affine, as nibabel's `aff2axcodes` and FSL/ANTs print
 * them: for each voxel axis, the world direction (RAS+ world) it mostly points to, so `RAS` is a
 * plain neurological-convention volume and `LAS` the radiological one.
 */

const POSITIVE = ['R', 'A', 'S'] as const;
const NEGATIVE = ['L', 'P', 'I'] as const;

/**
 * Axis codes of a 4 x 4 affine (row-major): one letter per voxel axis i, j, k. Each voxel axis is
 * assigned the world axis of its largest absolute component not yet taken (so an oblique affine
 * gives its closest orientation); `?` for an axis of zero length.
 */
export function axisCodes(affine: readonly (readonly number[])[]): string {
  const taken = new Set<number>();
  let codes = '';
  for (let column = 0; column < 3; column++) {
    let best = -1;
    let bestSize = 0;
    for (let row = 0; row < 3; row++) {
      const size = Math.abs(affine[row]?.[column] ?? 0);
      if (!taken.has(row) && size > bestSize) {
        best = row;
        bestSize = size;
      }
    }
    if (best < 0) {
      codes += '?';
      continue;
    }
    taken.add(best);
    codes += (affine[best]![column]! > 0 ? POSITIVE : NEGATIVE)[best];
  }
  return codes;
}
