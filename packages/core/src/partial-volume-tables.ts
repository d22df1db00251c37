/**
 * The per-value tables of the partial-volume mixture on integer-binned data (docs/algorithms.md,
 * sections 5.1 and 5.2, `#pv-e-step`, `#pv-fractions`): each iteration the sub-component densities are
 * tabulated once per distinct value (K + P nSteps Gaussians per value), so that the passes over
 * the samples do only lookups; and the fractions of each class per value, for the outputs.
 */
import type { IntegerBins } from './integer-bins.ts';
import { majorityWeights, type PartialVolumeMixture, type SubComponent } from './partial-volume-model.ts';

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
