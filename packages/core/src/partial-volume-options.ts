/**
 * The options of {@link fitPartialVolumeMixture}: their declaration, defaults and constraints, and
 * the starting model they describe.
 */
import { assertFinite, MAX_TABLE_BINS, validateSampleMatrix } from './data-summary.ts';
import {
  checkParameters,
  nonNegativeWeights,
  type ParameterConstraints,
  type ParameterShape,
} from './parameter-constraints.ts';
import type { PartialVolumeRegularisation } from './partial-volume-maximisation.ts';
import {
  adjacentPairs,
  type PartialVolumeMixture,
  validatePartialVolumeMixture,
} from './partial-volume-model.ts';
import type { FloatArray, PriorUpdate, SampleMatrix } from './types.ts';

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

/** What each option must be, checked in this order (the starting classes first: they fix K). */
const PARAMETER_CONSTRAINTS: ParameterConstraints<PartialVolumeOptions> = {
  initialParameters: { kind: 'custom', check: checkInitialParameters },
  initialModel: { kind: 'custom', check: (_, model) => validatePartialVolumeMixture(model) },
  pairs: { kind: 'custom', check: () => {} }, // checked with the starting model
  initialPairWeight: { kind: 'number', minimum: 0, maximum: 1 },
  nSteps: { kind: 'integer', minimum: 1 },
  outlierWeight: { kind: 'number', minimum: 0, below: 1 },
  sampleWeights: { kind: 'array', length: 'nSamples', values: nonNegativeWeights },
  prior: { kind: 'array', length: 'nSamples x nComponents' },
  updatePrior: { kind: 'function' },
  covarianceShrinkage: { kind: 'number', minimum: 0, maximum: 1 },
  varianceFloor: { kind: 'number', minimum: 0 },
  pairWeightCap: {
    kind: 'custom',
    check: (name, value) => {
      if (!((value as number) >= 0)) throw new RangeError(`${name} must be >= 0, got ${value}`);
    },
  },
  parameterPrior: { kind: 'custom', check: checkParameterPrior },
  fixedParameters: {
    kind: 'custom',
    check: (name, value) => {
      if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${value}`);
    },
  },
  maxIter: { kind: 'integer', minimum: 0 },
  tol: { kind: 'number', minimum: 0 },
  labelTol: { kind: 'number', minimum: 0, below: 1 },
  responsibilities: { kind: 'array', float32Only: true, length: 'nSamples x nComponents' },
  fractions: { kind: 'array', float32Only: true, length: 'nSamples x nComponents' },
  inliers: { kind: 'array', float32Only: true, length: 'nSamples' },
  expectations: { kind: 'custom', check: checkExpectations },
  onIteration: { kind: 'function' },
};

/** The options resolved: the starting model, the data's integer range, the defaults filled in. */
export interface ResolvedPartialVolumeOptions {
  model: PartialVolumeMixture;
  /** The data's smallest and largest value. */
  minimum: number;
  maximum: number;
  regularisation: PartialVolumeRegularisation;
  maxIter: number;
  tol: number;
  labelTol: number;
}

/**
 * Validates the data (one integer-valued feature spanning at most 65536 values) and the options,
 * and builds the starting model.
 * @throws RangeError or TypeError for invalid data or options
 */
export function resolvePartialVolumeOptions(
  samples: SampleMatrix,
  options: PartialVolumeOptions,
): ResolvedPartialVolumeOptions {
  validateSampleMatrix(samples);
  const { nSamples: N, nFeatures } = samples;
  if (nFeatures !== 1)
    throw new RangeError(`a partial-volume mixture needs one feature, got nFeatures = ${nFeatures}`);
  if ((options.initialParameters === undefined) === (options.initialModel === undefined)) {
    throw new RangeError('give either initialParameters or initialModel');
  }
  const initial = options.initialParameters ?? options.initialModel!;
  checkParameters(options, PARAMETER_CONSTRAINTS, () => ({
    nSamples: N,
    nFeatures: 1,
    nComponents: Array.isArray(initial.means) ? initial.means.length : 0,
  }));
  const K = initial.means.length;
  if (K > 255) throw new RangeError(`at most 255 classes, got ${K}`);
  const { minimum, maximum } = integerRange(samples);
  if (options.initialModel && options.outlierWeight !== undefined) {
    throw new RangeError(
      'outlierWeight comes from initialModel in a warm start: give it only with initialParameters',
    );
  }

  // the starting model
  const nSteps = options.nSteps ?? 12;
  const pairs = options.pairs ?? adjacentPairs(initial.means);
  const pairWeight = options.initialPairWeight ?? 0.05;
  const outlierWeight = options.outlierWeight ?? 0;
  const inlier = 1 - outlierWeight;
  const pureShare = Math.max(inlier - pairWeight * pairs.length, 0);
  const given = initial.weights ?? new Array<number>(K).fill(1);
  const givenSum = given.reduce((a, b) => a + b, 0);
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
  validatePartialVolumeMixture(model);
  validatePartialVolumeMixture(model);

  const prior = options.parameterPrior;
  return {
    model,
    minimum,
    maximum,
    regularisation: {
      shrinkage: options.covarianceShrinkage ?? 0,
      varianceFloor: options.varianceFloor ?? 0,
      pairWeightCap: options.pairWeightCap ?? Infinity,
      parameterPrior: prior
        ? {
            mean: prior.mean,
            scale: prior.scale,
            shrinkage: prior.shrinkage ?? 0.01,
            degreesOfFreedom: prior.degreesOfFreedom ?? 3,
          }
        : undefined,
    },
    maxIter: options.maxIter ?? 100,
    tol: options.tol ?? 1e-6,
    labelTol: options.labelTol ?? 0,
  };
}

/** The range of integer-valued samples. */
function integerRange(samples: SampleMatrix): { minimum: number; maximum: number } {
  const { data, nSamples: N } = samples;
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
  return { minimum, maximum };
}

/** K starting means and variances, and optionally K weights. */
function checkInitialParameters(name: string, value: unknown): void {
  const initial = value as PartialVolumeOptions['initialParameters'] & object;
  if (!Array.isArray(initial.means) || initial.means.length < 1) {
    throw new RangeError(`${name}.means must hold at least one class mean`);
  }
  const K = initial.means.length;
  if (
    !Array.isArray(initial.variances) ||
    initial.variances.length !== K ||
    !initial.variances.every((v) => v > 0 && Number.isFinite(v))
  ) {
    throw new RangeError(`${name}.variances must be ${K} finite numbers > 0`);
  }
  if (!initial.means.every(Number.isFinite)) throw new RangeError(`${name}.means must be finite`);
  const given = initial.weights ?? new Array<number>(K).fill(1);
  const givenSum = given.reduce((a, b) => a + b, 0);
  if (!(givenSum > 0) || !given.every((w) => w >= 0 && Number.isFinite(w)) || given.length !== K) {
    throw new RangeError(`${name}.weights must be ${K} finite numbers >= 0, not all zero`);
  }
}

function checkParameterPrior(name: string, value: unknown): void {
  const prior = value as NonNullable<PartialVolumeOptions['parameterPrior']>;
  if (
    !(
      Number.isFinite(prior.mean) &&
      prior.scale >= 0 &&
      (prior.shrinkage ?? 0.01) >= 0 &&
      (prior.degreesOfFreedom ?? 3) >= 0
    )
  ) {
    throw new RangeError(`${name} needs a finite mean and a scale, shrinkage and degreesOfFreedom >= 0`);
  }
}

function checkExpectations(_name: string, value: unknown, { nSamples: N }: ParameterShape): void {
  const expectations = value as NonNullable<PartialVolumeOptions['expectations']>;
  for (const array of [expectations.means, expectations.variances]) {
    if (!(array instanceof Float64Array) || array.length !== N) {
      throw new TypeError(`expectations.means and .variances must be Float64Arrays of length ${N}`);
    }
  }
}

function pairShare(inlier: number, pureShare: number, nPairs: number): number {
  return nPairs > 0 ? (inlier - pureShare) / nPairs : 0;
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
