/**
 * Options are resolved and validated once, at the public boundary: one defaults object, merged,
 * checked, and passed inward as a fully resolved object.
 */
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

/** What one scan of the data found. */
export interface DataSummary {
  /** Per feature: weighted mean and variance. */
  means: Float64Array;
  variances: Float64Array;
  /** Feature 0: whether every value is an integer, and the range. */
  integerValued: boolean;
  minimum: number;
  maximum: number;
  sumWeights: number;
  /** Samples with non-zero weight. */
  nEffective: number;
}

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

/** Checks a sample matrix's shape and type. */
export function validateSampleMatrix(samples: SampleMatrix, name = 'samples'): void {
  if (samples === null || typeof samples !== 'object') {
    throw new TypeError(`${name} must be { data, nSamples, nFeatures }, got ${String(samples)}`);
  }
  const { data, nSamples, nFeatures } = samples;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new TypeError(`${name}.data must be a Float32Array or Float64Array, got ${describe(data)}`);
  }
  if (!Number.isInteger(nSamples) || nSamples < 0) {
    throw new RangeError(`${name}.nSamples must be a non-negative integer, got ${nSamples}`);
  }
  if (!Number.isInteger(nFeatures) || nFeatures < 1) {
    throw new RangeError(`${name}.nFeatures must be a positive integer, got ${nFeatures}`);
  }
  if (data.length !== nSamples * nFeatures) {
    throw new RangeError(
      `${name}.data has length ${data.length}, expected nSamples x nFeatures = ${nSamples} x ${nFeatures} = ${nSamples * nFeatures}`,
    );
  }
}

/** Throws a RangeError naming the first non-finite value, if any. */
export function assertFinite(samples: SampleMatrix, name = 'samples'): void {
  const { data, nFeatures } = samples;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value - value !== 0) throwNonFinite(name, value, i, nFeatures);
  }
}

function throwNonFinite(name: string, value: number, position: number, nFeatures: number): never {
  const sample = Math.floor(position / nFeatures);
  const feature = position % nFeatures;
  throw new RangeError(
    `${name} contains ${value} at sample ${sample} (feature ${feature}): ` +
      'remove or mask non-finite values before fitting',
  );
}

/** One pass over the data: validation of every value, moments, and integrality of feature 0. */
export function summariseData(samples: SampleMatrix, sampleWeights: FloatArray | undefined): DataSummary {
  const { data, nSamples: N, nFeatures: D } = samples;
  const shift = new Float64Array(D);
  for (let d = 0; d < D; d++) shift[d] = N > 0 ? data[d]! : 0;
  const sum = new Float64Array(D);
  const sumSquares = new Float64Array(D);
  let integerValued = true;
  let minimum = Infinity;
  let maximum = -Infinity;
  let sumWeights = 0;
  let nEffective = 0;
  for (let i = 0; i < N; i++) {
    const w = sampleWeights ? sampleWeights[i]! : 1;
    if (w > 0) nEffective++;
    sumWeights += w;
    const offset = i * D;
    const x0 = data[offset]!;
    if (x0 - x0 !== 0) throwNonFinite('samples', x0, offset, D);
    if (x0 < minimum) minimum = x0;
    if (x0 > maximum) maximum = x0;
    if (integerValued && Math.floor(x0) !== x0) integerValued = false;
    for (let d = 0; d < D; d++) {
      const x = data[offset + d]!;
      if (x - x !== 0) throwNonFinite('samples', x, offset + d, D);
      const v = x - shift[d]!;
      sum[d]! += w * v;
      sumSquares[d]! += w * v * v;
    }
  }
  const means = new Float64Array(D);
  const variances = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    const m = sumWeights > 0 ? sum[d]! / sumWeights : 0;
    means[d] = shift[d]! + m;
    variances[d] = sumWeights > 0 ? Math.max(sumSquares[d]! / sumWeights - m * m, 0) : 0;
  }
  return { means, variances, integerValued, minimum, maximum, sumWeights, nEffective };
}

