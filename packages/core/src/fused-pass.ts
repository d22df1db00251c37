/**
 * One fused pass over the samples per EM iteration: component log-densities, responsibilities,
 * the log-likelihood, and the M-step's sufficient statistics, with no allocation per sample and no
 * N x K temporaries (responsibilities are written out only when the caller passes a buffer).
 *
 * Per sample the work is K - 1 calls of Math.exp and no logarithm: densities are scaled by their
 * maximum before exponentiating (log-sum-exp), and log sum_k e_k is accumulated as a running
 * product that is folded into a logarithm only when it drifts towards under- or overflow.
 */
import type { Components } from './components.ts';
import type { IntegerBins } from './integer-bins.ts';
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

/**
 * Accumulates a sum of logarithms of positive factors with one Math.log per ~hundreds of
 * factors. Factors outside [1e-100, 1e100] are logged directly.
 */
class LogProduct {
  private product = 1;
  private logSum = 0;
  push(value: number): void {
    if (value < SMALL || value > HUGE) {
      this.logSum += Math.log(value);
      return;
    }
    const product = this.product * value;
    if (product < 1e-150 || product > 1e150) {
      this.logSum += Math.log(product);
      this.product = 1;
    } else {
      this.product = product;
    }
  }
  get value(): number {
    return this.logSum + Math.log(this.product);
  }
}

/**
 * Exact log-domain fallback for a sample whose prior puts all its mass on components whose scaled
 * densities underflowed. Writes normalised responsibilities into `scratch` and returns
 * log sum_k prior_k N_k(x) (not yet divided by the prior's row sum).
 */
function logDomainSample(
  logDensities: Float64Array,
  prior: FloatArray | undefined,
  row: number,
  scratch: Float64Array,
  sample: number,
): number {
  const K = scratch.length;
  if (!prior) {
    throw new RangeError(`sample ${sample} has zero or non-finite density under every component`);
  }
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const p = prior[row + k]!;
    if (!(p >= 0) || !Number.isFinite(p)) {
      throw new RangeError(
        `prior of sample ${sample} component ${k} is ${p}: priors must be finite and >= 0`,
      );
    }
    const b = p > 0 ? logDensities[k]! + Math.log(p) : -Infinity;
    scratch[k] = b;
    if (b > max) max = b;
  }
  if (max === -Infinity) {
    throw new RangeError(
      `sample ${sample} has zero prior probability under every component with non-zero density`,
    );
  }
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(scratch[k]! - max);
    scratch[k] = e;
    sum += e;
  }
  for (let k = 0; k < K; k++) scratch[k] = scratch[k]! / sum;
  return max + Math.log(sum);
}

/**
 * The direct fused pass: any number of features. Statistics must have been reset (centres set)
 * by the caller; they are accumulated here.
 */
