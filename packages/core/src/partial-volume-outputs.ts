/**
 * The per-sample outputs of a fitted partial-volume mixture: class responsibilities, fractions,
 * inlier probabilities and the expected bias-free intensity and noise variance of each sample.
 */
import type { IntegerBins } from './integer-bins.ts';
import type { PartialVolumeMixture } from './partial-volume-model.ts';
import type { PartialVolumeOptions } from './partial-volume-options.ts';
import type { PartialVolumeTables } from './partial-volume-tables.ts';

type Expectations = NonNullable<PartialVolumeOptions['expectations']>;

/**
 * The outputs without a per-sample prior: class responsibilities, fractions and inlier probability
 * per distinct value (the class weights as the prior), copied to each sample through the index.
 */
export function writeBinOutputs(
  bins: IntegerBins,
  tables: PartialVolumeTables,
  fractionTable: Float64Array,
  model: PartialVolumeMixture,
  out: {
    responsibilities: Float32Array | undefined;
    fractions: Float32Array | undefined;
    inliers: Float32Array | undefined;
    expectations: Expectations | undefined;
  },
): void {
  const K = model.nClasses;
  const origin = out.expectations?.origin ?? 0;
  const unit = out.expectations?.step ?? 1;
  const { scaled, outlier, classWeights } = tables;
  const perBin = new Float32Array(bins.nBins * K);
  const perBinFractions = new Float32Array(bins.nBins * K);
  const perBinInlier = new Float32Array(bins.nBins);
  const perBinMean = new Float64Array(bins.nBins);
  const perBinVariance = new Float64Array(bins.nBins);
  let ps = 0;
  for (let k = 0; k < K; k++) ps += classWeights[k]!;
  for (const b of bins.occupied) {
    let s = 0;
    for (let k = 0; k < K; k++) s += classWeights[k]! * scaled[b * K + k]!;
    if (s > 0) {
      for (let k = 0; k < K; k++) perBin[b * K + k] = (classWeights[k]! * scaled[b * K + k]!) / s;
      const mass = s / ps;
      perBinInlier[b] = mass / (mass + outlier[b]!);
    } else {
      // no class has a density here on the tabulated scale: the class weights decide
      for (let k = 0; k < K; k++) perBin[b * K + k] = classWeights[k]! / ps;
      perBinInlier[b] = 0;
    }
    let mean = 0;
    let variance = 0;
    for (let f = 0; f < K; f++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += perBin[b * K + k]! * fractionTable[(b * K + k) * K + f]!;
      perBinFractions[b * K + f] = sum;
      mean += sum * model.means[f]!;
      variance += sum * model.variances[f]!;
    }
    perBinMean[b] = origin + unit * mean;
    perBinVariance[b] = unit * unit * variance;
  }
  const index = bins.index!;
  const N = index.length;
  const { responsibilities, fractions, inliers, expectations } = out;
  for (const [from, to] of [
    [perBin, responsibilities],
    [perBinFractions, fractions],
  ] as const) {
    if (!to) continue;
    for (let i = 0, row = 0; i < N; i++, row += K) {
      const o = index[i]! * K;
      for (let k = 0; k < K; k++) to[row + k] = from[o + k]!;
    }
  }
  if (inliers) for (let i = 0; i < N; i++) inliers[i] = perBinInlier[index[i]!]!;
  if (expectations) {
    const { means, variances } = expectations;
    for (let i = 0; i < N; i++) {
      const b = index[i]!;
      means[i] = perBinMean[b]!;
      variances[i] = perBinVariance[b]!;
    }
  }
}

/** fractions_i = sum_k q_ik F[v_i][k][.] */
function writeFractions(
  responsibilities: Float32Array,
  index: Uint16Array,
  table: Float64Array,
  K: number,
  out: Float32Array,
): void {
  const N = index.length;
  for (let i = 0, row = 0; i < N; i++, row += K) {
    const o = index[i]! * K * K;
    for (let f = 0; f < K; f++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += responsibilities[row + k]! * table[o + k * K + f]!;
      out[row + f] = sum;
    }
  }
}

/**
 * The outputs under a per-sample prior, from the class responsibilities: fractions_i =
 * sum_k q_ik F[v_i][k][.], and from them the expected intensity and variance when asked for.
 */
export function writeSampleOutputs(
  responsibilities: Float32Array,
  index: Uint16Array,
  table: Float64Array,
  model: PartialVolumeMixture,
  fractions: Float32Array,
  expectations: Expectations | undefined,
): void {
  const K = model.nClasses;
  writeFractions(responsibilities, index, table, K, fractions);
  if (!expectations) return;
  const N = index.length;
  for (let i = 0, row = 0; i < N; i++, row += K) {
    let m = 0;
    let v = 0;
    for (let k = 0; k < K; k++) {
      m += fractions[row + k]! * model.means[k]!;
      v += fractions[row + k]! * model.variances[k]!;
    }
    const origin = expectations.origin ?? 0;
    const unit = expectations.step ?? 1;
    expectations.means[i] = origin + unit * m;
    expectations.variances[i] = unit * unit * v;
  }
}
