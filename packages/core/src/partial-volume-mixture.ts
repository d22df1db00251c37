/**
 * Fits a partial-volume mixture (partial-volume-model.ts) to integer-valued single-feature data by
 * generalised EM: pure classes, mixel classes between given pairs, an optional uniform outlier
 * class, and an optional per-sample prior on the classes (a spatial prior plugs in through the
 * same `updatePrior` hook as fitGaussianMixture's). Classes are "majority" classes: the
 * responsibility of class k is the probability that k holds the majority of the voxel, and the
 * fractions are the posterior mean share of each class in the voxel.
 */
import { buildIntegerBins, type IntegerBins } from './integer-bins.ts';
import { assertFinite, MAX_TABLE_BINS, validateSampleMatrix } from './options.ts';
import {
  adjacentPairs,
  type PartialVolumeMixture,
  refreshSubComponents,
  subComponents,
  validatePartialVolumeMixture,
} from './partial-volume-model.ts';
import {
  allocatePartialVolumeTables,
  fillTables,
  fractionTables,
  histogramPass,
  type PartialVolumeRegularisation,
  type PartialVolumeTables,
  type PassResult,
  partialVolumeMaximisation,
  samplePass,
} from './partial-volume-pass.ts';
import type { FloatArray, PriorUpdate, SampleMatrix, StopReason } from './types.ts';

/** Options of {@link fitPartialVolumeMixture}. */
export interface PartialVolumeOptions {
  /**
   * The starting pure classes (e.g. a plain Gaussian mixture's components, in the class order
   * wanted): K means and variances, and optionally weights (default equal). Pure weights are
   * scaled to leave `initialPairWeight` to each pair and the outlier weight.
   */
  initialParameters?: { means: number[]; variances: number[]; weights?: number[] };
  /**
   * Or a warm start from a whole model (pairs, pair weights and outlier class included; its
   * outlier range is kept). Give one of the two.
   */
  initialModel?: PartialVolumeMixture;
  /** Pairs of classes that mix. Default: adjacent classes in the order of the initial means. */
  pairs?: [number, number][];
  /** Starting weight of each pair's mixel class. Default 0.05. */
  initialPairWeight?: number;
  /** Steps of the fraction t in each mixel class. Default 12. */
  nSteps?: number;
  /**
   * Weight of a uniform outlier class spanning the data's range, held fixed: samples that no class
   * explains (a bright lesion, a vessel) go to it instead of pulling a class. Default 0 (none).
   */
  outlierWeight?: number;
  /** Non-negative per-sample weights (0 leaves a sample out of the estimates; it is still classified). */
  sampleWeights?: FloatArray;
  /** Per-sample class prior, N x K, replacing the class weights in the E-step. */
  prior?: FloatArray;
  /** Recomputes the prior from the class responsibilities between iterations. */
  updatePrior?: PriorUpdate;
  /** Shrinkage of each class's variance towards the pooled variance, in [0, 1]. Default 0. */
  covarianceShrinkage?: number;
  /** Added to every variance (in squared data units). Default 0. */
  varianceFloor?: number;
  /**
   * Each mixel class's weight is held at most this many times the smaller of its two pure classes'
   * weights (the excess returns to the pure classes): a pure class then cannot vanish into the
   * mixels beside it, where a plateau of intensities fits either. Default Infinity (free).
   */
  pairWeightCap?: number;
  /**
   * A weak conjugate prior on each class's mean and variance (Fraley and Raftery 2007): the mean
   * shrinks towards `mean` with precision `shrinkage` (default 0.01), the variance towards `scale`
   * with `degreesOfFreedom` (default 3). Default: none (maximum likelihood).
   */
  parameterPrior?: { mean: number; scale: number; shrinkage?: number; degreesOfFreedom?: number };
  /** Hold every parameter fixed: only the E-step (and the prior updates) run. Default false. */
  fixedParameters?: boolean;
  /** EM iterations at most. Default 100. */
  maxIter?: number;
  /** Stop when the gain in mean log-likelihood per sample is below this. Default 1e-6. */
  tol?: number;
  /** Also stop when at most this fraction (weighted) of the samples changed class. Default 0 (off). */
  labelTol?: number;
  /** Receives the final class responsibilities, N x K. */
  responsibilities?: Float32Array;
  /** Receives the final class fractions, N x K (each row sums to 1). */
  fractions?: Float32Array;
  /** Receives each sample's final inlier probability (1 - the outlier class's responsibility), N. */
  inliers?: Float32Array;
  /**
   * Receives each sample's expected bias-free intensity and noise variance under the final model
   * (the fraction-weighted class means and variances), N each: what a bias-field estimate needs.
   */
  expectations?: {
    means: Float64Array;
    variances: Float64Array;
    /** Report them in other units, origin + step x (variances step^2 v). Default 0 and 1. */
    origin?: number;
    step?: number;
  };
  /** Called after every E-step. */
  onIteration?: (event: { iteration: number; meanLogLikelihood: number }) => void;
}

