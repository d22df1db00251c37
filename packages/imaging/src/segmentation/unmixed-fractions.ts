/**
 * Partial-volume fractions of a Gaussian mixture (several channels, or one without the
 * partial-volume model), by unmixing each voxel between its two most probable classes.
 */
import type { GaussianMixture } from '@mixseg/core';

/**
 * Partial-volume fractions by unmixing: each voxel is split between its two most probable classes
 * a and b. With m = 2 min(r_a, r_b) / (r_a + r_b) (0 when one class dominates, 1 when both are as
 * probable), f_a = (r_a + r_b) ((1 - m) [r_a >= r_b] + m t), t the least-squares fraction of a on
 * the segment from mu_b to mu_a (Mahalanobis metric of the pooled covariance), f_b the rest; the
 * other classes keep their responsibility.
 */
export function unmixedFractions(
  samples: { data: Float32Array; nSamples: number; nFeatures: number },
  model: GaussianMixture,
  responsibilities: Float32Array,
  K: number,
): Float32Array {
  const { data, nSamples: N, nFeatures: D } = samples;
  const out = Float32Array.from(responsibilities);
  if (K < 2) return out;
  // pooled precision (diagonal of the weighted covariances is enough for a direction)
  const inverseVariance = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let v = 0;
    for (let k = 0; k < K; k++) v += model.weights[k]! * model.covariances[k]![d]![d]!;
    inverseVariance[d] = v > 0 ? 1 / v : 1;
  }
  for (let i = 0, row = 0; i < N; i++, row += K) {
    let a = 0;
    let b = -1;
    for (let k = 1; k < K; k++) if (responsibilities[row + k]! > responsibilities[row + a]!) a = k;
    for (let k = 0; k < K; k++) {
      if (k === a) continue;
      if (b < 0 || responsibilities[row + k]! > responsibilities[row + b]!) b = k;
    }
    const ra = responsibilities[row + a]!;
    const rb = responsibilities[row + b]!;
    const total = ra + rb;
    if (!(total > 0)) continue;
    const mixing = (2 * Math.min(ra, rb)) / total;
    let numerator = 0;
    let denominator = 0;
    for (let d = 0; d < D; d++) {
      const direction = model.means[a]![d]! - model.means[b]![d]!;
      numerator += (data[i * D + d]! - model.means[b]![d]!) * direction * inverseVariance[d]!;
      denominator += direction * direction * inverseVariance[d]!;
    }
    const t = denominator > 0 ? Math.min(1, Math.max(0, numerator / denominator)) : 1;
    const fa = total * (1 - mixing + mixing * t);
    out[row + a] = fa;
    out[row + b] = total - fa;
  }
  return out;
}
