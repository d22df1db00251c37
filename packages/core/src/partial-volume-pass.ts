/**
 * The E-step and M-step of the partial-volume mixture on integer-binned data. The sub-component
 * densities are tabulated once per distinct value each iteration (K + P nSteps Gaussians per
 * value); the pass over the samples does only lookups, one multiply per class for the prior, and
 * accumulates each class's responsibilities per distinct value, from which the M-step reads its
 * moments in O(distinct values). Without a per-sample prior the pass runs over the distinct values
 * themselves, weighted by their counts.
 */
import type { IntegerBins } from './integer-bins.ts';
import { majorityWeights, type PartialVolumeMixture, type SubComponent } from './partial-volume-model.ts';
import type { FloatArray } from './types.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** Per-value tables of one iteration, reused across iterations. */
export interface PartialVolumeTables {
  /** nBins x K: exp(a_k(v) - M(v)), a_k the log of class k's majority density divided by W_k */
  scaled: Float64Array;
  /** nBins: M(v) */
  maxima: Float64Array;
  /** nBins: the outlier class's density on the same scale (0 without one) */
  outlier: Float64Array;
  /** nOccupied x C: share of each sub-component in its majority class's density at the value */
  shares: Float64Array;
  /** nBins x K: accumulated (weight x inlier probability x responsibility) per value and class */
  classSums: Float64Array;
  /** K: W_k, the weight of the sub-components whose majority is class k */
  classWeights: Float64Array;
  /** log(1 - outlier weight) */
  logInlier: number;
}

export function allocatePartialVolumeTables(bins: IntegerBins, K: number, C: number): PartialVolumeTables {
  return {
    scaled: new Float64Array(bins.nBins * K),
    maxima: new Float64Array(bins.nBins),
    outlier: new Float64Array(bins.nBins),
    shares: new Float64Array(bins.occupied.length * C),
    classSums: new Float64Array(bins.nBins * K),
    classWeights: new Float64Array(K),
    logInlier: 0,
  };
}

/**
 * Fills the tables for the current model. For each occupied value v: the log-density of every
 * sub-component, log L_k(v) = logsumexp over the sub-components whose majority is k, the shares
 * d_c(v) / L_k(v), and a_k(v) = log L_k(v) - log W_k (the class's density normalised to 1, which
 * the per-sample prior weights).
 */
export function fillTables(
  model: PartialVolumeMixture,
  subs: SubComponent[],
  bins: IntegerBins,
  tables: PartialVolumeTables,
): void {
  const K = model.nClasses;
  const C = subs.length;
  const W = majorityWeights(model, subs);
  tables.classWeights.set(W);
  const outlierWeight = model.outlier?.weight ?? 0;
  tables.logInlier = Math.log(1 - outlierWeight);
  // the outlier's density relative to the inlier mass: eps u / (1 - eps), u = 1 / (range + 1)
  const logOutlier =
    model.outlier && outlierWeight > 0
      ? Math.log(outlierWeight) - Math.log(model.outlier.high - model.outlier.low + 1) - tables.logInlier
      : -Infinity;
  const logWeights = new Float64Array(C);
  const logNorms = new Float64Array(C);
  const halfPrecisions = new Float64Array(C);
  const means = new Float64Array(C);
  const majority = new Int32Array(C);
  for (let c = 0; c < C; c++) {
    const s = subs[c]!;
    logWeights[c] = s.weight > 0 ? Math.log(s.weight) : -Infinity;
    logNorms[c] = -0.5 * (LOG_2PI + Math.log(s.variance));
    halfPrecisions[c] = 0.5 / s.variance;
    means[c] = s.mean;
    majority[c] = s.majority;
  }
  const logW = Array.from(W, (w) => (w > 0 ? Math.log(w) : -Infinity));
  const logDensity = new Float64Array(C);
  const classMax = new Float64Array(K);
  const classSum = new Float64Array(K);
  const { occupied, minimum } = bins;
  const { scaled, maxima, outlier, shares } = tables;
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    const x = minimum + b;
    classMax.fill(-Infinity);
    for (let c = 0; c < C; c++) {
      const d = x - means[c]!;
      const value = logWeights[c]! + logNorms[c]! - halfPrecisions[c]! * d * d;
      logDensity[c] = value;
      const k = majority[c]!;
      if (value > classMax[k]!) classMax[k] = value;
    }
    classSum.fill(0);
    for (let c = 0; c < C; c++) {
      const k = majority[c]!;
      if (classMax[k] === -Infinity) continue;
      const e = Math.exp(logDensity[c]! - classMax[k]!);
      shares[j * C + c] = e;
      classSum[k]! += e;
    }
    let max = logOutlier;
    for (let k = 0; k < K; k++) {
      // a_k = log L_k - log W_k
      const a = classMax[k] === -Infinity ? -Infinity : classMax[k]! + Math.log(classSum[k]!) - logW[k]!;
      classMax[k] = a;
      if (a > max) max = a;
    }
    for (let c = 0; c < C; c++) {
      const k = majority[c]!;
      shares[j * C + c] = classSum[k]! > 0 ? shares[j * C + c]! / classSum[k]! : 0;
    }
    if (max === -Infinity) {
      // no class has any density here (every weight is zero): nothing to tabulate
      maxima[b] = 0;
      outlier[b] = 0;
      for (let k = 0; k < K; k++) scaled[b * K + k] = 0;
      continue;
    }
    maxima[b] = max;
    outlier[b] = logOutlier === -Infinity ? 0 : Math.exp(logOutlier - max);
    for (let k = 0; k < K; k++)
      scaled[b * K + k] = classMax[k] === -Infinity ? 0 : Math.exp(classMax[k]! - max);
  }
}

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

