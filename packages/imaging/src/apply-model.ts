/**
 * Segmentation with a model fitted before (on this subject or another), without fitting: the
 * `mixseg segment --model` path. The parameters stay fixed; only the labels are computed, by the
 * model's posterior probabilities, with the spatial prior (when one is chosen) recomputed from the
 * responsibilities until no label changes, as the spatial stage of {@link segment} does between
 * its iterations (`ppf` holds the model's weights fixed as its class weights, as segment() holds
 * the plain fit's). No bias field is estimated: the model applies to the intensities as given.
 */
import {
  type GaussianMixture,
  mostProbableComponent,
  predictProba,
  score,
  validateGaussianMixture,
} from '@mixseg/core';
import {
  describeMask,
  labelOutputs,
  resolveClassNames,
  resolveLabelTol,
  type Segmentation,
  type SegmentOptions,
  type StageReport,
  spatialPrior,
  subjectFeatures,
} from './segment.ts';
import type { Volume } from './types.ts';

/** Options of {@link applyModel}: those of {@link segment} that do not concern fitting. */
export type ApplyModelOptions = Pick<
  SegmentOptions,
  | 'prior'
  | 'beta'
  | 'neighbourhood'
  | 'potts'
  | 'maxIter'
  | 'labelTol'
  | 'preparation'
  | 'mask'
  | 'probabilities'
  | 'classNames'
  | 'onIteration'
>;

/**
 * Labels, probabilities and statistics of one subject under a given model (components in label
 * order, as {@link segment} returns them). The result has the shape of {@link segment}'s: `mixture`
 * reports no iterations (nothing is fitted) and the model's mean log-likelihood on the data;
 * `spatial`, with a prior, reports the prior updates (`converged` when at most a fraction
 * `labelTol` of the labels changed in an update before `maxIter`).
 *
 * @throws {TypeError} when `model` is not a valid Gaussian mixture.
 * @throws {RangeError} when the model's number of features is not the number of channels, or for
 *   bad options (as {@link segment}).
 * @throws {ImageFileError} for channels on different grids or an empty mask.
 */
export function applyModel(
  channels: Volume[],
  model: GaussianMixture,
  options: ApplyModelOptions = {},
): Segmentation {
  validateGaussianMixture(model);
  const first = channels[0];
  if (!first) throw new RangeError('at least one channel is needed');
  if (model.nFeatures !== channels.length) {
    throw new RangeError(
      `the model has ${model.nFeatures} feature(s) (channels), the subject has ${channels.length} channel(s)`,
    );
  }
  const K = model.nComponents;
  const prior = options.prior ?? 'ppf';
  if (!['ppf', 'mrf', 'none'].includes(prior)) {
    throw new RangeError(`prior must be "ppf", "mrf" or "none", got ${JSON.stringify(prior)}`);
  }
  const maxIter = options.maxIter ?? 200;
  if (!Number.isInteger(maxIter) || maxIter < 1) {
    throw new RangeError(`maxIter must be a positive integer, got ${maxIter}`);
  }
  const labelTol = resolveLabelTol(options.labelTol);
  const classNames = resolveClassNames(options.classNames, K);
  const seconds = (start: number) => (performance.now() - start) / 1000;

  let started = performance.now();
  const preparation = options.preparation ?? 'none';
  const { mask, features } = subjectFeatures(channels, options.mask, preparation);
  const { samples, voxelIndices } = features;
  const featuresTime = seconds(started);

  started = performance.now();
  const N = samples.nSamples;
  const responsibilities = new Float32Array(N * K);
  predictProba(model, samples, { out: responsibilities });
  const meanLogLikelihood = score(model, samples);
  const mixture: StageReport = {
    converged: true,
    stopReason: 'tolerance',
    nIter: 0,
    meanLogLikelihood,
    logLikelihoodTrace: [meanLogLikelihood],
    strategy: 'direct',
    initScores: [],
    warnings: [],
  };
  const mixtureTime = seconds(started);

  started = performance.now();
  let spatial: StageReport | undefined;
  const beta = options.beta ?? (prior === 'mrf' ? 0.3 : 1);
  if (prior !== 'none') {
    const grid = { dims: first.dims, spacing: first.spacing, voxelIndices };
    const update = spatialPrior(grid, model.weights, {
      prior,
      beta,
      neighbourhood: options.neighbourhood ?? {},
      potts: options.potts ?? {},
    })!;
    const priorValues = new Float32Array(N * K);
    const labels = new Uint8Array(N);
    for (let i = 0; i < N; i++) labels[i] = mostProbableComponent(responsibilities, i, K);
    let iteration = 0;
    let changed = N;
    let stable = false;
    while (!stable && iteration < maxIter) {
      iteration++;
      update({ iteration, responsibilities, model, prior: priorValues });
      predictProba(model, samples, { prior: priorValues, out: responsibilities });
      changed = 0;
      for (let i = 0; i < N; i++) {
        const label = mostProbableComponent(responsibilities, i, K);
        if (label !== labels[i]) changed++;
        labels[i] = label;
      }
      stable = changed <= labelTol * N;
      options.onIteration?.({ stage: 'spatial', iteration, meanLogLikelihood });
    }
    spatial = {
      converged: stable,
      stopReason: stable ? 'labels-stable' : 'max-iterations',
      nIter: iteration,
      meanLogLikelihood,
      logLikelihoodTrace: [],
      strategy: 'direct',
      initScores: [],
      warnings: stable ? [] : [`${changed} labels still changed at maxIter = ${maxIter}`],
    };
  }
  const spatialTime = seconds(started);

  started = performance.now();
  const probabilities = options.probabilities ?? true;
  const outputs = labelOutputs(channels, responsibilities, voxelIndices, { probabilities, classNames });
  return {
    ...outputs,
    model,
    mixture,
    spatial,
    // nothing is fitted, so no field is estimated: the model applies to the intensities as given
    biasFields: undefined,
    mask,
    nonFinite: features.nonFinite,
    options: {
      nClasses: K,
      prior,
      beta,
      atlas: [],
      atlasWeight: 0.5,
      biasCorrection: false,
      covarianceType: model.covarianceType,
      covarianceShrinkage: 0,
      nInit: 0,
      seed: 0,
      maxIter,
      tol: 0,
      labelTol,
      preparation,
      probabilities,
      classNames,
      mask: describeMask(options.mask),
      neighbourhood: options.neighbourhood ?? {},
      potts: options.potts ?? {},
    },
    timings: {
      features: featuresTime,
      mixture: mixtureTime,
      spatial: spatialTime,
      outputs: seconds(started),
    },
  };
}
