/**
 * The M-step of the partial-volume mixture (docs/algorithms.md, sections 5.3 and
 * 5.4, "M-step" and "Mixel cap", `#pv-m-step`, `#mixel-cap`; the conjugate prior is section 4,
 * `#conjugate-prior`), from the class sums per distinct value that the E-step accumulated.
 */
import type { IntegerBins } from './integer-bins.ts';
import type { PartialVolumeMixture, SubComponent } from './partial-volume-model.ts';
import type { PartialVolumeTables } from './partial-volume-tables.ts';

/** The regularisation of the M-step. */
export interface PartialVolumeRegularisation {
  /** Shrinkage of each class's variance towards the pooled variance, in [0, 1]. */
  shrinkage: number;
  /** Added to every variance. */
  varianceFloor: number;
  /** A mixel class's weight is at most this times the smaller of its pure classes' (Infinity: free). */
  pairWeightCap: number;
  /** Conjugate (normal-inverse-gamma) prior: mean m0, precision kappa, degrees nu, scale s2. */
  parameterPrior: { mean: number; shrinkage: number; degreesOfFreedom: number; scale: number } | undefined;
}

/**
 * The M-step from the per-value class sums: each sub-component's share of its majority class gives
 * its responsibility; the pure classes' means and variances come from their own responsibilities
 * only (a mixel voxel's intensity is not a draw of either pure class), the weights from all. A
 * generalised EM step (the mixels' means depend on the pure means but do not pull them).
 * @returns the classes whose pure responsibility vanished (their parameters are kept)
 */
export function partialVolumeMaximisation(
  model: PartialVolumeMixture,
  subs: SubComponent[],
  bins: IntegerBins,
  tables: PartialVolumeTables,
  regularisation: PartialVolumeRegularisation,
): number[] {
  const K = model.nClasses;
  const C = subs.length;
  const n = new Float64Array(C);
  const first = new Float64Array(K);
  const second = new Float64Array(K);
  const centres = Float64Array.from(model.means);
  const { occupied, minimum } = bins;
  const { classSums, shares } = tables;
  const majority = subs.map((s) => s.majority);
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    for (let c = 0; c < C; c++) {
      const h = classSums[b * K + majority[c]!]!;
      if (h === 0) continue;
      const r = h * shares[j * C + c]!;
      n[c]! += r;
      if (c < K) {
        const d = minimum + b - centres[c]!;
        first[c]! += r * d;
        second[c]! += r * d * d;
      }
    }
  }
  let total = 0;
  for (let c = 0; c < C; c++) total += n[c]!;
  if (!(total > 0)) return Array.from({ length: K }, (_, k) => k);
  const inlier = 1 - (model.outlier?.weight ?? 0);
  for (let k = 0; k < K; k++) model.weights[k] = (inlier * n[k]!) / total;
  model.pairWeights.fill(0);
  for (let c = K; c < C; c++) model.pairWeights[subs[c]!.pair]! += (inlier * n[c]!) / total;
  const cap = regularisation.pairWeightCap;
  if (cap < Infinity) {
    // identifiability: a mixel class holds at most `cap` times the smaller of its pure classes;
    // the excess goes back to the two pure classes, half each
    model.pairs.forEach(([a, b], p) => {
      const limit = cap * Math.min(model.weights[a]!, model.weights[b]!);
      const excess = model.pairWeights[p]! - limit;
      if (excess > 0) {
        model.pairWeights[p] = limit;
        model.weights[a]! += excess / 2;
        model.weights[b]! += excess / 2;
      }
    });
  }

  const empty: number[] = [];
  const threshold = 1e-10 * total;
  const variances = new Float64Array(K);
  let pooled = 0;
  let pooledWeight = 0;
  for (let k = 0; k < K; k++) {
    const nk = n[k]!;
    if (nk <= threshold) {
      empty.push(k);
      continue;
    }
    const delta = first[k]! / nk;
    model.means[k] = centres[k]! + delta;
    variances[k] = Math.max(second[k]! / nk - delta * delta, 0);
    pooled += nk * variances[k]!;
    pooledWeight += nk;
  }
  pooled = pooledWeight > 0 ? pooled / pooledWeight : 0;
  const { shrinkage, varianceFloor, parameterPrior } = regularisation;
  for (let k = 0; k < K; k++) {
    if (empty.includes(k)) continue;
    const nk = n[k]!;
    let variance = (1 - shrinkage) * variances[k]! + shrinkage * pooled;
    if (parameterPrior) {
      // Fraley & Raftery (2007), one feature: the posterior mode of a normal-inverse-gamma prior
      const { mean: m0, shrinkage: kappa, degreesOfFreedom: nu, scale } = parameterPrior;
      const ybar = model.means[k]!;
      model.means[k] = (nk * ybar + kappa * m0) / (nk + kappa);
      variance = (scale + ((kappa * nk) / (nk + kappa)) * (ybar - m0) ** 2 + nk * variance) / (nu + nk + 3);
    }
    model.variances[k] = variance + varianceFloor;
  }
  return empty;
}