/** The regularisation of the M-step. */
export interface PartialVolumeRegularisation {
  /** Shrinkage of each class's variance towards the pooled variance, in [0, 1]. */
  shrinkage: number;
  /** Added to every variance. */
  varianceFloor: number;
  /** A mixel class's weight is at most this times the smaller of its pure classes' (Infinity: free). */
  pairWeightCap: number;
  /** Conjugate (normal-inverse-gamma) prior: mean m0, precision kappa, degrees nu, scale s2. */
  parameterPrior: { mean: number; shrinkage: number; degreesOfFreedom: number; scale: number } | undefined;
}

/**
 * The M-step from the per-value class sums: each sub-component's share of its majority class gives
 * its responsibility; the pure classes' means and variances come from their own responsibilities
 * only (a mixel voxel's intensity is not a draw of either pure class), the weights from all. A
 * generalised EM step (the mixels' means depend on the pure means but do not pull them).
 * @returns the classes whose pure responsibility vanished (their parameters are kept)
 */
export function partialVolumeMaximisation(
  model: PartialVolumeMixture,
  subs: SubComponent[],
  bins: IntegerBins,
  tables: PartialVolumeTables,
  regularisation: PartialVolumeRegularisation,
): number[] {
  const K = model.nClasses;
  const C = subs.length;
  const n = new Float64Array(C);
  const first = new Float64Array(K);
  const second = new Float64Array(K);
  const centres = Float64Array.from(model.means);
  const { occupied, minimum } = bins;
  const { classSums, shares } = tables;
  const majority = subs.map((s) => s.majority);
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    for (let c = 0; c < C; c++) {
      const h = classSums[b * K + majority[c]!]!;
      if (h === 0) continue;
      const r = h * shares[j * C + c]!;
      n[c]! += r;
      if (c < K) {
        const d = minimum + b - centres[c]!;
        first[c]! += r * d;
        second[c]! += r * d * d;
      }
    }
  }
  let total = 0;
  for (let c = 0; c < C; c++) total += n[c]!;
  if (!(total > 0)) return Array.from({ length: K }, (_, k) => k);
  const inlier = 1 - (model.outlier?.weight ?? 0);
  for (let k = 0; k < K; k++) model.weights[k] = (inlier * n[k]!) / total;
  model.pairWeights.fill(0);
  for (let c = K; c < C; c++) model.pairWeights[subs[c]!.pair]! += (inlier * n[c]!) / total;
  const cap = regularisation.pairWeightCap;
  if (cap < Infinity) {
    // identifiability: a mixel class holds at most `cap` times the smaller of its pure classes;
    // the excess goes back to the two pure classes, half each
    model.pairs.forEach(([a, b], p) => {
      const limit = cap * Math.min(model.weights[a]!, model.weights[b]!);
      const excess = model.pairWeights[p]! - limit;
      if (excess > 0) {
        model.pairWeights[p] = limit;
        model.weights[a]! += excess / 2;
        model.weights[b]! += excess / 2;
      }
    });
  }

  const empty: number[] = [];
  const threshold = 1e-10 * total;
  const variances = new Float64Array(K);
  let pooled = 0;
  let pooledWeight = 0;
  for (let k = 0; k < K; k++) {
    const nk = n[k]!;
    if (nk <= threshold) {
      empty.push(k);
      continue;
    }
    const delta = first[k]! / nk;
    model.means[k] = centres[k]! + delta;
    variances[k] = Math.max(second[k]! / nk - delta * delta, 0);
    pooled += nk * variances[k]!;
    pooledWeight += nk;
  }
  pooled = pooledWeight > 0 ? pooled / pooledWeight : 0;
  const { shrinkage, varianceFloor, parameterPrior } = regularisation;
  for (let k = 0; k < K; k++) {
    if (empty.includes(k)) continue;
    const nk = n[k]!;
    let variance = (1 - shrinkage) * variances[k]! + shrinkage * pooled;
    if (parameterPrior) {
      // Fraley & Raftery (2007), one feature: the posterior mode of a normal-inverse-gamma prior
      const { mean: m0, shrinkage: kappa, degreesOfFreedom: nu, scale } = parameterPrior;
      const ybar = model.means[k]!;
      model.means[k] = (nk * ybar + kappa * m0) / (nk + kappa);
      variance = (scale + ((kappa * nk) / (nk + kappa)) * (ybar - m0) ** 2 + nk * variance) / (nu + nk + 3);
    }
    model.variances[k] = variance + varianceFloor;
  }
  return empty;
}

/**
 * Per-value fraction tables: F[v][k][j] = sum over the sub-components c of majority k of
 * share_c(v) x fraction_j(c), so that a sample's fractions are sum_k q_ik F[v][k][.].
 */
export function fractionTables(
  model: PartialVolumeMixture,
  subs: SubComponent[],
  bins: IntegerBins,
  tables: PartialVolumeTables,
): Float64Array {
  const K = model.nClasses;
  const C = subs.length;
  const out = new Float64Array(bins.nBins * K * K);
  const { occupied } = bins;
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    for (let c = 0; c < C; c++) {
      const share = tables.shares[j * C + c]!;
      if (share === 0) continue;
      const s = subs[c]!;
      const o = (b * K + s.majority) * K;
      for (let f = 0; f < K; f++) out[o + f]! += share * s.fractions[f]!;
    }
    // a class with no density here (weight 0): its own fraction
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let f = 0; f < K; f++) sum += out[(b * K + k) * K + f]!;
      if (sum === 0) out[(b * K + k) * K + k] = 1;
    }
  }
  return out;
}