/** The result of {@link fitPartialVolumeMixture}. */
export interface PartialVolumeFit {
  model: PartialVolumeMixture;
  converged: boolean;
  stopReason: StopReason;
  /** M-steps (or prior updates, with fixed parameters) done. */
  nIter: number;
  meanLogLikelihood: number;
  /** Mean log-likelihood per sample at every E-step. */
  logLikelihoodTrace: number[];
  sumWeights: number;
  /** Classes whose pure responsibility vanished at some M-step (their parameters were kept). */
  emptyClasses: number[];
  warnings: string[];
}

function checkFraction(name: string, value: number, upper: number, strict = false): number {
  if (!(value >= 0 && (strict ? value < upper : value <= upper)) || !Number.isFinite(value)) {
    throw new RangeError(
      `${name} must be a number from 0 to ${strict ? 'below ' : ''}${upper}, got ${value}`,
    );
  }
  return value;
}

function checkArray(name: string, value: unknown, length: number, type: 'float' | 'float32'): void {
  const ok =
    type === 'float32'
      ? value instanceof Float32Array
      : value instanceof Float32Array || value instanceof Float64Array;
  if (!ok)
    throw new TypeError(
      `${name} must be a ${type === 'float32' ? 'Float32Array' : 'Float32Array or Float64Array'}`,
    );
  if ((value as FloatArray).length !== length) {
    throw new RangeError(`${name} has length ${(value as FloatArray).length}, expected ${length}`);
  }
}

/**
 * Fits a partial-volume mixture to N samples of one integer-valued feature (MR intensities, or
 * intensities put on a lattice) spanning at most 65536 values.
 * @throws RangeError or TypeError for invalid data or options
 */
