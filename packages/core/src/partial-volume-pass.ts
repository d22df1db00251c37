/**
 * The E-step of the partial-volume mixture on integer-binned data (docs/algorithms.md, section 5.1,
 * `#pv-e-step`), from the per-value tables
 * (partial-volume-tables.ts): the pass over the samples does only lookups, one multiply per class
 * for the prior, and accumulates each class's responsibilities per distinct value, from which the
 * M-step (partial-volume-maximisation.ts) reads its moments in O(distinct values). Without a
 * per-sample prior the pass runs over the distinct values themselves, weighted by their counts.
 */
import type { IntegerBins } from './integer-bins.ts';
import type { PartialVolumeTables } from './partial-volume-tables.ts';
import type { FloatArray } from './types.ts';

/** What one E-step pass reports. */
export interface PassResult {
  /** sum_i w_i log p(x_i) */
  logLikelihoodSum: number;
  sumWeights: number;
  /** Weight of the samples whose most probable class changed (NaN when labels are not tracked). */
  changed: number;
}

/** Inputs of a per-sample pass. */
export interface SamplePassInput {
  nSamples: number;
  sampleWeights: FloatArray | undefined;
  /** N x K linear-domain prior (rows need not be normalised), or undefined for the class weights */
  prior: FloatArray | undefined;
  /** receives the class responsibilities (N x K), when given */
  responsibilities: Float32Array | undefined;
  /** receives each sample's inlier probability (1 - outlier responsibility), when given */
  inliers: Float32Array | undefined;
  /** each sample's most probable class at the previous pass, updated (tracks label changes) */
  labels: Uint8Array | undefined;
}

const SMALL = 1e-100;
const HUGE = 1e100;

/**
 * The per-sample E-step: for sample i at value v, e_k = pi_ik S_k(v), q_ik = e_k / sum e, the
 * inlier probability rho_i = (s / ps) / (s / ps + O(v)) (s = sum e, ps = sum pi), and
 * log p(x_i) = log(1 - eps) + M(v) + log(s / ps + O(v)). Accumulates w_i rho_i q_ik per value.
 */
export function samplePass(
  input: SamplePassInput,
  bins: IntegerBins,
  tables: PartialVolumeTables,
  K: number,
): PassResult {
  if (K === 3) return samplePassThree(input, bins, tables);
  const { nSamples: N, sampleWeights, prior, responsibilities, inliers, labels } = input;
  const index = bins.index!;
  const { scaled, maxima, outlier, classSums, classWeights } = tables;
  classSums.fill(0);
  const e = new Float64Array(K);
  let weightedLog = 0;
  let maxSum = 0;
  let logSum = 0;
  let product = 1;
  let sumWeights = 0;
  let changed = 0;
  for (let i = 0, row = 0; i < N; i++, row += K) {
    const b = index[i]!;
    const o = b * K;
    let s = 0;
    let ps = 0;
    for (let k = 0; k < K; k++) {
      const p = prior ? prior[row + k]! : classWeights[k]!;
      ps += p;
      const value = p * scaled[o + k]!;
      e[k] = value;
      s += value;
    }
    let logP: number;
    let rho: number;
    let inverse: number;
    const out = outlier[b]!;
    if (s > SMALL && s < HUGE && ps > 0 && ps < Infinity) {
      const mass = s / ps;
      const total = mass + out;
      rho = mass / total;
      inverse = 1 / s;
      logP = total;
    } else {
      // exact log domain (the prior rules out every class with a density on the tabulated scale)
      const exact = exactSample(prior, row, K, tables, b, e);
      rho = exact.rho;
      inverse = 1;
      logP = Number.NaN;
      weightedLog += (sampleWeights ? sampleWeights[i]! : 1) * exact.logP;
    }
    const w = sampleWeights ? sampleWeights[i]! : 1;
    sumWeights += w;
    if (!Number.isNaN(logP)) {
      if (w === 1) {
        maxSum += maxima[b]!;
        product *= logP;
        if (product < 1e-150 || product > 1e150) {
          logSum += Math.log(product);
          product = 1;
        }
      } else if (w > 0) {
        weightedLog += w * (maxima[b]! + Math.log(logP));
      }
    }
    const scale = w * rho * inverse;
    let best = 0;
    for (let k = 0; k < K; k++) {
      const r = e[k]! * inverse;
      if (responsibilities) responsibilities[row + k] = r;
      if (r > e[best]! * inverse) best = k;
      classSums[o + k]! += e[k]! * scale;
    }
    if (inliers) inliers[i] = rho;
    if (labels) {
      if (labels[i] !== best) {
        changed += w;
        labels[i] = best;
      }
    }
  }
  const logLikelihoodSum = maxSum + logSum + Math.log(product) + weightedLog + sumWeights * tables.logInlier;
  return { logLikelihoodSum, sumWeights, changed: labels ? changed : Number.NaN };
}