function checkOneOf<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new RangeError(
      `${name} must be one of ${allowed.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

function checkFloatArray(name: string, value: unknown, length: number): FloatArray {
  if (!(value instanceof Float32Array || value instanceof Float64Array)) {
    throw new TypeError(`${name} must be a Float32Array or Float64Array, got ${describe(value)}`);
  }
  if (value.length !== length) {
    throw new RangeError(`${name} has length ${value.length}, expected ${length}`);
  }
  return value;
}

/** Converts an N x K log-prior to probabilities, each row scaled so that its maximum is 1. */
function priorFromLog(logPrior: FloatArray, nComponents: number): Float64Array {
  const prior = new Float64Array(logPrior.length);
  for (let row = 0; row < logPrior.length; row += nComponents) {
    let max = -Infinity;
    for (let k = 0; k < nComponents; k++) {
      const value = logPrior[row + k]!;
      if (Number.isNaN(value) || value === Infinity) {
        throw new RangeError(
          `logPrior contains ${value} at sample ${row / nComponents} component ${row % nComponents}`,
        );
      }
      if (value > max) max = value;
    }
    if (max === -Infinity) {
      throw new RangeError(`logPrior of sample ${row / nComponents} is -Infinity for every component`);
    }
    for (let k = 0; k < nComponents; k++) prior[row + k] = Math.exp(logPrior[row + k]! - max);
  }
  return prior;
}

/** Checks an N x K matrix of per-sample probabilities (a prior, or starting responsibilities). */
function checkPrior(prior: FloatArray, nComponents: number, name = 'prior'): void {
  for (let row = 0; row < prior.length; row += nComponents) {
    let sum = 0;
    for (let k = 0; k < nComponents; k++) {
      const value = prior[row + k]!;
      if (!(value >= 0) || value === Infinity) {
        throw new RangeError(
          `${name} contains ${value} at sample ${row / nComponents} component ${k}: values must be finite and >= 0`,
        );
      }
      sum += value;
    }
    if (sum === 0) throw new RangeError(`${name} of sample ${row / nComponents} is zero for every component`);
  }
}

/** Merges options with the defaults and validates everything against the data. */
export function resolveOptions(samples: SampleMatrix, options: GaussianMixtureOptions = {}): ResolvedOptions {
  validateSampleMatrix(samples);
  const { nSamples: N, nFeatures: D } = samples;
  const nComponents = checkInteger('nComponents', options.nComponents ?? DEFAULT_OPTIONS.nComponents, 1);
  const covarianceType = checkOneOf(
    'covarianceType',
    options.covarianceType ?? DEFAULT_OPTIONS.covarianceType,
    COVARIANCE_TYPES,
  );
  const tol = options.tol ?? DEFAULT_OPTIONS.tol;
  if (!(tol >= 0) || !Number.isFinite(tol))
    throw new RangeError(`tol must be a finite number >= 0, got ${tol}`);
  const labelTol = options.labelTol ?? 0;
  if (!(labelTol >= 0 && labelTol < 1))
    throw new RangeError(`labelTol must be a number from 0 (off) to below 1, got ${options.labelTol}`);
  const maxIter = checkInteger('maxIter', options.maxIter ?? DEFAULT_OPTIONS.maxIter, 0);
  const nInit = checkInteger('nInit', options.nInit ?? DEFAULT_OPTIONS.nInit, 1);
  const init = checkOneOf('init', options.init ?? DEFAULT_OPTIONS.init, INIT_METHODS);
  const seed = options.seed ?? DEFAULT_OPTIONS.seed;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const initSampleSize = checkInteger(
    'initSampleSize',
    options.initSampleSize ?? DEFAULT_OPTIONS.initSampleSize,
    1,
  );
  const kmeansMaxIter = checkInteger(
    'kmeansMaxIter',
    options.kmeansMaxIter ?? DEFAULT_OPTIONS.kmeansMaxIter,
    0,
  );
  const strategy = checkOneOf('strategy', options.strategy ?? DEFAULT_OPTIONS.strategy, STRATEGIES);

  const sampleWeights =
    options.sampleWeights === undefined
      ? undefined
      : checkFloatArray('sampleWeights', options.sampleWeights, N);
  if (sampleWeights) {
    for (let i = 0; i < N; i++) {
      const w = sampleWeights[i]!;
      if (!(w >= 0) || w === Infinity) {
        throw new RangeError(`sampleWeights contains ${w} at sample ${i}: weights must be finite and >= 0`);
      }
    }
  }

  if (options.prior !== undefined && options.logPrior !== undefined) {
    throw new RangeError('give either prior or logPrior, not both');
  }
  let prior: FloatArray | undefined;
  if (options.prior !== undefined) {
    prior = checkFloatArray('prior', options.prior, N * nComponents);
    checkPrior(prior, nComponents);
  } else if (options.logPrior !== undefined) {
    prior = priorFromLog(checkFloatArray('logPrior', options.logPrior, N * nComponents), nComponents);
  }
  if (options.updatePrior !== undefined && typeof options.updatePrior !== 'function') {
    throw new TypeError(`updatePrior must be a function, got ${describe(options.updatePrior)}`);
  }
  const updatePrior = options.updatePrior;
  const hasPrior = prior !== undefined || updatePrior !== undefined;
  const componentOrder = checkOneOf<ComponentOrder>(
    'componentOrder',
    options.componentOrder ?? (hasPrior ? 'fixed' : 'mean'),
    ['mean', 'fixed'],
  );
  if (hasPrior && componentOrder === 'mean') {
    throw new RangeError(
      'componentOrder "mean" cannot be used with a per-sample prior: the prior\'s columns fix the order',
    );
  }

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

  let regCovar: Float64Array;
  if (options.regCovar !== undefined) {
    if (!(options.regCovar >= 0) || !Number.isFinite(options.regCovar)) {
      throw new RangeError(`regCovar must be a finite number >= 0, got ${options.regCovar}`);
    }
    regCovar = new Float64Array(D).fill(options.regCovar);
  } else {
    // a robust scale, so that a few extreme samples do not set the regularisation
    const spreads = robustVariances(samples, sampleWeights, summary.variances);
    regCovar = spreads.map((v) => (v > 0 ? DEFAULT_OPTIONS.relativeRegCovar * v : 1e-6));
  }

  const covarianceShrinkage = options.covarianceShrinkage ?? 0;
  if (!(covarianceShrinkage >= 0 && covarianceShrinkage <= 1)) {
    throw new RangeError(
      `covarianceShrinkage must be a number from 0 to 1, got ${options.covarianceShrinkage}`,
    );
  }

  const initialParameters = options.initialParameters;
  if (initialParameters !== undefined) {
    validateInitialParameters(initialParameters, nComponents, D);
    if (options.nInit !== undefined && options.nInit !== 1) {
      throw new RangeError(`nInit must be 1 with initialParameters (a warm start), got ${options.nInit}`);
    }
  }
  let initialResponsibilities: FloatArray | undefined;
  if (options.initialResponsibilities !== undefined) {
    if (initialParameters !== undefined) {
      throw new RangeError('give either initialParameters or initialResponsibilities, not both');
    }
    if (options.nInit !== undefined && options.nInit !== 1) {
      throw new RangeError(
        `nInit must be 1 with initialResponsibilities (a warm start), got ${options.nInit}`,
      );
    }
    initialResponsibilities = checkFloatArray(
      'initialResponsibilities',
      options.initialResponsibilities,
      N * nComponents,
    );
    checkPrior(initialResponsibilities, nComponents, 'initialResponsibilities');
  }
  if (init === 'quantile' && D !== 1 && initialParameters === undefined) {
    throw new RangeError(`init "quantile" needs one feature, got nFeatures = ${D}`);
  }
  if (options.responsibilities !== undefined) {
    if (!(options.responsibilities instanceof Float32Array)) {
      throw new TypeError(
        `responsibilities must be a Float32Array, got ${describe(options.responsibilities)}`,
      );
    }
    if (options.responsibilities.length !== N * nComponents) {
      throw new RangeError(
        `responsibilities has length ${options.responsibilities.length}, expected nSamples x nComponents = ${N * nComponents}`,
      );
    }
    if (updatePrior !== undefined && nInit > 1 && !initialParameters && !initialResponsibilities) {
      throw new RangeError('responsibilities output with updatePrior needs nInit = 1');
    }
  }
  if (options.onIteration !== undefined && typeof options.onIteration !== 'function') {
    throw new TypeError(`onIteration must be a function, got ${describe(options.onIteration)}`);
  }

  return {
    nComponents,
    covarianceType,
    regCovar,
    covarianceShrinkage,
    tol,
    labelTol,
    maxIter,
    nInit: initialParameters || initialResponsibilities ? 1 : nInit,
    init,
    initialParameters,
    initialResponsibilities,
    seed,
    initSampleSize,
    kmeansMaxIter,
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

/** Largest number of distinct-value bins the tabulated and histogram strategies use. */
export const MAX_TABLE_BINS = 65536;

/** Why integer tabulation cannot be used, or undefined when it can. */
export function tabulationUnavailable(nFeatures: number, summary: DataSummary): string | undefined {
  if (nFeatures !== 1) return `one feature, got nFeatures = ${nFeatures}`;
  if (!summary.integerValued) return 'integer-valued samples, and some are not integers';
  const range = summary.maximum - summary.minimum + 1;
  if (range > MAX_TABLE_BINS) {
    return `integer samples spanning at most ${MAX_TABLE_BINS} values, got ${summary.minimum}..${summary.maximum}`;
  }
  return undefined;
}

function validateInitialParameters(parameters: InitialParameters, K: number, D: number): void {
  const { weights, means, covariances } = parameters;
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

/** Bins of the histogram {@link robustVariances} reads its quartiles from. */
const ROBUST_BINS = 4096;

/**
 * Per feature, (IQR / 1.349)^2, the variance of a normal distribution with the same interquartile
 * range, read from a weighted histogram of 4096 bins over the feature's range (linear within a
 * bin); the variance itself where the IQR is 0. One pass over the data per feature.
 */
export function robustVariances(
  samples: SampleMatrix,
  sampleWeights: FloatArray | undefined,
  variances: Float64Array,
): Float64Array {
  const { data, nSamples: N, nFeatures: D } = samples;
  const out = new Float64Array(D);
  const counts = new Float64Array(ROBUST_BINS);
  for (let d = 0; d < D; d++) {
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < N; i++) {
      const x = data[i * D + d]!;
      if (x < low) low = x;
      if (x > high) high = x;
    }
    if (!(high > low)) {
      out[d] = variances[d]!;
      continue;
    }
    // two passes: a histogram over the whole range finds the bins of the quartiles, a second one
    // over those bins alone reads them precisely (a far outlier makes the first one coarse)
    let total = 0;
    let from = low;
    let to = high;
    let below = 0;
    let quartiles: [number, number] = [low, high];
    for (let pass = 0; pass < 2; pass++) {
      counts.fill(0);
      const width = (to - from) / ROBUST_BINS;
      below = 0;
      total = 0;
      for (let i = 0; i < N; i++) {
        const w = sampleWeights ? sampleWeights[i]! : 1;
        const x = data[i * D + d]!;
        total += w;
        if (x < from) below += w;
        else if (x <= to) counts[Math.min(ROBUST_BINS - 1, Math.floor((x - from) / width))]! += w;
      }
      const bin = (p: number): { b: number; value: number } => {
        const target = p * total;
        let cumulative = below;
        for (let b = 0; b < ROBUST_BINS; b++) {
          const next = cumulative + counts[b]!;
          if (next >= target && counts[b]! > 0)
            return { b, value: from + (b + (target - cumulative) / counts[b]!) * width };
          cumulative = next;
        }
        return { b: ROBUST_BINS - 1, value: to };
      };
      const q25 = bin(0.25);
      const q75 = bin(0.75);
      quartiles = [q25.value, q75.value];
      const nextFrom = from + q25.b * width;
      const nextTo = from + (q75.b + 1) * width;
      if (!(nextTo > nextFrom) || (nextFrom === from && nextTo === to)) break;
      from = nextFrom;
      to = nextTo;
    }
    const iqr = quartiles[1] - quartiles[0];
    out[d] = iqr > 0 ? (iqr / 1.349) ** 2 : variances[d]!;
  }
  return out;
}
