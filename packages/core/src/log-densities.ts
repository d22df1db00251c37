/**
 * The E-step's two primitives (docs/algorithms.md, section 1.1, "E-step and the log-sum-exp
 * normaliser", `#e-step`),
 * written once and used by every pass: the fused blocked loops, the tabulated pass, prediction, and
 * the exact log-domain fallback. The generated kernels (kernels.ts) are these two functions
 * unrolled for one (K, D), and are tested against them.
 *
 * - {@link logDensities}: a_ik = base_k - 1/2 |U_k^T (x_i - mu_k)|^2 for a block of samples, where
 *   base_k = log pi_k + log det U_k - D/2 log 2 pi (or without log pi_k under a per-sample prior).
 * - {@link scaleByMaxima}: the normaliser, log-sum-exp with its logarithm deferred:
 *   e_ik = exp(a_ik - m_i), s_i = sum_k e_ik, so that log sum_k exp(a_ik) = m_i + log s_i and the
 *   responsibilities are e_ik / s_i. The passes fold log s_i into a running product; prediction
 *   takes the logarithm per sample.
 * - {@link exactResponsibilities}: the same normaliser on one sample in the log domain, with the
 *   prior added as log p_k: the fallback for samples whose scaled densities all vanish under
 *   their prior.
 */
import type { Components } from './components.ts';
import { expNonPositive } from './exp.ts';
import type { FloatArray } from './types.ts';

/** Samples per block of the blocked loops. */
export const BLOCK = 512;

/** Working memory of {@link logDensities}: two arrays of at least the block's length. */
export interface LogDensityScratch {
  /** one coordinate of U_k^T (x - mu_k) per sample */
  projection: Float64Array;
  /** squared Mahalanobis distance per sample */
  distances: Float64Array;
}

export function allocateLogDensityScratch(length = BLOCK): LogDensityScratch {
  return { projection: new Float64Array(length), distances: new Float64Array(length) };
}

/** base_k = log-normaliser_k + log pi_k, or the log-normaliser alone (under a per-sample prior). */
export function componentBase(components: Components, mixingWeights: boolean): Float64Array {
  const K = components.nComponents;
  const base = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (mixingWeights ? Math.log(components.weights[k]!) : 0);
  }
  return base;
}

/** Copies samples [start, start + n) of a row-major matrix into `block`, feature-major (stride BLOCK). */
export function readBlock(data: FloatArray, D: number, start: number, n: number, block: Float64Array): void {
  for (let d = 0; d < D; d++) {
    const o = d * BLOCK;
    for (let i = 0, at = start * D + d; i < n; i++, at += D) block[o + i] = data[at]!;
  }
}

/**
 * Log-densities of n samples under every component, and their maxima over the components.
 *
 * @param base K: log pi_k + log-normaliser_k (or the log-normaliser alone under a prior)
 * @param features the samples feature-major: feature d of sample i at `features[d * stride + i]`
 *   (one sample of a row-major matrix is a block of one with stride 1)
 * @param out receives a_ik at `out[k * stride + i]`
 * @param maxima receives max_k a_ik at `maxima[i]`
 */
export function logDensities(
  components: Components,
  base: Float64Array,
  features: FloatArray,
  stride: number,
  n: number,
  out: Float64Array,
  maxima: Float64Array,
  scratch: LogDensityScratch,
): void {
  const { nComponents: K, nFeatures: D, means, precisionsCholesky: U } = components;
  const dd = D * D;
  const { projection: y, distances: q } = scratch;
  maxima.fill(-Infinity, 0, n);
  for (let k = 0; k < K; k++) {
    const o = k * stride;
    const b = base[k]!;
    if (D === 1) {
      const m = means[k]!;
      const u = U[k]!;
      for (let i = 0; i < n; i++) {
        const t = (features[i]! - m) * u;
        const v = b - 0.5 * t * t;
        out[o + i] = v;
        if (v > maxima[i]!) maxima[i] = v;
      }
      continue;
    }
    // y_j = sum_{d <= j} (x_d - mu_d) U_dj, q = sum_j y_j^2 (U is upper triangular)
    q.fill(0, 0, n);
    for (let j = 0; j < D; j++) {
      y.fill(0, 0, n);
      for (let d = 0; d <= j; d++) {
        const u = U[k * dd + d * D + j]!;
        if (u === 0) continue;
        const m = means[k * D + d]!;
        const xo = d * stride;
        for (let i = 0; i < n; i++) y[i]! += (features[xo + i]! - m) * u;
      }
      for (let i = 0; i < n; i++) q[i]! += y[i]! * y[i]!;
    }
    for (let i = 0; i < n; i++) {
      const v = b - 0.5 * q[i]!;
      out[o + i] = v;
      if (v > maxima[i]!) maxima[i] = v;
    }
  }
}

/**
 * The normaliser: e_ik = exp(a_ik - m_i) into `out` (which may be `values`) and s_i = sum_k e_ik
 * into `sums`, for n samples laid out as in {@link logDensities}. log sum_k exp(a_ik) is
 * m_i + log s_i, and s_i >= 1 whenever m_i is the maximum.
 */
export function scaleByMaxima(
  values: Float64Array,
  maxima: Float64Array,
  K: number,
  stride: number,
  n: number,
  out: Float64Array,
  sums: Float64Array,
): void {
  sums.fill(0, 0, n);
  for (let k = 0; k < K; k++) {
    const o = k * stride;
    for (let i = 0; i < n; i++) {
      const e = expNonPositive(values[o + i]! - maxima[i]!);
      out[o + i] = e;
      sums[i]! += e;
    }
  }
}

/**
 * The exact log-domain normaliser of one sample under a prior: b_k = a_k + log p_k, responsibilities
 * exp(b_k - m) / sum_k exp(b_k - m) written into `out`, and log sum_k p_k N_k(x) returned (the prior
 * row not normalised).
 *
 * @param logDensities K: a_k without any mixing weight
 * @param prior N x K linear-domain prior; row `row` is the sample's
 * @param sample the sample's index, for error messages
 * @throws RangeError when the prior row is invalid or leaves the sample no probability
 */
export function exactResponsibilities(
  logDensities: Float64Array,
  prior: FloatArray,
  row: number,
  out: Float64Array,
  sample: number,
): number {
  const K = out.length;
  let max = -Infinity;
  let priorSum = 0;
  for (let k = 0; k < K; k++) priorSum += prior[row + k]!;
  if (priorSum === 0) throw new RangeError(`prior of sample ${sample} is zero for every component`);
  for (let k = 0; k < K; k++) {
    const p = prior[row + k]!;
    if (!(p >= 0) || !Number.isFinite(p)) {
      throw new RangeError(
        `prior of sample ${sample} component ${k} is ${p}: priors must be finite and >= 0`,
      );
    }
    const b = p > 0 ? logDensities[k]! + Math.log(p) : -Infinity;
    out[k] = b;
    if (b > max) max = b;
  }
  if (!(max > -Infinity) || max === Infinity) {
    throw new RangeError(`sample ${sample} has zero probability under every component its prior allows`);
  }
  const sums = new Float64Array(1);
  scaleByMaxima(out, Float64Array.of(max), K, 1, 1, out, sums);
  const sum = sums[0]!;
  for (let k = 0; k < K; k++) out[k] = out[k]! / sum;
  return max + Math.log(sum);
}