/**
 * {@link samplePass} written out for three classes (CSF, GM, WM), the common case: the same
 * arithmetic with the classes in locals, about twice as fast.
 */
function samplePassThree(input: SamplePassInput, bins: IntegerBins, tables: PartialVolumeTables): PassResult {
  const { nSamples: N, sampleWeights, prior, responsibilities, inliers, labels } = input;
  const index = bins.index!;
  const { scaled, maxima, outlier, classSums, classWeights } = tables;
  classSums.fill(0);
  const e = new Float64Array(3);
  const w0 = classWeights[0]!;
  const w1 = classWeights[1]!;
  const w2 = classWeights[2]!;
  let weightedLog = 0;
  let maxSum = 0;
  let logSum = 0;
  let product = 1;
  let sumWeights = 0;
  let changed = 0;
  for (let i = 0, row = 0; i < N; i++, row += 3) {
    const b = index[i]!;
    const o = b * 3;
    const p0 = prior ? prior[row]! : w0;
    const p1 = prior ? prior[row + 1]! : w1;
    const p2 = prior ? prior[row + 2]! : w2;
    const ps = p0 + p1 + p2;
    let e0 = p0 * scaled[o]!;
    let e1 = p1 * scaled[o + 1]!;
    let e2 = p2 * scaled[o + 2]!;
    const s = e0 + e1 + e2;
    const w = sampleWeights ? sampleWeights[i]! : 1;
    sumWeights += w;
    let rho: number;
    let inverse: number;
    if (s > SMALL && s < HUGE && ps > 0 && ps < Infinity) {
      const mass = s / ps;
      const total = mass + outlier[b]!;
      rho = mass / total;
      inverse = 1 / s;
      if (w === 1) {
        maxSum += maxima[b]!;
        product *= total;
        if (product < 1e-150 || product > 1e150) {
          logSum += Math.log(product);
          product = 1;
        }
      } else if (w > 0) {
        weightedLog += w * (maxima[b]! + Math.log(total));
      }
    } else {
      const exact = exactSample(prior, row, 3, tables, b, e);
      e0 = e[0]!;
      e1 = e[1]!;
      e2 = e[2]!;
      rho = exact.rho;
      inverse = 1;
      weightedLog += w * exact.logP;
    }
    const r0 = e0 * inverse;
    const r1 = e1 * inverse;
    const r2 = e2 * inverse;
    if (responsibilities) {
      responsibilities[row] = r0;
      responsibilities[row + 1] = r1;
      responsibilities[row + 2] = r2;
    }
    const scale = w * rho;
    classSums[o]! += r0 * scale;
    classSums[o + 1]! += r1 * scale;
    classSums[o + 2]! += r2 * scale;
    if (inliers) inliers[i] = rho;
    if (labels) {
      // the most probable class, the first on ties
      const best = r1 > r0 ? (r2 > r1 ? 2 : 1) : r2 > r0 ? 2 : 0;
      if (labels[i] !== best) {
        changed += w;
        labels[i] = best;
      }
    }
  }
  const logLikelihoodSum = maxSum + logSum + Math.log(product) + weightedLog + sumWeights * tables.logInlier;
  return { logLikelihoodSum, sumWeights, changed: labels ? changed : Number.NaN };
}

