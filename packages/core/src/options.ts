/**
 * Options are resolved and validated once, at the public boundary: one defaults object, one table
 * of constraints on each option (parameter-constraints.ts), the constraints between options, and
 * a fully resolved object passed inward. What the data are like comes from data-summary.ts.
 */
import {
  type DataSummary,
  describe,
  robustVariances,
  summariseData,
  tabulationUnavailable,
  validateSampleMatrix,
} from './data-summary.ts';
import {
  checkParameters,
  logProbabilityRows,
  nonNegativeWeights,
  type ParameterConstraints,
  probabilityRows,
} from './parameter-constraints.ts';
import type {
  ComponentOrder,
  CovarianceType,
  EStepStrategy,
  FloatArray,
  GaussianMixtureOptions,
  InitialParameters,
  InitMethod,
  IterationEvent,
  PriorUpdate,
  SampleMatrix,
} from './types.ts';

export const DEFAULT_OPTIONS = {
  nComponents: 3,
  covarianceType: 'full' as CovarianceType,
  tol: 1e-6,
  maxIter: 500,
  nInit: 1,
  init: 'kmeans' as InitMethod,
  seed: 0,
  initSampleSize: 100_000,
  kmeansMaxIter: 100,
  strategy: 'auto' as EStepStrategy,
  /** regCovar, as a fraction of each feature's robust variance (IQR / 1.349 squared), when not given. */
  relativeRegCovar: 1e-6,
};

const COVARIANCE_TYPES: readonly CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];
const INIT_METHODS: readonly InitMethod[] = ['kmeans', 'kmeans++', 'quantile', 'random'];
const STRATEGIES: readonly EStepStrategy[] = ['auto', 'direct', 'tabulated', 'histogram'];
const COMPONENT_ORDERS: readonly ComponentOrder[] = ['mean', 'fixed'];

/**
 * What each option of {@link GaussianMixtureOptions} must be, checked in this order (nComponents
 * first: the lengths of the N x K arrays depend on it).
 */
const PARAMETER_CONSTRAINTS: ParameterConstraints<GaussianMixtureOptions> = {
  nComponents: { kind: 'integer', minimum: 1 },
  covarianceType: { kind: 'one-of', values: COVARIANCE_TYPES },
  tol: { kind: 'number', minimum: 0 },
  labelTol: { kind: 'number', minimum: 0, below: 1 },
  maxIter: { kind: 'integer', minimum: 0 },
  nInit: { kind: 'integer', minimum: 1 },
  init: { kind: 'one-of', values: INIT_METHODS },
  seed: { kind: 'number' },
  initSampleSize: { kind: 'integer', minimum: 1 },
  kmeansMaxIter: { kind: 'integer', minimum: 0 },
  strategy: { kind: 'one-of', values: STRATEGIES },
  sampleWeights: { kind: 'array', length: 'nSamples', values: nonNegativeWeights },
  prior: { kind: 'array', length: 'nSamples x nComponents', values: probabilityRows },
  logPrior: { kind: 'array', length: 'nSamples x nComponents', values: logProbabilityRows },
  updatePrior: { kind: 'function' },
  componentOrder: { kind: 'one-of', values: COMPONENT_ORDERS },
  regCovar: { kind: 'number', minimum: 0 },
  covarianceShrinkage: { kind: 'number', minimum: 0, maximum: 1 },
  initialParameters: { kind: 'custom', check: validateInitialParameters },
  initialResponsibilities: { kind: 'array', length: 'nSamples x nComponents', values: probabilityRows },
  responsibilities: { kind: 'array', float32Only: true, length: 'nSamples x nComponents' },
  onIteration: { kind: 'function' },
};

export interface ResolvedOptions {
  nComponents: number;
  covarianceType: CovarianceType;
  regCovar: Float64Array;
  covarianceShrinkage: number;
  tol: number;
  labelTol: number;
  maxIter: number;
  nInit: number;
  init: InitMethod;
  initialParameters: InitialParameters | undefined;
  initialResponsibilities: FloatArray | undefined;
  seed: number;
  initSampleSize: number;
  kmeansMaxIter: number;
  sampleWeights: FloatArray | undefined;
  /** Linear-domain prior (converted from logPrior when needed). */
  prior: FloatArray | undefined;
  updatePrior: PriorUpdate | undefined;
  strategy: EStepStrategy;
  componentOrder: ComponentOrder;
  onIteration: ((event: IterationEvent) => void) | undefined;
  responsibilities: Float32Array | undefined;
  summary: DataSummary;
}

