/**
 * Atlas tissue-probability priors (docs/algorithms.md, "Spatial priors"): maps in a template
 * space (e.g. SPM's OldSeg_csf/grey/white) resampled onto the subject's grid through both images'
 * voxel-to-world affines, floored, and normalised over the classes at each voxel. The prior
 * replaces the global mixing weights; pi_k is not multiplied in again, because the maps already carry the classes'
 * proportions (multiplying would count them twice).
 */
import type { PriorUpdate, PriorUpdateContext } from '@mixseg/core';
import { determinant, inverse, Matrix } from 'ml-matrix';
import { ImageFileError, type Volume } from '../types.ts';

/** Options of {@link atlasPrior}. */
export interface AtlasPriorOptions {
  /** Each map is floored at this probability before normalising. Default 1e-4. */
  floor?: number;
  /**
   * Smallest fraction of the samples that must fall where the atlas has any probability;
   * below it the atlas is taken not to be in the image's space. Default 0.5.
   */
  minimumOverlap?: number;
}

/** The inverse of a 4 x 4 affine. @throws RangeError when it is singular */
function invertAffine(affine: number[][]): number[][] {
  const matrix = new Matrix(affine);
  if (!(Math.abs(determinant(matrix)) > 1e-12)) throw new RangeError('the affine is singular');
  return inverse(matrix).to2DArray();
}

/**
 * Resamples `source` at the centres of `target`'s voxels, through target voxel -> world (target's
 * affine) -> source voxel (inverse of source's affine), with trilinear interpolation; 0 outside
 * the source's field of view.
 * @param voxelIndices when given, only these target voxels are computed (the rest stay 0)
 * @returns one value per target voxel
 */
