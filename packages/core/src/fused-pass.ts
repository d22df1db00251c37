/**
 * One fused pass over the samples per EM iteration: component log-densities, responsibilities,
 * the log-likelihood, and the M-step's sufficient statistics, with no allocation per sample and no
 * N x K temporaries (responsibilities are written out only when the caller passes a buffer).
 *
 * The samples are visited in blocks of BLOCK, component by component: every inner loop runs over
 * the samples of a block with the component's parameters held in locals, which V8 compiles into
 * tight loops whatever K and D are (twice as fast as a per-sample loop over components). Per sample
 * the work is K exponentials (expNonPositive, a table-driven exp) and no logarithm: densities are
 * scaled by their maximum before exponentiating (log-sum-exp), and log sum_k e_k is accumulated as
 * a running product that is folded into a logarithm only when it drifts towards under- or overflow.
 * The log-densities and their normaliser are log-densities.ts's primitives (docs/algorithms.md,
 * section 1.1, `#e-step`); this module adds the
 * bookkeeping of the log-likelihood and the moments, and runs the generated kernel when there is one.
 */
import type { Components } from './components.ts';
import { type Kernel, type KernelArguments, kernelFor } from './kernels.ts';
import {
  allocateLogDensityScratch,
  BLOCK,
  componentBase,
  exactResponsibilities,
  type LogDensityScratch,
  logDensities,
  readBlock,
  scaleByMaxima,
} from './log-densities.ts';
import type { SufficientStatistics } from './maximization-step.ts';
import type { FloatArray } from './types.ts';

/** The data side of a pass. */
export interface PassInput {
  data: FloatArray;
  nSamples: number;
  nFeatures: number;
  sampleWeights?: FloatArray | undefined;
  /** Per-sample prior probabilities (N x K), replacing the mixing weights. */
  prior?: FloatArray | undefined;
  /** When given, receives the responsibilities (N x K). */
  responsibilities?: Float32Array | undefined;
  /** Accumulate off-diagonal second moments (full and tied covariances). */
  fullSecondMoments: boolean;
}

const SMALL = 1e-100;
const HUGE = 1e100;

/** Per-block working memory, allocated once per pass. */
export class BlockScratch {
  /** K x BLOCK: log-densities, then scaled densities e_ik */
  readonly values: Float64Array;
  /** BLOCK: max_k of the log-densities */
  readonly maxima = new Float64Array(BLOCK);
  /** BLOCK: sum_k e_ik */
  readonly sums = new Float64Array(BLOCK);
  /** BLOCK: sum_k prior_ik */
  readonly priorSums = new Float64Array(BLOCK);
  /** BLOCK: 1 / sum_k e_ik */
  readonly inverses = new Float64Array(BLOCK);
  /** BLOCK: w_i / sum_k e_ik */
  readonly scales = new Float64Array(BLOCK);
  /** BLOCK: weighted responsibilities of one component */
  readonly weighted = new Float64Array(BLOCK);
  /** D x BLOCK: the block's samples, feature-major */
  readonly features: Float64Array;
  /** D x BLOCK: x - c_k, feature-major */
  readonly centred: Float64Array;
  /** working memory of logDensities */
  readonly densityScratch: LogDensityScratch = allocateLogDensityScratch();
  /** K: one sample's log-densities and responsibilities in the exact fallback */
  readonly logDensities: Float64Array;
  readonly fallback: Float64Array;
  /** 1: the fallback sample's maximum */
  readonly sampleMaximum = new Float64Array(1);
  constructor(nComponents: number, nFeatures: number) {
    this.values = new Float64Array(nComponents * BLOCK);
    this.features = new Float64Array(nFeatures * BLOCK);
    this.centred = new Float64Array(nFeatures * BLOCK);
    this.logDensities = new Float64Array(nComponents);
    this.fallback = new Float64Array(nComponents);
  }
}

/**
 * The exact log-domain fallback for one sample under a prior: its responsibilities into `out`,
 * and log sum_k p_ik N_k(x_i) - log sum_k p_ik returned.
 */
function exactSample(
  input: PassInput,
  components: Components,
  scratch: BlockScratch,
  sample: number,
  out: Float64Array,
): number {
  const { data, prior } = input;
  const { nComponents: K, nFeatures: D } = components;
  if (!prior) throw new RangeError(`sample ${sample} has zero or non-finite density under every component`);
  const x = data.subarray(sample * D, (sample + 1) * D);
  const { logNormalisers } = components;
  logDensities(
    components,
    logNormalisers,
    x,
    1,
    1,
    scratch.logDensities,
    scratch.sampleMaximum,
    scratch.densityScratch,
  );
  let pSum = 0;
  for (let k = 0; k < K; k++) pSum += prior[sample * K + k]!;
  return exactResponsibilities(scratch.logDensities, prior, sample * K, out, sample) - Math.log(pSum);
}