/** One sample in the log domain: writes normalised responsibilities into `e`. */
function exactSample(
  prior: FloatArray | undefined,
  row: number,
  K: number,
  tables: PartialVolumeTables,
  b: number,
  e: Float64Array,
): { logP: number; rho: number } {
  const { scaled, maxima, outlier, classWeights } = tables;
  let ps = 0;
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const p = prior ? prior[row + k]! : classWeights[k]!;
    if (!(p >= 0) || p === Infinity) {
      throw new RangeError(`prior of sample ${row / K} class ${k} is ${p}: priors must be finite and >= 0`);
    }
    ps += p;
    const value = p > 0 && scaled[b * K + k]! > 0 ? Math.log(p) + Math.log(scaled[b * K + k]!) : -Infinity;
    e[k] = value;
    if (value > max) max = value;
  }
  if (ps === 0) throw new RangeError(`prior of sample ${row / K} is zero for every class`);
  if (max === -Infinity) {
    // no class the prior allows has a density here: the sample is an outlier for the model;
    // its responsibilities follow the prior alone
    for (let k = 0; k < K; k++) {
      const p = prior ? prior[row + k]! : classWeights[k]!;
      e[k] = p / ps;
    }
    return { logP: maxima[b]! + Math.log(outlier[b]! || Number.MIN_VALUE), rho: 0 };
  }
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const value = Math.exp(e[k]! - max);
    e[k] = value;
    sum += value;
  }
  for (let k = 0; k < K; k++) e[k] = e[k]! / sum;
  const logMass = max + Math.log(sum) - Math.log(ps);
  const logOut = outlier[b]! > 0 ? Math.log(outlier[b]!) : -Infinity;
  const top = Math.max(logMass, logOut);
  const logTotal = top + Math.log(Math.exp(logMass - top) + Math.exp(logOut - top));
  return { logP: maxima[b]! + logTotal, rho: Math.exp(logMass - logTotal) };
}

/**
 * The E-step over the distinct values (no per-sample prior): the same arithmetic with the class
 * weights as the prior, each value weighted by its count.
 */
export function histogramPass(bins: IntegerBins, tables: PartialVolumeTables, K: number): PassResult {
  const { scaled, maxima, outlier, classSums, classWeights } = tables;
  classSums.fill(0);
  let ps = 0;
  for (let k = 0; k < K; k++) ps += classWeights[k]!;
  let logLikelihoodSum = 0;
  let sumWeights = 0;
  const e = new Float64Array(K);
  for (const b of bins.occupied) {
    const count = bins.binWeights[b]!;
    if (!(count > 0)) continue;
    sumWeights += count;
    let s = 0;
    for (let k = 0; k < K; k++) {
      const value = classWeights[k]! * scaled[b * K + k]!;
      e[k] = value;
      s += value;
    }
    let rho: number;
    if (s > 0) {
      const mass = s / ps;
      const total = mass + outlier[b]!;
      rho = mass / total;
      logLikelihoodSum += count * (maxima[b]! + Math.log(total));
      for (let k = 0; k < K; k++) classSums[b * K + k] = (count * rho * e[k]!) / s;
    } else {
      const exact = exactSample(undefined, 0, K, tables, b, e);
      logLikelihoodSum += count * exact.logP;
      for (let k = 0; k < K; k++) classSums[b * K + k] = count * exact.rho * e[k]!;
    }
  }
  return {
    logLikelihoodSum: logLikelihoodSum + sumWeights * tables.logInlier,
    sumWeights,
    changed: Number.NaN,
  };
}