export function fitPartialVolumeMixture(
  samples: SampleMatrix,
  options: PartialVolumeOptions,
): PartialVolumeFit {
  validateSampleMatrix(samples);
  const { data, nSamples: N, nFeatures } = samples;
  if (nFeatures !== 1)
    throw new RangeError(`a partial-volume mixture needs one feature, got nFeatures = ${nFeatures}`);
  if ((options.initialParameters === undefined) === (options.initialModel === undefined)) {
    throw new RangeError('give either initialParameters or initialModel');
  }
  if (options.initialModel !== undefined) validatePartialVolumeMixture(options.initialModel);
  const initial = options.initialParameters ?? options.initialModel!;
  if (!Array.isArray(initial.means) || initial.means.length < 1) {
    throw new RangeError('initialParameters.means must hold at least one class mean');
  }
  const K = initial.means.length;
  if (K > 255) throw new RangeError(`at most 255 classes, got ${K}`);
  if (
    !Array.isArray(initial.variances) ||
    initial.variances.length !== K ||
    !initial.variances.every((v) => v > 0 && Number.isFinite(v))
  ) {
    throw new RangeError(`initialParameters.variances must be ${K} finite numbers > 0`);
  }
  if (!initial.means.every(Number.isFinite)) throw new RangeError('initialParameters.means must be finite');
  let minimum = Infinity;
  let maximum = -Infinity;
  for (let i = 0; i < N; i++) {
    const x = data[i]!;
    if ((x | 0) !== x && Math.floor(x) !== x) {
      if (x - x !== 0) assertFinite(samples);
      throw new RangeError(
        `samples must be integer-valued (put them on a lattice first), got ${x} at sample ${i}`,
      );
    }
    if (x < minimum) minimum = x;
    if (x > maximum) maximum = x;
  }
  if (N === 0) throw new RangeError('no samples to fit');
  if (maximum - minimum + 1 > MAX_TABLE_BINS) {
    throw new RangeError(
      `samples must span at most ${MAX_TABLE_BINS} integer values, got ${minimum}..${maximum}`,
    );
  }
  const nSteps = options.nSteps ?? 12;
  if (!Number.isInteger(nSteps) || nSteps < 1)
    throw new RangeError(`nSteps must be an integer >= 1, got ${nSteps}`);
  const pairs = options.pairs ?? adjacentPairs(initial.means);
  const pairWeight = checkFraction('initialPairWeight', options.initialPairWeight ?? 0.05, 1);
  const outlierWeight = checkFraction('outlierWeight', options.outlierWeight ?? 0, 1, true);
  const shrinkage = checkFraction('covarianceShrinkage', options.covarianceShrinkage ?? 0, 1);
  const varianceFloor = options.varianceFloor ?? 0;
  if (!(varianceFloor >= 0) || !Number.isFinite(varianceFloor)) {
    throw new RangeError(`varianceFloor must be a finite number >= 0, got ${varianceFloor}`);
  }
  const maxIter = options.maxIter ?? 100;
  if (!Number.isInteger(maxIter) || maxIter < 0)
    throw new RangeError(`maxIter must be an integer >= 0, got ${maxIter}`);
  const tol = options.tol ?? 1e-6;
  if (!(tol >= 0) || !Number.isFinite(tol))
    throw new RangeError(`tol must be a finite number >= 0, got ${tol}`);
  const labelTol = checkFraction('labelTol', options.labelTol ?? 0, 1, true);
  const { sampleWeights, updatePrior } = options;
  if (sampleWeights !== undefined) {
    checkArray('sampleWeights', sampleWeights, N, 'float');
    for (let i = 0; i < N; i++) {
      const w = sampleWeights[i]!;
      if (!(w >= 0) || w === Infinity)
        throw new RangeError(`sampleWeights contains ${w} at sample ${i}: weights must be finite and >= 0`);
    }
  }
  if (options.prior !== undefined) checkArray('prior', options.prior, N * K, 'float');
  if (updatePrior !== undefined && typeof updatePrior !== 'function')
    throw new TypeError('updatePrior must be a function');
  for (const [name, value, length] of [
    ['responsibilities', options.responsibilities, N * K],
    ['fractions', options.fractions, N * K],
    ['inliers', options.inliers, N],
  ] as const) {
    if (value !== undefined) checkArray(name, value, length, 'float32');
  }
  const { expectations } = options;
  if (expectations !== undefined) {
    for (const array of [expectations.means, expectations.variances]) {
      if (!(array instanceof Float64Array) || array.length !== N) {
        throw new TypeError(`expectations.means and .variances must be Float64Arrays of length ${N}`);
      }
    }
  }
  const parameterPrior: PartialVolumeRegularisation['parameterPrior'] = options.parameterPrior
    ? {
        mean: options.parameterPrior.mean,
        scale: options.parameterPrior.scale,
        shrinkage: options.parameterPrior.shrinkage ?? 0.01,
        degreesOfFreedom: options.parameterPrior.degreesOfFreedom ?? 3,
      }
    : undefined;
  if (
    parameterPrior &&
    !(
      Number.isFinite(parameterPrior.mean) &&
      parameterPrior.scale >= 0 &&
      parameterPrior.shrinkage >= 0 &&
      parameterPrior.degreesOfFreedom >= 0
    )
  ) {
    throw new RangeError(
      'parameterPrior needs a finite mean and a scale, shrinkage and degreesOfFreedom >= 0',
    );
  }

  // the starting model
  const inlier = 1 - outlierWeight;
  const pureShare = Math.max(inlier - pairWeight * pairs.length, 0);
  const given = initial.weights ?? new Array<number>(K).fill(1);
  const givenSum = given.reduce((a, b) => a + b, 0);
  if (!(givenSum > 0) || !given.every((w) => w >= 0 && Number.isFinite(w)) || given.length !== K) {
    throw new RangeError(`initialParameters.weights must be ${K} finite numbers >= 0, not all zero`);
  }
  const model: PartialVolumeMixture = options.initialModel
    ? cloneModel(options.initialModel)
    : {
        nClasses: K,
        means: [...initial.means],
        variances: [...initial.variances],
        weights: given.map((w) => (pureShare * w) / givenSum),
        pairs: pairs.map(([a, b]) => [a, b] as [number, number]),
        pairWeights: pairs.map(() => pairShare(inlier, pureShare, pairs.length)),
        nSteps,
        outlier: outlierWeight > 0 ? { weight: outlierWeight, low: minimum, high: maximum } : null,
      };
  if (options.initialModel && options.outlierWeight !== undefined) {
    throw new RangeError(
      'outlierWeight comes from initialModel in a warm start: give it only with initialParameters',
    );
  }
  validatePartialVolumeMixture(model);
  const subs = subComponents(model);

  const perSample =
    options.prior !== undefined ||
    updatePrior !== undefined ||
    labelTol > 0 ||
    options.responsibilities !== undefined ||
    options.fractions !== undefined ||
    options.inliers !== undefined ||
    expectations !== undefined;
  const bins: IntegerBins = buildIntegerBins(data, sampleWeights, minimum, maximum, perSample);
  const tables = allocatePartialVolumeTables(bins, K, subs.length);
  const pairWeightCap = options.pairWeightCap ?? Infinity;
  if (!(pairWeightCap >= 0)) throw new RangeError(`pairWeightCap must be >= 0, got ${pairWeightCap}`);
  const regularisation: PartialVolumeRegularisation = {
    shrinkage,
    varianceFloor,
    parameterPrior,
    pairWeightCap,
  };
  // the per-sample passes run while a prior or label tracking needs them; otherwise EM runs over
  // the distinct values and one per-sample pass at the end fills the outputs
  const iterateOnSamples = options.prior !== undefined || updatePrior !== undefined || labelTol > 0;
  const labels = iterateOnSamples && labelTol > 0 ? new Uint8Array(N) : undefined;
  const responsibilities =
    options.responsibilities ??
    (updatePrior || (iterateOnSamples && (options.fractions || expectations))
      ? new Float32Array(N * K)
      : undefined);
  const hookPrior = updatePrior ? new Float32Array(N * K) : undefined;
  let prior: FloatArray | undefined = options.prior;

  const trace: number[] = [];
  const emptyClasses = new Set<number>();
  let converged = false;
  let stopReason: StopReason = 'max-iterations';
  let nIter = 0;
  let previous = -Infinity;
  let last: PassResult | undefined;
  for (let iteration = 1; ; iteration++) {
    fillTables(model, subs, bins, tables);
    last = iterateOnSamples
      ? samplePass(
          { nSamples: N, sampleWeights, prior, responsibilities, inliers: options.inliers, labels },
          bins,
          tables,
          K,
        )
      : histogramPass(bins, tables, K);
    const meanLogLikelihood = last.logLikelihoodSum / last.sumWeights;
    trace.push(meanLogLikelihood);
    options.onIteration?.({ iteration, meanLogLikelihood });
    const gainSmall = iteration > 1 && Math.abs(meanLogLikelihood - previous) < tol;
    if (gainSmall && !(options.fixedParameters && updatePrior)) {
      converged = true;
      stopReason = 'tolerance';
      break;
    }
    if (iteration > 1 && labels && last.changed <= labelTol * last.sumWeights) {
      converged = true;
      stopReason = 'labels-stable';
      break;
    }
    if (nIter >= maxIter || (options.fixedParameters && !updatePrior)) break;
    previous = meanLogLikelihood;
    if (!options.fixedParameters) {
      for (const k of partialVolumeMaximisation(model, subs, bins, tables, regularisation))
        emptyClasses.add(k);
      refreshSubComponents(model, subs);
    }
    nIter++;
    if (updatePrior) {
      updatePrior({ iteration: nIter, responsibilities: responsibilities!, model, prior: hookPrior! });
      prior = hookPrior;
    }
  }
  if (
    !iterateOnSamples &&
    (options.responsibilities || options.fractions || options.inliers || expectations)
  ) {
    // no per-sample prior: every output depends on the sample's value alone, so it is computed once
    // per distinct value and copied to the samples
    fillTables(model, subs, bins, tables);
    writeBinOutputs(bins, tables, fractionTables(model, subs, bins, tables), model, {
      responsibilities: options.responsibilities,
      fractions: options.fractions,
      inliers: options.inliers,
      expectations,
    });
  } else if (options.fractions || expectations) {
    const table = fractionTables(model, subs, bins, tables);
    const fractions = options.fractions ?? new Float32Array(N * K);
    writeFractions(responsibilities!, bins.index!, table, K, fractions);
    if (expectations) {
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
  }
  const warnings: string[] = [];
  if (!converged && maxIter > 0 && !options.fixedParameters) {
    warnings.push(`the partial-volume mixture did not converge in maxIter = ${maxIter} iterations`);
  }
  for (const k of emptyClasses)
    warnings.push(`class ${k} received no pure samples at some iteration; its mean and variance were kept`);
  return {
    model,
    converged,
    stopReason,
    nIter,
    meanLogLikelihood: trace[trace.length - 1]!,
    logLikelihoodTrace: trace,
    sumWeights: last!.sumWeights,
    emptyClasses: [...emptyClasses].sort((a, b) => a - b),
    warnings,
  };
}

function pairShare(inlier: number, pureShare: number, nPairs: number): number {
  return nPairs > 0 ? (inlier - pureShare) / nPairs : 0;
}

/**
 * The outputs without a per-sample prior: class responsibilities, fractions and inlier probability
 * per distinct value (the class weights as the prior), copied to each sample through the index.
 */
function writeBinOutputs(
  bins: IntegerBins,
  tables: PartialVolumeTables,
  fractionTable: Float64Array,
  model: PartialVolumeMixture,
  out: {
    responsibilities: Float32Array | undefined;
    fractions: Float32Array | undefined;
    inliers: Float32Array | undefined;
    expectations:
      | { means: Float64Array; variances: Float64Array; origin?: number; step?: number }
      | undefined;
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

function cloneModel(model: PartialVolumeMixture): PartialVolumeMixture {
  return {
    ...model,
    means: [...model.means],
    variances: [...model.variances],
    weights: [...model.weights],
    pairs: model.pairs.map(([a, b]) => [a, b] as [number, number]),
    pairWeights: [...model.pairWeights],
    outlier: model.outlier ? { ...model.outlier } : null,
  };
}