/**
 * Accumulates the normalisers of one block: the log-likelihood (with one Math.log per ~hundreds
 * of samples when unweighted), 1/s_i and w_i/s_i. Samples whose scaled densities all vanished
 * under their prior are recomputed exactly in the log domain.
 */
export class Normaliser {
  maxSum = 0;
  weightedLog = 0;
  sumWeights = 0;
  private product = 1;
  private priorProduct = 1;
  private logSum = 0;

  /** Folds a positive factor into the running product of the unweighted log-likelihood. */
  private push(value: number, sign: 1 | -1): void {
    if (value < SMALL || value > HUGE) {
      this.logSum += sign * Math.log(value);
      return;
    }
    if (sign === 1) {
      const product = this.product * value;
      if (product < 1e-150 || product > 1e150) {
        this.logSum += Math.log(product);
        this.product = 1;
      } else {
        this.product = product;
      }
    } else {
      const product = this.priorProduct * value;
      if (product < 1e-150 || product > 1e150) {
        this.logSum -= Math.log(product);
        this.priorProduct = 1;
      } else {
        this.priorProduct = product;
      }
    }
  }

  get logLikelihoodSum(): number {
    return (
      this.maxSum + this.logSum + Math.log(this.product) - Math.log(this.priorProduct) + this.weightedLog
    );
  }

  /**
   * Normalises samples [start, start + n) of the block. `maxima` hold the log-density offsets
   * already counted elsewhere when `maximaCounted`.
   */
  block(
    input: PassInput,
    components: Components,
    scratch: BlockScratch,
    start: number,
    n: number,
    maximaCounted: boolean,
  ): void {
    const { sampleWeights, prior } = input;
    const K = components.nComponents;
    const { sums, priorSums, maxima, inverses, scales, values } = scratch;
    for (let i = 0; i < n; i++) {
      const s = sums[i]!;
      const pSum = prior ? priorSums[i]! : 1;
      const w = sampleWeights ? sampleWeights[start + i]! : 1;
      this.sumWeights += w;
      if (s > SMALL && s < Infinity && pSum > 0 && pSum < Infinity) {
        const inverse = 1 / s;
        inverses[i] = inverse;
        scales[i] = w * inverse;
        if (sampleWeights) {
          this.weightedLog +=
            w * ((maximaCounted ? 0 : maxima[i]!) + Math.log(s) - (prior ? Math.log(pSum) : 0));
        } else {
          if (!maximaCounted) this.maxSum += maxima[i]!;
          this.push(s, 1);
          if (prior) this.push(pSum, -1);
        }
        continue;
      }
      // Exact log-domain fallback for this sample.
      const logSum = exactSample(input, components, scratch, start + i, scratch.fallback);
      for (let k = 0; k < K; k++) values[k * BLOCK + i] = scratch.fallback[k]!;
      this.weightedLog += w * (logSum - (maximaCounted ? maxima[i]! : 0));
      inverses[i] = 1;
      scales[i] = w;
    }
  }
}

/** Multiplies the block's scaled densities by the prior and sums both over components. */
export function applyPrior(
  prior: FloatArray,
  K: number,
  scratch: BlockScratch,
  start: number,
  n: number,
): void {
  const { values, sums, priorSums } = scratch;
  sums.fill(0, 0, n);
  priorSums.fill(0, 0, n);
  for (let k = 0; k < K; k++) {
    const o = k * BLOCK;
    for (let i = 0, row = start * K + k; i < n; i++, row += K) {
      const p = prior[row]!;
      const e = values[o + i]! * p;
      values[o + i] = e;
      sums[i]! += e;
      priorSums[i]! += p;
    }
  }
}

/** Writes the block's responsibilities into the caller's N x K buffer. */
export function writeResponsibilities(
  out: Float32Array,
  K: number,
  scratch: BlockScratch,
  start: number,
  n: number,
): void {
  const { values, inverses } = scratch;
  for (let k = 0; k < K; k++) {
    const o = k * BLOCK;
    for (let i = 0, row = start * K + k; i < n; i++, row += K) out[row] = values[o + i]! * inverses[i]!;
  }
}