export function resampleVolume(
  source: Volume,
  target: Pick<Volume, 'dims' | 'affine'>,
  voxelIndices?: Uint32Array,
): Float32Array {
  const [nx, ny, nz] = target.dims;
  const [sx, sy, sz] = source.dims;
  const toSource = invertAffine(source.affine);
  const m = [0, 1, 2].map((r) =>
    [0, 1, 2, 3].map((c) => {
      let value = 0;
      for (let j = 0; j < 4; j++) value += toSource[r]![j]! * target.affine[j]![c]!;
      return value;
    }),
  );
  const out = new Float32Array(nx * ny * nz);
  const data = source.data;
  const sxy = sx * sy;
  const sample = (v: number): number => {
    const z = Math.floor(v / (nx * ny));
    const rest = v - z * nx * ny;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    const px = m[0]![0]! * x + m[0]![1]! * y + m[0]![2]! * z + m[0]![3]!;
    const py = m[1]![0]! * x + m[1]![1]! * y + m[1]![2]! * z + m[1]![3]!;
    const pz = m[2]![0]! * x + m[2]![1]! * y + m[2]![2]! * z + m[2]![3]!;
    // a 2-D source has one plane: treat z as exact
    const qz = sz === 1 ? 0 : pz;
    if (px < -0.5 || py < -0.5 || qz < -0.5 || px > sx - 0.5 || py > sy - 0.5 || qz > sz - 0.5) return 0;
    const x0 = Math.min(Math.max(Math.floor(px), 0), sx - 1);
    const y0 = Math.min(Math.max(Math.floor(py), 0), sy - 1);
    const z0 = Math.min(Math.max(Math.floor(qz), 0), sz - 1);
    const x1 = Math.min(x0 + 1, sx - 1);
    const y1 = Math.min(y0 + 1, sy - 1);
    const z1 = Math.min(z0 + 1, sz - 1);
    const tx = Math.min(Math.max(px - x0, 0), 1);
    const ty = Math.min(Math.max(py - y0, 0), 1);
    const tz = Math.min(Math.max(qz - z0, 0), 1);
    const at = (i: number, j: number, k: number) => data[i + sx * j + sxy * k]!;
    const c00 = at(x0, y0, z0) * (1 - tx) + at(x1, y0, z0) * tx;
    const c10 = at(x0, y1, z0) * (1 - tx) + at(x1, y1, z0) * tx;
    const c01 = at(x0, y0, z1) * (1 - tx) + at(x1, y0, z1) * tx;
    const c11 = at(x0, y1, z1) * (1 - tx) + at(x1, y1, z1) * tx;
    return (c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz;
  };
  if (voxelIndices) {
    for (const v of voxelIndices) out[v] = sample(v);
  } else {
    for (let v = 0; v < out.length; v++) out[v] = sample(v);
  }
  return out;
}

/**
 * The atlas prior of each sample: the K maps resampled onto `target`'s grid, floored and
 * normalised over k.
 * @param maps one probability map per class, in label order (any grid, any scaling: 0..1 or 0..255)
 * @returns N x K, sample-major, rows summing to 1
 * @throws ImageFileError naming the first map when the count is wrong, a map is 4-D, a map has
 *   negative or non-finite values, or the atlas does not overlap the samples
 */
export function atlasPrior(
  maps: Volume[],
  target: Volume,
  voxelIndices: Uint32Array,
  nClasses: number,
  options: AtlasPriorOptions = {},
): Float32Array {
  const floor = options.floor ?? 1e-4;
  const minimumOverlap = options.minimumOverlap ?? 0.5;
  if (!(floor > 0 && floor < 1)) throw new RangeError(`atlas floor must be in (0, 1), got ${floor}`);
  const first = maps[0];
  if (maps.length !== nClasses || !first) {
    throw new RangeError(
      `the atlas needs one map per class: got ${maps.length} maps for ${nClasses} classes`,
    );
  }
  const N = voxelIndices.length;
  const K = nClasses;
  const out = new Float32Array(N * K);
  const scales: number[] = [];
  for (const map of maps) {
    let max = 0;
    for (let v = 0; v < map.data.length; v++) {
      const value = map.data[v]!;
      if (!(value >= 0) || value === Infinity) {
        throw new ImageFileError(
          map.source.path,
          `atlas map has value ${value} at voxel ${v}: probabilities must be finite and >= 0`,
        );
      }
      if (value > max) max = value;
    }
    if (max === 0) throw new ImageFileError(map.source.path, 'atlas map is zero everywhere');
    // maps stored as 0..255 (or percent) are rescaled to 0..1
    scales.push(max > 1 ? 1 / max : 1);
  }
  for (let k = 0; k < K; k++) {
    const resampled = resampleVolume(maps[k]!, target, voxelIndices);
    for (let i = 0; i < N; i++) out[i * K + k] = resampled[voxelIndices[i]!]! * scales[k]!;
  }
  let covered = 0;
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += out[i * K + k]!;
    if (sum > 1e-3) covered++;
    let total = 0;
    for (let k = 0; k < K; k++) {
      const p = Math.max(out[i * K + k]!, floor);
      out[i * K + k] = p;
      total += p;
    }
    for (let k = 0; k < K; k++) out[i * K + k]! /= total;
  }
  if (covered < minimumOverlap * N) {
    throw new ImageFileError(
      first.source.path,
      `the atlas covers only ${((100 * covered) / N).toFixed(1)}% of the ${N} voxels to segment ` +
        `(at least ${(100 * minimumOverlap).toFixed(0)}% expected): is it in the image's space? ` +
        'Check both affines, or register the atlas to the image first',
    );
  }
  return out;
}

/**
 * Atropos' "Socrates" blend: log pi_ik = w log atlas_ik + (1 - w) log spatial_ik, recomputed each
 * iteration. With no spatial term the atlas alone is the prior.
 */
export function blendedPrior(
  atlas: Float32Array,
  spatial: PriorUpdate | undefined,
  weight: number,
): PriorUpdate {
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`atlasWeight must be from 0 to 1, got ${weight}`);
  return (context: PriorUpdateContext): void => {
    const { prior } = context;
    if (!spatial) {
      prior.set(atlas);
      return;
    }
    spatial(context);
    if (weight === 0) return;
    for (let e = 0; e < prior.length; e++) {
      const s = prior[e]!;
      prior[e] = weight === 1 ? atlas[e]! : atlas[e]! ** weight * s ** (1 - weight);
    }
  };
}
