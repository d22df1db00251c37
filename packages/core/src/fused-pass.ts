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
 */
import type { Components } from './components.ts';
import { expNonPositive } from './exp.ts';
import type { IntegerBins } from './integer-bins.ts';
import { type Kernel, type KernelArguments, kernelFor } from './kernels.ts';
import type { SufficientStatistics } from './maximization-step.ts';
import { weightedLogDensities } from './prediction.ts';
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

const BLOCK = 512;
const SMALL = 1e-100;
const HUGE = 1e100;

/** Per-block working memory, allocated once per pass. */
class BlockScratch {
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
  /** BLOCK: one coordinate of U_k^T (x - mu_k) */
  readonly projection = new Float64Array(BLOCK);
  /** BLOCK: squared Mahalanobis distance */
  readonly distances = new Float64Array(BLOCK);
  /** K: scalar fallback */
  readonly logDensities: Float64Array;
  readonly fallback: Float64Array;
  readonly zeros: Float64Array;
  constructor(nComponents: number, nFeatures: number) {
    this.values = new Float64Array(nComponents * BLOCK);
    this.features = new Float64Array(nFeatures * BLOCK);
    this.centred = new Float64Array(nFeatures * BLOCK);
    this.logDensities = new Float64Array(nComponents);
    this.fallback = new Float64Array(nComponents);
    this.zeros = new Float64Array(nComponents);
  }
}

/**
 * Accumulates the normalisers of one block: the log-likelihood (with one Math.log per ~hundreds
 * of samples when unweighted), 1/s_i and w_i/s_i. Samples whose scaled densities all vanished
 * under their prior are recomputed exactly in the log domain.
 */
class Normaliser {
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
      weightedLogDensities(components, scratch.zeros, input.data, start + i, scratch.logDensities);
      if (!prior) {
        throw new RangeError(`sample ${start + i} has zero or non-finite density under every component`);
      }
      const logSum = logDomainSample(
        scratch.logDensities,
        prior,
        (start + i) * K,
        scratch.fallback,
        start + i,
      );
      for (let k = 0; k < K; k++) values[k * BLOCK + i] = scratch.fallback[k]!;
      this.weightedLog += w * (logSum - (maximaCounted ? maxima[i]! : 0) - Math.log(pSum));
      inverses[i] = 1;
      scales[i] = w;
    }
  }
}

/**
 * Exact log-domain responsibilities of one sample from its component log-densities and prior:
 * writes them (normalised) into `out` and returns log sum_k prior_k N_k(x).
 */
function logDomainSample(
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
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(out[k]! - max);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < K; k++) out[k] = out[k]! / sum;
  return max + Math.log(sum);
}

