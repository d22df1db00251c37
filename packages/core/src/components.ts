/**
 * The working representation of a mixture inside the EM loops: flat Float64Arrays, with the
 * precision Cholesky factors and log-normalisers precomputed, converted to and from the plain
 * serialisable {@link GaussianMixture} at the boundary.
 */
import { choleskyLower, precisionCholeskyFromLower } from './linear-algebra.ts';
import type { CovarianceType, GaussianMixture } from './types.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** Flat mixture parameters: K components of D features. */
export interface Components {
  covarianceType: CovarianceType;
  nComponents: number;
  nFeatures: number;
  /** K */
  weights: Float64Array;
  /** K x D */
  means: Float64Array;
  /** K x D x D, regularisation included */
  covariances: Float64Array;
  /** K x D x D upper triangular, precision = U U^T */
  precisionsCholesky: Float64Array;
  /** K: log det(U_k) - D/2 log(2 pi), the constant part of log N(x | mu_k, Sigma_k) */
  logNormalisers: Float64Array;
}

/** Allocates zeroed components. */
export function allocateComponents(
  covarianceType: CovarianceType,
  nComponents: number,
  nFeatures: number,
): Components {
  const dd = nFeatures * nFeatures;
  return {
    covarianceType,
    nComponents,
    nFeatures,
    weights: new Float64Array(nComponents),
    means: new Float64Array(nComponents * nFeatures),
    covariances: new Float64Array(nComponents * dd),
    precisionsCholesky: new Float64Array(nComponents * dd),
    logNormalisers: new Float64Array(nComponents),
  };
}

/**
 * Recomputes precision Cholesky factors and log-normalisers from the covariances. When a
 * covariance is not positive definite, `onIndefinite(k)` is asked for a jitter to add to its
 * diagonal, and the factorisation is retried (up to 12 times, the jitter growing tenfold).
 * Throws if it never becomes positive definite.
 */
export function updatePrecisions(components: Components, jitterFor: (k: number) => number): number[] {
  const { nComponents, nFeatures, covariances } = components;
  const dd = nFeatures * nFeatures;
  const regularised: number[] = [];
  for (let k = 0; k < nComponents; k++) {
    const offset = k * dd;
    let lower = choleskyLower(covariances.subarray(offset, offset + dd), nFeatures);
    if (lower === undefined) {
      let jitter = jitterFor(k);
      for (let attempt = 0; attempt < 12 && lower === undefined; attempt++, jitter *= 10) {
        for (let d = 0; d < nFeatures; d++) covariances[offset + d * nFeatures + d]! += jitter;
        lower = choleskyLower(covariances.subarray(offset, offset + dd), nFeatures);
      }
      if (lower === undefined) {
        throw new RangeError(
          `covariance of component ${k} is not positive definite even after regularisation; ` +
            'the features may be collinear or degenerate: increase regCovar or use covarianceType "diag"',
        );
      }
      regularised.push(k);
    }
    const upper = precisionCholeskyFromLower(lower, nFeatures);
    components.precisionsCholesky.set(upper, offset);
    let logDet = 0;
    for (let d = 0; d < nFeatures; d++) logDet += Math.log(upper[d * nFeatures + d]!);
    components.logNormalisers[k] = logDet - 0.5 * nFeatures * LOG_2PI;
  }
  return regularised;
}

/** Converts flat components to the plain serialisable model. */
export function toGaussianMixture(components: Components): GaussianMixture {
  const { nComponents: K, nFeatures: D } = components;
  const matrices = (flat: Float64Array) =>
    Array.from({ length: K }, (_, k) =>
      Array.from({ length: D }, (_, i) =>
        Array.from(flat.subarray(k * D * D + i * D, k * D * D + (i + 1) * D)),
      ),
    );
  return {
    covarianceType: components.covarianceType,
    nComponents: K,
    nFeatures: D,
    weights: Array.from(components.weights),
    means: Array.from({ length: K }, (_, k) => Array.from(components.means.subarray(k * D, (k + 1) * D))),
    covariances: matrices(components.covariances),
    precisionsCholesky: matrices(components.precisionsCholesky),
  };
}

/** Converts a plain model (already validated) to flat components; precisions are recomputed. */
export function fromGaussianMixture(model: GaussianMixture): Components {
  const { nComponents: K, nFeatures: D } = model;
  const components = allocateComponents(model.covarianceType, K, D);
  for (let k = 0; k < K; k++) {
    components.weights[k] = model.weights[k]!;
    for (let i = 0; i < D; i++) {
      components.means[k * D + i] = model.means[k]![i]!;
      for (let j = 0; j < D; j++)
        components.covariances[k * D * D + i * D + j] = model.covariances[k]![i]![j]!;
    }
  }
  updatePrecisions(components, () => {
    throw new RangeError('model covariance is not positive definite');
  });
  return components;
}

/** Copies components (all arrays duplicated). */
export function cloneComponents(components: Components): Components {
  return {
    ...components,
    weights: components.weights.slice(),
    means: components.means.slice(),
    covariances: components.covariances.slice(),
    precisionsCholesky: components.precisionsCholesky.slice(),
    logNormalisers: components.logNormalisers.slice(),
  };
}

/**
 * Reorders components by ascending mean of feature 0, then feature 1, ...; ties keep their
 * order. Returns the permutation: new index j holds old component `order[j]`.
 */
export function sortComponentsByMean(components: Components): number[] {
  const { nComponents: K, nFeatures: D } = components;
  const order = Array.from({ length: K }, (_, k) => k);
  order.sort((a, b) => {
    for (let d = 0; d < D; d++) {
      const diff = components.means[a * D + d]! - components.means[b * D + d]!;
      if (diff !== 0) return diff;
    }
    return a - b;
  });
  permuteComponents(components, order);
  return order;
}

/** Applies a permutation in place: new index j takes old component `order[j]`. */
export function permuteComponents(components: Components, order: number[]): void {
  const { nFeatures: D } = components;
  const permute = (array: Float64Array, stride: number) => {
    const copy = array.slice();
    order.forEach((from, to) => {
      array.set(copy.subarray(from * stride, (from + 1) * stride), to * stride);
    });
  };
  permute(components.weights, 1);
  permute(components.means, D);
  permute(components.covariances, D * D);
  permute(components.precisionsCholesky, D * D);
  permute(components.logNormalisers, 1);
}