/** Merges options with the defaults and validates everything against the data. */
export function resolveOptions(samples: SampleMatrix, options: GaussianMixtureOptions = {}): ResolvedOptions {
  validateSampleMatrix(samples);
  const { nSamples: N, nFeatures: D } = samples;
  const nComponents = options.nComponents ?? DEFAULT_OPTIONS.nComponents;
  checkParameters(options, PARAMETER_CONSTRAINTS, () => ({ nSamples: N, nComponents, nFeatures: D }));
  const { sampleWeights, updatePrior, initialParameters, initialResponsibilities } = options;
  const strategy = options.strategy ?? DEFAULT_OPTIONS.strategy;
  const labelTol = options.labelTol ?? 0;
  const init = options.init ?? DEFAULT_OPTIONS.init;
  const nInit = options.nInit ?? DEFAULT_OPTIONS.nInit;

  // constraints between options
  if (options.prior !== undefined && options.logPrior !== undefined) {
    throw new RangeError('give either prior or logPrior, not both');
  }
  const prior = options.logPrior !== undefined ? priorFromLog(options.logPrior, nComponents) : options.prior;
  const hasPrior = prior !== undefined || updatePrior !== undefined;
  const componentOrder = options.componentOrder ?? (hasPrior ? 'fixed' : 'mean');
  if (hasPrior && componentOrder === 'mean') {
    throw new RangeError(
      'componentOrder "mean" cannot be used with a per-sample prior: the prior\'s columns fix the order',
    );
  }
  if (initialParameters !== undefined && initialResponsibilities !== undefined) {
    throw new RangeError('give either initialParameters or initialResponsibilities, not both');
  }
  for (const [name, given] of [
    ['initialParameters', initialParameters],
    ['initialResponsibilities', initialResponsibilities],
  ] as const) {
    if (given !== undefined && options.nInit !== undefined && options.nInit !== 1) {
      throw new RangeError(`nInit must be 1 with ${name} (a warm start), got ${options.nInit}`);
    }
  }
  if (init === 'quantile' && D !== 1 && initialParameters === undefined) {
    throw new RangeError(`init "quantile" needs one feature, got nFeatures = ${D}`);
  }
  if (
    options.responsibilities !== undefined &&
    updatePrior !== undefined &&
    nInit > 1 &&
    !initialParameters &&
    !initialResponsibilities
  ) {
    throw new RangeError('responsibilities output with updatePrior needs nInit = 1');
  }

  // constraints between options and the data
  const summary = summariseData(samples, sampleWeights);
  if (summary.nEffective < nComponents) {
    throw new RangeError(
      `nComponents (${nComponents}) exceeds the number of samples${sampleWeights ? ' with non-zero weight' : ''} (${summary.nEffective})`,
    );
  }
  if (strategy === 'tabulated' || strategy === 'histogram') {
    const reason = tabulationUnavailable(D, summary);
    if (reason) throw new RangeError(`strategy "${strategy}" needs ${reason}`);
    if (strategy === 'histogram' && hasPrior) {
      throw new RangeError('strategy "histogram" cannot be used with a per-sample prior: use "tabulated"');
    }
    if (strategy === 'histogram' && labelTol > 0) {
      throw new RangeError(
        'strategy "histogram" cannot be used with labelTol (labels are per sample): use "tabulated"',
      );
    }
  }
  // by default a robust scale, so that a few extreme samples do not set the regularisation
  const regCovar =
    options.regCovar !== undefined
      ? new Float64Array(D).fill(options.regCovar)
      : robustVariances(samples, sampleWeights, summary.variances).map((v) =>
          v > 0 ? DEFAULT_OPTIONS.relativeRegCovar * v : 1e-6,
        );

  return {
    nComponents,
    covarianceType: options.covarianceType ?? DEFAULT_OPTIONS.covarianceType,
    regCovar,
    covarianceShrinkage: options.covarianceShrinkage ?? 0,
    tol: options.tol ?? DEFAULT_OPTIONS.tol,
    labelTol,
    maxIter: options.maxIter ?? DEFAULT_OPTIONS.maxIter,
    nInit: initialParameters || initialResponsibilities ? 1 : nInit,
    init,
    initialParameters,
    initialResponsibilities,
    seed: options.seed ?? DEFAULT_OPTIONS.seed,
    initSampleSize: options.initSampleSize ?? DEFAULT_OPTIONS.initSampleSize,
    kmeansMaxIter: options.kmeansMaxIter ?? DEFAULT_OPTIONS.kmeansMaxIter,
    sampleWeights,
    prior,
    updatePrior,
    strategy,
    componentOrder,
    onIteration: options.onIteration,
    responsibilities: options.responsibilities,
    summary,
  };
}

