/**
 * Prediction is a function of (model, data): labels, responsibilities, per-sample
 * log-likelihoods, the plain log-domain E-step, and information criteria. Every loop is one pass
 * over the samples with no allocation per sample.
 */
import { type Components, fromGaussianMixture } from './components.ts';
import { assertFinite, validateSampleMatrix } from './data-summary.ts';
import { expNonPositive } from './exp.ts';
import {
  allocateLogDensityScratch,
  BLOCK,
  componentBase,
  logDensities,
  readBlock,
  scaleByMaxima,
} from './log-densities.ts';
import { validateGaussianMixture } from './serialize.ts';
import type { FloatArray, GaussianMixture, SampleMatrix } from './types.ts';

/** Options of the prediction functions. */
export interface PredictionOptions {
  /** Per-sample prior probabilities (N x K) replacing the mixing weights. */
  prior?: FloatArray;
  /** The same prior in the log domain. */
  logPrior?: FloatArray;
}

interface EvaluationOutputs {
  labels?: Int32Array;
  responsibilities?: FloatArray;
  logResponsibilities?: Float64Array;
  logLikelihoods?: Float64Array;
}

/**
 * One pass over the samples, a block at a time, computing whichever outputs are requested with
 * the E-step's primitives (log-densities.ts). Returns the sum of the per-sample log-likelihoods
 * (weighted when weights are given).
 */
export function evaluateComponents(
  components: Components,
  samples: SampleMatrix,
  outputs: EvaluationOutputs,
  priorOptions: PredictionOptions = {},
  sampleWeights?: FloatArray,
): number {
  const { nComponents: K, nFeatures: D } = components;
  const { data, nSamples: N } = samples;
  const { prior, logPrior } = priorOptions;
  const withPrior = prior !== undefined || logPrior !== undefined;
  const base = componentBase(components, !withPrior);
  const block = new Float64Array(D * BLOCK);
  const values = new Float64Array(K * BLOCK);
  const scaled = new Float64Array(K * BLOCK);
  const maxima = new Float64Array(BLOCK);
  const sums = new Float64Array(BLOCK);
  const scratch = allocateLogDensityScratch();
  const priorScratch = {
    row: new Float64Array(K),
    scaled: new Float64Array(K),
    maximum: new Float64Array(1),
    sum: new Float64Array(1),
  };
  const { labels, responsibilities, logResponsibilities, logLikelihoods } = outputs;
  // Labels alone need no log-sum-exp; every other output, and the returned total, does.
  const labelsOnly =
    labels !== undefined &&
    responsibilities === undefined &&
    logResponsibilities === undefined &&
    logLikelihoods === undefined;
  let total = 0;
  for (let start = 0; start < N; start += BLOCK) {
    const n = Math.min(BLOCK, N - start);
    readBlock(data, D, start, n, block);
    logDensities(components, base, block, BLOCK, n, values, maxima, scratch);
    for (let i = 0; i < n; i++) {
      if (withPrior) maxima[i] = addLogPrior(priorOptions, start + i, K, priorScratch, values, i);
      if (labels) {
        let max = -Infinity;
        let best = 0;
        for (let k = 0; k < K; k++) {
          if (values[k * BLOCK + i]! > max) {
            max = values[k * BLOCK + i]!;
            best = k;
          }
        }
        labels[start + i] = best;
      }
      if (!labelsOnly && maxima[i] === -Infinity) {
        throw new RangeError(`sample ${start + i} has zero probability under every component`);
      }
    }
    if (labelsOnly) continue;
    scaleByMaxima(values, maxima, K, BLOCK, n, scaled, sums);
    for (let i = 0; i < n; i++) {
      const sample = start + i;
      const lse = maxima[i]! + Math.log(sums[i]!);
      total += (sampleWeights ? sampleWeights[sample]! : 1) * lse;
      if (logLikelihoods) logLikelihoods[sample] = lse;
      if (!responsibilities && !logResponsibilities) continue;
      for (let k = 0; k < K; k++) {
        const logR = values[k * BLOCK + i]! - lse;
        if (logResponsibilities) logResponsibilities[sample * K + k] = logR;
        if (responsibilities) responsibilities[sample * K + k] = expNonPositive(logR);
      }
    }
  }
  return total;
}

/**
 * Adds sample i's log-prior, normalised over the components (so that log-likelihoods are
 * comparable), to its log-densities (column `column` of the block) and returns their new maximum.
 */
function addLogPrior(
  { prior, logPrior }: PredictionOptions,
  sample: number,
  K: number,
  scratch: { row: Float64Array; scaled: Float64Array; maximum: Float64Array; sum: Float64Array },
  values: Float64Array,
  column: number,
): number {
  const { row } = scratch;
  let priorMax = -Infinity;
  for (let k = 0; k < K; k++) {
    const lp = prior ? Math.log(prior[sample * K + k]!) : logPrior![sample * K + k]!;
    if (Number.isNaN(lp) || lp === Infinity)
      throw new RangeError(`prior of sample ${sample} component ${k} is not a probability`);
    row[k] = lp;
    if (lp > priorMax) priorMax = lp;
  }
  if (priorMax === -Infinity) throw new RangeError(`prior of sample ${sample} is zero for every component`);
  scratch.maximum[0] = priorMax;
  scaleByMaxima(row, scratch.maximum, K, 1, 1, scratch.scaled, scratch.sum);
  const logNorm = priorMax + Math.log(scratch.sum[0]!);
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const v = values[k * BLOCK + column]! + row[k]! - logNorm;
    values[k * BLOCK + column] = v;
    if (v > max) max = v;
  }
  return max;
}