/** Whether the statistics are centred at the current means (what the generated kernels assume). */
function centredAtMeans(components: Components, statistics: SufficientStatistics): boolean {
  const { means } = components;
  const { centres } = statistics;
  for (let i = 0; i < means.length; i++) if (means[i] !== centres[i]) return false;
  return true;
}

/** Runs a generated kernel and adds its moments and log-likelihood to the statistics. */
export function runKernel(
  kernel: Kernel,
  input: PassInput,
  components: Components,
  statistics: SufficientStatistics,
  base: Float64Array,
  scratch: BlockScratch,
  tabulated: Partial<KernelArguments> & { maxima?: Float64Array },
): void {
  const { nComponents: K, nFeatures: D } = components;
  const { data, prior } = input;
  const parameters = new Float64Array(K + K * D + K * D * D);
  parameters.set(base, 0);
  parameters.set(components.means, K);
  parameters.set(components.precisionsCholesky, K + K * D);
  const moments = new Float64Array(K + K * D + K * D * D);
  const fallback = (sample: number, out: Float64Array): number => {
    const exact = exactSample(input, components, scratch, sample, out);
    return tabulated.maxima ? exact - tabulated.maxima[tabulated.index![sample]!]! : exact;
  };
  const [counted, products, sumWeights] = kernel({
    data,
    nSamples: input.nSamples,
    sampleWeights: input.sampleWeights,
    prior,
    responsibilities: input.responsibilities,
    parameters,
    moments,
    fallback,
    ...tabulated,
  });
  const { responsibilitySums, firstMoments, secondMoments } = statistics;
  for (let k = 0; k < K; k++) responsibilitySums[k]! += moments[k]!;
  for (let i = 0; i < K * D; i++) firstMoments[i]! += moments[K + i]!;
  for (let i = 0; i < K * D * D; i++) secondMoments[i]! += moments[K + K * D + i]!;
  statistics.logLikelihoodSum += counted + products;
  statistics.sumWeights += sumWeights;
}

/**
 * The direct fused pass: any number of features. Statistics must have been reset (centres set)
 * by the caller; they are accumulated here.
 */
export function directPass(input: PassInput, components: Components, statistics: SufficientStatistics): void {
  const { data, nSamples: N, nFeatures: D, prior, responsibilities, fullSecondMoments } = input;
  const { nComponents: K } = components;
  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  const dd = D * D;
  const base = componentBase(components, !prior);
  const scratch = new BlockScratch(K, D);
  const kernel = centredAtMeans(components, statistics)
    ? kernelFor({
        nComponents: K,
        nFeatures: D,
        prior: prior !== undefined,
        weighted: input.sampleWeights !== undefined,
        responsibilities: responsibilities !== undefined,
        fullSecondMoments,
        kind: 'direct',
      })
    : undefined;
  if (kernel) {
    runKernel(kernel, input, components, statistics, base, scratch, {});
    return;
  }
  const { values, maxima, sums, features: X, centred, weighted: r } = scratch;
  const normaliser = new Normaliser();

  for (let start = 0; start < N; start += BLOCK) {
    const n = Math.min(BLOCK, N - start);
    readBlock(data, D, start, n, X);
    logDensities(components, base, X, BLOCK, n, values, maxima, scratch.densityScratch);
    scaleByMaxima(values, maxima, K, BLOCK, n, values, sums);
    if (prior) applyPrior(prior, K, scratch, start, n);
    normaliser.block(input, components, scratch, start, n, false);
    if (responsibilities) writeResponsibilities(responsibilities, K, scratch, start, n);
    // sufficient statistics
    const { scales } = scratch;
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const value = values[o + i]! * scales[i]!;
        r[i] = value;
        sum += value;
      }
      nk[k]! += sum;
      for (let p = 0; p < D; p++) {
        const centre = c[k * D + p]!;
        const xo = p * BLOCK;
        let first = 0;
        for (let i = 0; i < n; i++) {
          const v = X[xo + i]! - centre;
          centred[xo + i] = v;
          first += r[i]! * v;
        }
        s1[k * D + p]! += first;
      }
      for (let p = 0; p < D; p++) {
        const po = p * BLOCK;
        const end = fullSecondMoments ? D : p + 1;
        for (let t = p; t < end; t++) {
          const to = t * BLOCK;
          let second = 0;
          for (let i = 0; i < n; i++) second += r[i]! * centred[po + i]! * centred[to + i]!;
          s2[k * dd + p * D + t]! += second;
        }
      }
    }
  }
  statistics.logLikelihoodSum += normaliser.logLikelihoodSum;
  statistics.sumWeights += normaliser.sumWeights;
}