/** Converts an N x K log-prior (already checked) to probabilities, each row's maximum scaled to 1. */
function priorFromLog(logPrior: FloatArray, nComponents: number): Float64Array {
  const prior = new Float64Array(logPrior.length);
  for (let row = 0; row < logPrior.length; row += nComponents) {
    let max = -Infinity;
    for (let k = 0; k < nComponents; k++) {
      const value = logPrior[row + k]!;
      if (value > max) max = value;
    }
    for (let k = 0; k < nComponents; k++) prior[row + k] = Math.exp(logPrior[row + k]! - max);
  }
  return prior;
}

/** The constraint on initialParameters: K means of D features, optional weights and covariances. */
function validateInitialParameters(
  _name: string,
  value: unknown,
  { nComponents: K, nFeatures: D }: { nComponents: number; nFeatures: number },
): void {
  const { weights, means, covariances } = value as InitialParameters;
  if (!Array.isArray(means) || means.length !== K) {
    throw new RangeError(
      `initialParameters.means must hold ${K} rows, got ${Array.isArray(means) ? means.length : describe(means)}`,
    );
  }
  means.forEach((row, k) => {
    if (!Array.isArray(row) || row.length !== D || !row.every(Number.isFinite)) {
      throw new RangeError(
        `initialParameters.means[${k}] must be ${D} finite numbers, got ${JSON.stringify(row)}`,
      );
    }
  });
  if (weights !== undefined) {
    if (
      !Array.isArray(weights) ||
      weights.length !== K ||
      !weights.every((w) => w >= 0 && Number.isFinite(w))
    ) {
      throw new RangeError(
        `initialParameters.weights must be ${K} finite numbers >= 0, got ${JSON.stringify(weights)}`,
      );
    }
    if (!(weights.reduce((a, b) => a + b, 0) > 0)) {
      throw new RangeError('initialParameters.weights must not all be zero');
    }
  }
  if (covariances !== undefined) {
    if (!Array.isArray(covariances) || covariances.length !== K) {
      throw new RangeError(`initialParameters.covariances must hold ${K} entries`);
    }
    covariances.forEach((entry, k) => {
      if (typeof entry === 'number') {
        if (!(entry > 0) || !Number.isFinite(entry)) {
          throw new RangeError(`initialParameters.covariances[${k}] must be a variance > 0, got ${entry}`);
        }
        return;
      }
      if (
        !Array.isArray(entry) ||
        entry.length !== D ||
        entry.some((r) => !Array.isArray(r) || r.length !== D)
      ) {
        throw new RangeError(
          `initialParameters.covariances[${k}] must be a ${D} x ${D} matrix or a variance`,
        );
      }
      for (let i = 0; i < D; i++) {
        for (let j = 0; j < D; j++) {
          const v = entry[i]![j]!;
          if (!Number.isFinite(v) || Math.abs(v - entry[j]![i]!) > 1e-12 * Math.max(1, Math.abs(v))) {
            throw new RangeError(`initialParameters.covariances[${k}] must be finite and symmetric`);
          }
        }
      }
    });
  }
}