function sumOf(values: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}

function prepare(model: GaussianMixture, samples: SampleMatrix, options: PredictionOptions = {}): Components {
  validateGaussianMixture(model);
  validateSampleMatrix(samples);
  if (samples.nFeatures !== model.nFeatures) {
    throw new RangeError(`samples have ${samples.nFeatures} features, the model expects ${model.nFeatures}`);
  }
  assertFinite(samples);
  const expected = samples.nSamples * model.nComponents;
  for (const name of ['prior', 'logPrior'] as const) {
    const value = options[name];
    if (value !== undefined && value.length !== expected) {
      throw new RangeError(
        `${name} has length ${value.length}, expected nSamples x nComponents = ${expected}`,
      );
    }
  }
  if (options.prior && options.logPrior) throw new RangeError('give either prior or logPrior, not both');
  return fromGaussianMixture(model);
}

/** Most probable component of each sample (0-based), length N. */
export function predict(
  model: GaussianMixture,
  samples: SampleMatrix,
  options?: PredictionOptions,
): Int32Array {
  const components = prepare(model, samples, options);
  const labels = new Int32Array(samples.nSamples);
  evaluateComponents(components, samples, { labels }, options);
  return labels;
}

/**
 * Responsibilities (posterior probabilities of each component), N x K row-major. Pass `out`
 * (e.g. a Float32Array to halve the memory) to write into it instead of a new Float64Array.
 */
export function predictProba(
  model: GaussianMixture,
  samples: SampleMatrix,
  options: PredictionOptions & { out?: FloatArray } = {},
): FloatArray {
  const components = prepare(model, samples, options);
  const size = samples.nSamples * model.nComponents;
  const out = options.out ?? new Float64Array(size);
  if (out.length !== size) throw new RangeError(`out has length ${out.length}, expected ${size}`);
  evaluateComponents(components, samples, { responsibilities: out }, options);
  return out;
}

/** Log-likelihood log p(x_i) of each sample under the mixture, length N. */
export function scoreSamples(
  model: GaussianMixture,
  samples: SampleMatrix,
  options?: PredictionOptions,
): Float64Array {
  const components = prepare(model, samples, options);
  const logLikelihoods = new Float64Array(samples.nSamples);
  evaluateComponents(components, samples, { logLikelihoods }, options);
  return logLikelihoods;
}

/** Mean log-likelihood per sample (weighted when weights are given). */
export function score(model: GaussianMixture, samples: SampleMatrix, sampleWeights?: FloatArray): number {
  const components = prepare(model, samples);
  if (sampleWeights !== undefined && sampleWeights.length !== samples.nSamples) {
    throw new RangeError(`sampleWeights has length ${sampleWeights.length}, expected ${samples.nSamples}`);
  }
  const total = evaluateComponents(components, samples, {}, {}, sampleWeights);
  const sumWeights = sampleWeights ? sumOf(sampleWeights) : samples.nSamples;
  return total / sumWeights;
}

/**
 * The plain E-step, in the log domain: log-responsibilities (N x K) and the mean log-likelihood.
 * The fused passes used while fitting compute the same quantities without the N x K matrix.
 */
export function expectationStep(
  model: GaussianMixture,
  samples: SampleMatrix,
  options?: PredictionOptions,
): { logResponsibilities: Float64Array; meanLogLikelihood: number } {
  const components = prepare(model, samples, options);
  const logResponsibilities = new Float64Array(samples.nSamples * model.nComponents);
  const total = evaluateComponents(components, samples, { logResponsibilities }, options);
  return { logResponsibilities, meanLogLikelihood: total / samples.nSamples };
}

/** Number of free parameters of a model (as scikit-learn counts them). */
export function nParameters(model: GaussianMixture): number {
  const { nComponents: K, nFeatures: D } = model;
  let covarianceParameters: number;
  switch (model.covarianceType) {
    case 'full':
      covarianceParameters = (K * D * (D + 1)) / 2;
      break;
    case 'tied':
      covarianceParameters = (D * (D + 1)) / 2;
      break;
    case 'diag':
      covarianceParameters = K * D;
      break;
    case 'spherical':
      covarianceParameters = K;
      break;
    default:
      throw new TypeError(`unknown covarianceType ${model.covarianceType satisfies never}`);
  }
  return covarianceParameters + K * D + K - 1;
}

function totalLogLikelihood(model: GaussianMixture, samples: SampleMatrix, sampleWeights?: FloatArray) {
  const mean = score(model, samples, sampleWeights);
  const n = sampleWeights ? sumOf(sampleWeights) : samples.nSamples;
  return { logLikelihood: mean * n, n };
}

/** Bayesian information criterion, -2 L + p log N (lower is better). */
export function bic(model: GaussianMixture, samples: SampleMatrix, sampleWeights?: FloatArray): number {
  const { logLikelihood, n } = totalLogLikelihood(model, samples, sampleWeights);
  return -2 * logLikelihood + nParameters(model) * Math.log(n);
}

/** Akaike information criterion, -2 L + 2 p (lower is better). */
export function aic(model: GaussianMixture, samples: SampleMatrix, sampleWeights?: FloatArray): number {
  const { logLikelihood } = totalLogLikelihood(model, samples, sampleWeights);
  return -2 * logLikelihood + 2 * nParameters(model);
}
