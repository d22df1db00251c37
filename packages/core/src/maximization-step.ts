/**
 * The M-step from sufficient statistics. Each E-step pass accumulates, per component k, the
 * weighted responsibility sum N_k and the first and second moments of (x - c_k) about a centre c_k
 * (the current mean). Centring keeps Sigma = S2/N_k - d d^T free of catastrophic cancellation when
 * intensities are large compared with their spread (MR intensities of ~1000 +- 50, say).
 */
import type { Components } from './components.ts';
import type { CovarianceType } from './types.ts';

/** Responsibility-weighted moments accumulated by one E-step pass. */
export interface SufficientStatistics {
  nComponents: number;
  nFeatures: number;
  /** K: sum_i w_i r_ik */
  responsibilitySums: Float64Array;
  /** K x D: sum_i w_i r_ik (x_i - c_k) */
  firstMoments: Float64Array;
  /** K x D x D: sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T (upper triangle, or diagonal only) */
  secondMoments: Float64Array;
  /** K x D: the centres c_k */
  centres: Float64Array;
  /** sum_i w_i log p(x_i) */
  logLikelihoodSum: number;
  /** sum_i w_i */
  sumWeights: number;
}

export function allocateStatistics(nComponents: number, nFeatures: number): SufficientStatistics {
  return {
    nComponents,
    nFeatures,
    responsibilitySums: new Float64Array(nComponents),
    firstMoments: new Float64Array(nComponents * nFeatures),
    secondMoments: new Float64Array(nComponents * nFeatures * nFeatures),
    centres: new Float64Array(nComponents * nFeatures),
    logLikelihoodSum: 0,
    sumWeights: 0,
  };
}

/** Zeroes the accumulators and sets the centres to the given means. */
export function resetStatistics(statistics: SufficientStatistics, centres: Float64Array): void {
  statistics.responsibilitySums.fill(0);
  statistics.firstMoments.fill(0);
  statistics.secondMoments.fill(0);
  statistics.centres.set(centres);
  statistics.logLikelihoodSum = 0;
  statistics.sumWeights = 0;
}

/** Whether an E-step pass must accumulate off-diagonal second moments. */
export function needsFullSecondMoments(covarianceType: CovarianceType): boolean {
  return covarianceType === 'full' || covarianceType === 'tied';
}

/** Below this fraction of the total weight a component counts as empty. */
export const EMPTY_COMPONENT_FRACTION = 1e-10;

// scikit-learn adds 10 * eps to N_k so that no division is by zero.
const NK_EPSILON = 10 * Number.EPSILON;

/**
 * Writes new weights, means and covariances into `components` (precisions are not updated here).
 * Components whose responsibility sum is below {@link EMPTY_COMPONENT_FRACTION} of the total keep
 * their mean and covariance; their indices are returned so that the caller can re-seed them.
 */
export function maximizationStep(
  statistics: SufficientStatistics,
  components: Components,
  regCovar: Float64Array,
  shrinkage = 0,
): number[] {
  const { nComponents: K, nFeatures: D } = statistics;
  const { responsibilitySums, firstMoments, secondMoments, centres } = statistics;
  const { covarianceType, means, covariances, weights } = components;
  const dd = D * D;
  const empty: number[] = [];
  let total = 0;
  for (let k = 0; k < K; k++) total += responsibilitySums[k]! + NK_EPSILON;
  const threshold = EMPTY_COMPONENT_FRACTION * statistics.sumWeights;
  const tiedSum = covarianceType === 'tied' ? new Float64Array(dd) : undefined;
  const delta = new Float64Array(D);

  for (let k = 0; k < K; k++) {
    const nk = responsibilitySums[k]! + NK_EPSILON;
    weights[k] = nk / total;
    if (responsibilitySums[k]! <= threshold) {
      empty.push(k);
      continue;
    }
    for (let d = 0; d < D; d++) {
      delta[d] = firstMoments[k * D + d]! / nk;
      means[k * D + d] = centres[k * D + d]! + delta[d]!;
    }
    const offset = k * dd;
    switch (covarianceType) {
      case 'full':
        for (let i = 0; i < D; i++) {
          for (let j = i; j < D; j++) {
            let value = secondMoments[offset + i * D + j]! / nk - delta[i]! * delta[j]!;
            if (i === j) value = Math.max(value, 0) + regCovar[i]!;
            covariances[offset + i * D + j] = value;
            covariances[offset + j * D + i] = value;
          }
        }
        break;
      case 'tied':
        for (let i = 0; i < D; i++) {
          for (let j = i; j < D; j++) {
            tiedSum![i * D + j]! += secondMoments[offset + i * D + j]! - nk * delta[i]! * delta[j]!;
          }
        }
        break;
      case 'diag':
      case 'spherical': {
        let mean = 0;
        covariances.fill(0, offset, offset + dd);
        for (let d = 0; d < D; d++) {
          const variance = Math.max(secondMoments[offset + d * D + d]! / nk - delta[d]! * delta[d]!, 0);
          covariances[offset + d * D + d] = variance + regCovar[d]!;
          mean += variance + regCovar[d]!;
        }
        if (covarianceType === 'spherical') {
          mean /= D;
          for (let d = 0; d < D; d++) covariances[offset + d * D + d] = mean;
        }
        break;
      }
      default:
        throw new TypeError(`unknown covarianceType ${covarianceType satisfies never}`);
    }
  }
  if (tiedSum) {
    for (let i = 0; i < D; i++) {
      for (let j = i; j < D; j++) {
        let value = tiedSum[i * D + j]! / total;
        if (i === j) value = Math.max(value, 0) + regCovar[i]!;
        tiedSum[i * D + j] = value;
        tiedSum[j * D + i] = value;
      }
    }
    for (let k = 0; k < K; k++) covariances.set(tiedSum, k * dd);
  } else if (shrinkage > 0) {
    shrinkTowardsPooled(components, responsibilitySums, empty, shrinkage);
  }
  return empty;
}

/**
 * Sigma_k <- (1 - lambda) Sigma_k + lambda Sigma_pooled, with Sigma_pooled the N_k-weighted mean
 * of the non-empty components' covariances (regCovar included, so the diagonal stays positive).
 * A convex combination of positive-definite matrices is positive definite.
 */
function shrinkTowardsPooled(
  components: Components,
  responsibilitySums: Float64Array,
  empty: number[],
  shrinkage: number,
): void {
  const { nComponents: K, nFeatures: D, covariances } = components;
  const dd = D * D;
  const pooled = new Float64Array(dd);
  let total = 0;
  for (let k = 0; k < K; k++) {
    if (empty.includes(k)) continue;
    const nk = responsibilitySums[k]!;
    total += nk;
    for (let e = 0; e < dd; e++) pooled[e]! += nk * covariances[k * dd + e]!;
  }
  if (!(total > 0)) return;
  for (let e = 0; e < dd; e++) pooled[e]! /= total;
  for (let k = 0; k < K; k++) {
    if (empty.includes(k)) continue;
    for (let e = 0; e < dd; e++) {
      covariances[k * dd + e] = (1 - shrinkage) * covariances[k * dd + e]! + shrinkage * pooled[e]!;
    }
  }
}
