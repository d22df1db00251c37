/** Drawing samples from a fitted mixture (for tests, phantoms and sanity checks). */
import { choleskyLower } from './linear-algebra.ts';
import { createRandom } from './random.ts';
import { validateGaussianMixture } from './serialize.ts';
import type { GaussianMixture, SampleMatrix } from './types.ts';

/**
 * Draws `nSamples` samples: a component by its weight, then x = mu + L z with L the covariance's
 * Cholesky factor and z standard normal. Returns the samples and the component of each (0-based).
 * Seeded: the same model, count and seed give the same samples.
 */
export function sample(
  model: GaussianMixture,
  nSamples: number,
  seed = 0,
): { samples: SampleMatrix & { data: Float64Array }; labels: Int32Array } {
  validateGaussianMixture(model);
  if (!Number.isInteger(nSamples) || nSamples < 0) {
    throw new RangeError(`nSamples must be a non-negative integer, got ${nSamples}`);
  }
  const { nComponents: K, nFeatures: D } = model;
  const random = createRandom(seed);
  const factors = model.covariances.map((matrix, k) => {
    const lower = choleskyLower(matrix.flat(), D);
    if (!lower) throw new RangeError(`covariances[${k}] is not positive definite`);
    return lower;
  });
  const cumulative: number[] = [];
  let total = 0;
  for (const w of model.weights) {
    total += w;
    cumulative.push(total);
  }
  const data = new Float64Array(nSamples * D);
  const labels = new Int32Array(nSamples);
  const z = new Float64Array(D);
  for (let i = 0; i < nSamples; i++) {
    const u = random.nextFloat() * total;
    let k = 0;
    while (k < K - 1 && u >= cumulative[k]!) k++;
    labels[i] = k;
    for (let d = 0; d < D; d++) z[d] = random.nextNormal();
    const lower = factors[k]!;
    for (let p = 0; p < D; p++) {
      let value = model.means[k]![p]!;
      for (let q = 0; q <= p; q++) value += lower[p * D + q]! * z[q]!;
      data[i * D + p] = value;
    }
  }
  return { samples: { data, nSamples, nFeatures: D }, labels };
}