/** Multiplies the block's scaled densities by the prior and sums both over components. */
function applyPrior(prior: FloatArray, K: number, scratch: BlockScratch, start: number, n: number): void {
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
function writeResponsibilities(
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
function runKernel(
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
    if (!prior) throw new RangeError(`sample ${sample} has zero or non-finite density under every component`);
    weightedLogDensities(components, scratch.zeros, data, sample, scratch.logDensities);
    let pSum = 0;
    for (let k = 0; k < K; k++) pSum += prior[sample * K + k]!;
    const exact = logDomainSample(scratch.logDensities, prior, sample * K, out, sample) - Math.log(pSum);
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
  const { nComponents: K, means, precisionsCholesky: U } = components;
  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  const dd = D * D;
  const base = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (prior ? 0 : Math.log(components.weights[k]!));
  }
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
  const { values, maxima, sums, features: X, centred, projection: y, distances: q, weighted: r } = scratch;
  const normaliser = new Normaliser();

  for (let start = 0; start < N; start += BLOCK) {
    const n = Math.min(BLOCK, N - start);
    // the block, feature-major
    for (let d = 0; d < D; d++) {
      const o = d * BLOCK;
      for (let i = 0, at = start * D + d; i < n; i++, at += D) X[o + i] = data[at]!;
    }
    // log-densities and their maxima
    maxima.fill(-Infinity, 0, n);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      const b = base[k]!;
      if (D === 1) {
        const m = means[k]!;
        const u = U[k]!;
        for (let i = 0; i < n; i++) {
          const t = (X[i]! - m) * u;
          const v = b - 0.5 * t * t;
          values[o + i] = v;
          if (v > maxima[i]!) maxima[i] = v;
        }
        continue;
      }
      q.fill(0, 0, n);
      for (let j = 0; j < D; j++) {
        y.fill(0, 0, n);
        for (let d = 0; d <= j; d++) {
          const u = U[k * dd + d * D + j]!;
          if (u === 0) continue;
          const m = means[k * D + d]!;
          const xo = d * BLOCK;
          for (let i = 0; i < n; i++) y[i]! += (X[xo + i]! - m) * u;
        }
        for (let i = 0; i < n; i++) q[i]! += y[i]! * y[i]!;
      }
      for (let i = 0; i < n; i++) {
        const v = b - 0.5 * q[i]!;
        values[o + i] = v;
        if (v > maxima[i]!) maxima[i] = v;
      }
    }
    // scaled densities
    sums.fill(0, 0, n);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      for (let i = 0; i < n; i++) {
        const e = expNonPositive(values[o + i]! - maxima[i]!);
        values[o + i] = e;
        sums[i]! += e;
      }
    }
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

/** Scratch memory of the tabulated pass, reused across iterations. */
export interface TabulatedScratch {
  /** nBins x K scaled densities exp(a_k(v) - max_k a_k(v)) */
  densities: Float64Array;
  /** nBins: max_k a_k(v) */
  maxima: Float64Array;
  /** nBins: sum_k of the scaled densities (used without a prior) */
  sums: Float64Array;
  /** nBins x K: accumulated weighted responsibilities */
  binResponsibilities: Float64Array;
}

export function allocateTabulatedScratch(bins: IntegerBins, nComponents: number): TabulatedScratch {
  return {
    densities: new Float64Array(bins.nBins * nComponents),
    maxima: new Float64Array(bins.nBins),
    sums: new Float64Array(bins.nBins),
    binResponsibilities: new Float64Array(bins.nBins * nComponents),
  };
}

/**
 * The tabulated pass for integer-valued single-feature data: the per-component densities are
 * computed once per distinct value, and the loop over samples does only lookups and
 * multiply-adds; responsibilities are accumulated per distinct value and turned into moments at
 * the end, in O(distinct values).
 */
export function tabulatedPass(
  input: PassInput,
  bins: IntegerBins,
  tables: TabulatedScratch,
  components: Components,
  statistics: SufficientStatistics,
): void {
  const { nSamples: N, prior, responsibilities } = input;
  const { nComponents: K, means } = components;
  const { densities, binResponsibilities } = tables;
  const index = bins.index!;
  const { occupied, minimum } = bins;
  const base = new Float64Array(K);
  const u = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (prior ? 0 : Math.log(components.weights[k]!));
    u[k] = components.precisionsCholesky[k]!;
  }
  // Tabulate: K exponentials per distinct value, not per sample.
  const a = new Float64Array(K);
  const normaliser = new Normaliser();
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    const x = minimum + b;
    let maxA = -Infinity;
    for (let k = 0; k < K; k++) {
      const t = (x - means[k]!) * u[k]!;
      const value = base[k]! - 0.5 * t * t;
      a[k] = value;
      if (value > maxA) maxA = value;
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      const value = expNonPositive(a[k]! - maxA);
      densities[b * K + k] = value;
      s += value;
    }
    tables.maxima[b] = maxA;
    tables.sums[b] = s;
    normaliser.maxSum += bins.binWeights[b]! * maxA;
  }
  binResponsibilities.fill(0);

  const scratch = new BlockScratch(K, 1);
  const kernel = kernelFor({
    nComponents: K,
    nFeatures: 1,
    prior: prior !== undefined,
    weighted: input.sampleWeights !== undefined,
    responsibilities: responsibilities !== undefined,
    fullSecondMoments: false,
    kind: 'tabulated',
  });
  const { values, sums, maxima, scales } = scratch;
  if (kernel) {
    const binStatistics = { ...statistics, logLikelihoodSum: 0, sumWeights: 0 };
    runKernel(kernel, input, components, binStatistics, base, scratch, {
      index,
      densities,
      densitySums: tables.sums,
      binResponsibilities,
      maxima: tables.maxima,
    });
    normaliser.weightedLog += binStatistics.logLikelihoodSum;
    normaliser.sumWeights += binStatistics.sumWeights;
  }
  for (let start = 0; !kernel && start < N; start += BLOCK) {
    const n = Math.min(BLOCK, N - start);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      for (let i = 0; i < n; i++) values[o + i] = densities[index[start + i]! * K + k]!;
    }
    if (prior) {
      applyPrior(prior, K, scratch, start, n);
    } else {
      for (let i = 0; i < n; i++) sums[i] = tables.sums[index[start + i]!]!;
    }
    for (let i = 0; i < n; i++) maxima[i] = tables.maxima[index[start + i]!]!;
    normaliser.block(input, components, scratch, start, n, true);
    if (responsibilities) writeResponsibilities(responsibilities, K, scratch, start, n);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      for (let i = 0; i < n; i++)
        binResponsibilities[index[start + i]! * K + k]! += values[o + i]! * scales[i]!;
    }
  }

  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    const x = minimum + b;
    for (let k = 0; k < K; k++) {
      const r = binResponsibilities[b * K + k]!;
      const v = x - c[k]!;
      nk[k]! += r;
      s1[k]! += r * v;
      s2[k]! += r * v * v;
    }
  }
  statistics.logLikelihoodSum += normaliser.logLikelihoodSum;
  statistics.sumWeights += normaliser.sumWeights;
}
