/**
 * A one-channel Gaussian mixture in other units, and in another component order: the lattice its
 * bias-corrected intensities are rounded to, the model of a x + b, the components reversed (the
 * label order of T2 and PD images).
 */
import type { GaussianMixture } from '@mixseg/core';

/** Steps of the lattice one channel's bias-corrected intensities are rounded to. */
const LATTICE_STEPS = 4096;

/** A lattice of LATTICE_STEPS steps over the range of the values (undefined for constant data). */
export function latticeOf(values: ArrayLike<number>): { origin: number; step: number } | undefined {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  return high > low ? { origin: low, step: (high - low) / LATTICE_STEPS } : undefined;
}

/**
 * The one-feature model of a x + b (a > 0): means a m + b, variances a^2 s^2, precision Cholesky
 * factors u / a.
 */
export function affineModel(model: GaussianMixture, a: number, b: number): GaussianMixture {
  return {
    ...model,
    means: model.means.map((mean) => [mean[0]! * a + b]),
    covariances: model.covariances.map((covariance) => [[covariance[0]![0]! * a * a]]),
    precisionsCholesky: model.precisionsCholesky.map((factor) => [[factor[0]![0]! / a]]),
  };
}

/** The model with its components in reverse order. */
export function reverseModel(model: GaussianMixture): GaussianMixture {
  return {
    ...model,
    weights: [...model.weights].reverse(),
    means: [...model.means].reverse(),
    covariances: [...model.covariances].reverse(),
    precisionsCholesky: [...model.precisionsCholesky].reverse(),
  };
}

export function reverseColumns(matrix: Float32Array, K: number): void {
  for (let row = 0; row < matrix.length; row += K) matrix.subarray(row, row + K).reverse();
}