export function directPass(input: PassInput, components: Components, statistics: SufficientStatistics): void {
  if (input.nFeatures === 1) {
    directPassUnivariate(input, components, statistics);
    return;
  }
  const {
    data,
    nSamples: N,
    nFeatures: D,
    sampleWeights,
    prior,
    responsibilities,
    fullSecondMoments,
  } = input;
  const { nComponents: K, means, precisionsCholesky: U } = components;
  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  const dd = D * D;
  const base = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (prior ? 0 : Math.log(components.weights[k]!));
  }
  const a = new Float64Array(K);
  const e = new Float64Array(K);
  const x = new Float64Array(D);
  const dx = new Float64Array(D);
  const logS = new LogProduct();
  const logP = new LogProduct();
  let maxSum = 0;
  let weightedLog = 0;
  let sumWeights = 0;

  for (let i = 0; i < N; i++) {
    const offset = i * D;
    for (let d = 0; d < D; d++) x[d] = data[offset + d]!;
    let maxA = -Infinity;
    let kMax = 0;
    for (let k = 0; k < K; k++) {
      const mk = k * D;
      const uk = k * dd;
      let q = 0;
      for (let j = 0; j < D; j++) {
        let t = 0;
        for (let d = 0; d <= j; d++) t += (x[d]! - means[mk + d]!) * U[uk + d * D + j]!;
        q += t * t;
      }
      const value = base[k]! - 0.5 * q;
      a[k] = value;
      if (value > maxA) {
        maxA = value;
        kMax = k;
      }
    }
    let s = 0;
    let pSum = 1;
    const row = i * K;
    if (prior) {
      pSum = 0;
      for (let k = 0; k < K; k++) {
        const p = prior[row + k]!;
        pSum += p;
        const value = (k === kMax ? 1 : Math.exp(a[k]! - maxA)) * p;
        e[k] = value;
        s += value;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const value = k === kMax ? 1 : Math.exp(a[k]! - maxA);
        e[k] = value;
        s += value;
      }
    }
    const w = sampleWeights ? sampleWeights[i]! : 1;
    let inverse: number;
    if (s > SMALL && s < Infinity && pSum > 0 && pSum < Infinity) {
      inverse = 1 / s;
      if (sampleWeights) {
        weightedLog += w * (maxA + Math.log(s) - (prior ? Math.log(pSum) : 0));
      } else {
        maxSum += maxA;
        logS.push(s);
        if (prior) logP.push(pSum);
      }
    } else {
      const logSum = logDomainSample(a, prior, row, e, i);
      weightedLog += w * (logSum - Math.log(pSum));
      inverse = 1;
    }
    sumWeights += w;
    const wi = w * inverse;
    for (let k = 0; k < K; k++) {
      const r = e[k]! * inverse;
      if (responsibilities) responsibilities[row + k] = r;
      const rw = e[k]! * wi;
      nk[k]! += rw;
      const mk = k * D;
      for (let d = 0; d < D; d++) {
        const v = x[d]! - c[mk + d]!;
        dx[d] = v;
        s1[mk + d]! += rw * v;
      }
      const sk = k * dd;
      if (fullSecondMoments) {
        for (let p = 0; p < D; p++) {
          const rp = rw * dx[p]!;
          for (let q = p; q < D; q++) s2[sk + p * D + q]! += rp * dx[q]!;
        }
      } else {
        for (let p = 0; p < D; p++) s2[sk + p * D + p]! += rw * dx[p]! * dx[p]!;
      }
    }
  }
  statistics.logLikelihoodSum += maxSum + logS.value - logP.value + weightedLog;
  statistics.sumWeights += sumWeights;
}

