/**
 * The largest 6-connected component of a binary volume: a brain mask without the islands beside
 * it (how the nii2mesh reference keeps the brain and drops the two synthetic spheres added to it).
 */

/**
 * Marks the voxels of the largest face-connected (6-neighbour) component of `mask` (nonzero =
 * inside). Ties go to the component met first in voxel order.
 *
 * @param mask - nx * ny * nz values, x fastest
 * @param dims - [nx, ny, nz]
 * @returns 1 inside the largest component, 0 elsewhere (all 0 for an empty mask)
 * @throws RangeError when mask.length is not nx * ny * nz
 */
export function largestComponent(
  mask: ArrayLike<number>,
  dims: readonly [number, number, number],
): Uint8Array {
  const [nx, ny, nz] = dims;
  const nVoxels = nx * ny * nz;
  if (mask.length !== nVoxels) {
    throw new RangeError(`mask.length must be ${nx} x ${ny} x ${nz} = ${nVoxels}, got ${mask.length}`);
  }
  // 0 = outside, -1 = inside and not yet visited, c > 0 = component c.
  const component = new Int32Array(nVoxels);
  for (let i = 0; i < nVoxels; i++) if (mask[i]! !== 0) component[i] = -1;
  const queue = new Int32Array(nVoxels);
  const nxy = nx * ny;
  let best = 0;
  let bestSize = 0;
  let next = 0;
  for (let seed = 0; seed < nVoxels; seed++) {
    if (component[seed] !== -1) continue;
    next++;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    component[seed] = next;
    while (head < tail) {
      const v = queue[head++]!;
      const x = v % nx;
      const y = Math.floor(v / nx) % ny;
      const z = Math.floor(v / nxy);
      const visit = (u: number): void => {
        if (component[u] === -1) {
          component[u] = next;
          queue[tail++] = u;
        }
      };
      if (x > 0) visit(v - 1);
      if (x < nx - 1) visit(v + 1);
      if (y > 0) visit(v - nx);
      if (y < ny - 1) visit(v + nx);
      if (z > 0) visit(v - nxy);
      if (z < nz - 1) visit(v + nxy);
    }
    if (tail > bestSize) {
      bestSize = tail;
      best = next;
    }
  }
  const result = new Uint8Array(nVoxels);
  if (best > 0) for (let i = 0; i < nVoxels; i++) result[i] = component[i] === best ? 1 : 0;
  return result;
}