/** The direct pass specialised for one feature (scalar arithmetic, no inner feature loops). */
function directPassUnivariate(
  input: PassInput,
  components: Components,
  statistics: SufficientStatistics,
): void {
  const { data, nSamples: N, sampleWeights, prior, responsibilities } = input;
  const { nComponents: K, means } = components;
  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  const base = new Float64Array(K);
  const u = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (prior ? 0 : Math.log(components.weights[k]!));
    u[k] = components.precisionsCholesky[k]!;
  }
  const a = new Float64Array(K);
  const e = new Float64Array(K);
  const logS = new LogProduct();
  const logP = new LogProduct();
  let maxSum = 0;
  let weightedLog = 0;
  let sumWeights = 0;

  for (let i = 0; i < N; i++) {
    const x = data[i]!;
    let maxA = -Infinity;
    let kMax = 0;
    for (let k = 0; k < K; k++) {
      const y = (x - means[k]!) * u[k]!;
      const value = base[k]! - 0.5 * y * y;
      a[k] = value;
      if (value > maxA) {
        maxA = value;
        kMax = k;
      }
    }
    let s = 0;
    let pSum = 1;
    const row = i * K;
    if (prior) {
      pSum = 0;
      for (let k = 0; k < K; k++) {
        const p = prior[row + k]!;
        pSum += p;
        const value = (k === kMax ? 1 : Math.exp(a[k]! - maxA)) * p;
        e[k] = value;
        s += value;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const value = k === kMax ? 1 : Math.exp(a[k]! - maxA);
        e[k] = value;
        s += value;
      }
    }
    const w = sampleWeights ? sampleWeights[i]! : 1;
    let inverse: number;
    if (s > SMALL && s < Infinity && pSum > 0 && pSum < Infinity) {
      inverse = 1 / s;
      if (sampleWeights) {
        weightedLog += w * (maxA + Math.log(s) - (prior ? Math.log(pSum) : 0));
      } else {
        maxSum += maxA;
        logS.push(s);
        if (prior) logP.push(pSum);
      }
    } else {
      const logSum = logDomainSample(a, prior, row, e, i);
      weightedLog += w * (logSum - Math.log(pSum));
      inverse = 1;
    }
    sumWeights += w;
    const wi = w * inverse;
    for (let k = 0; k < K; k++) {
      if (responsibilities) responsibilities[row + k] = e[k]! * inverse;
      const rw = e[k]! * wi;
      const v = x - c[k]!;
      nk[k]! += rw;
      s1[k]! += rw * v;
      s2[k]! += rw * v * v;
    }
  }
  statistics.logLikelihoodSum += maxSum + logS.value - logP.value + weightedLog;
  statistics.sumWeights += sumWeights;
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
  scratch: TabulatedScratch,
  components: Components,
  statistics: SufficientStatistics,
): void {
  const { nSamples: N, sampleWeights, prior, responsibilities } = input;
  const { nComponents: K, means } = components;
  const { densities, maxima, sums, binResponsibilities } = scratch;
  const index = bins.index!;
  const { occupied, minimum } = bins;
  const base = new Float64Array(K);
  const u = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    base[k] = components.logNormalisers[k]! + (prior ? 0 : Math.log(components.weights[k]!));
    u[k] = components.precisionsCholesky[k]!;
  }
  const a = new Float64Array(K);
  const e = new Float64Array(K);
  // Tabulate: K exponentials per distinct value, not per sample.
  let maxSum = 0;
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    const x = minimum + b;
    let maxA = -Infinity;
    for (let k = 0; k < K; k++) {
      const y = (x - means[k]!) * u[k]!;
      const value = base[k]! - 0.5 * y * y;
      a[k] = value;
      if (value > maxA) maxA = value;
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      const value = Math.exp(a[k]! - maxA);
      densities[b * K + k] = value;
      s += value;
    }
    maxima[b] = maxA;
    sums[b] = s;
    maxSum += bins.binWeights[b]! * maxA;
  }
  binResponsibilities.fill(0);

  const logS = new LogProduct();
  const logP = new LogProduct();
  let weightedLog = 0;
  let sumWeights = 0;
  for (let i = 0; i < N; i++) {
    const b = index[i]!;
    const o = b * K;
    const row = i * K;
    let s = 0;
    let pSum = 1;
    if (prior) {
      pSum = 0;
      for (let k = 0; k < K; k++) {
        const p = prior[row + k]!;
        pSum += p;
        const value = densities[o + k]! * p;
        e[k] = value;
        s += value;
      }
    } else {
      for (let k = 0; k < K; k++) e[k] = densities[o + k]!;
      s = sums[b]!;
    }
    const w = sampleWeights ? sampleWeights[i]! : 1;
    let inverse: number;
    if (s > SMALL && s < Infinity && pSum > 0 && pSum < Infinity) {
      inverse = 1 / s;
      if (sampleWeights) {
        weightedLog += w * (Math.log(s) - (prior ? Math.log(pSum) : 0));
      } else {
        logS.push(s);
        if (prior) logP.push(pSum);
      }
    } else {
      const x = minimum + b;
      for (let k = 0; k < K; k++) {
        const y = (x - means[k]!) * u[k]!;
        a[k] = base[k]! - 0.5 * y * y;
      }
      // maxima[b] is already counted in maxSum: subtract it from the exact value.
      weightedLog += w * (logDomainSample(a, prior, row, e, i) - maxima[b]! - Math.log(pSum));
      inverse = 1;
    }
    sumWeights += w;
    const wi = w * inverse;
    for (let k = 0; k < K; k++) {
      if (responsibilities) responsibilities[row + k] = e[k]! * inverse;
      binResponsibilities[o + k]! += e[k]! * wi;
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
  statistics.logLikelihoodSum += maxSum + logS.value - logP.value + weightedLog;
  statistics.sumWeights += sumWeights;
}
