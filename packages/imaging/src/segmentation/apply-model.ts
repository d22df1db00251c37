/**
 * Segmentation with a model fitted before (on this subject or another), without fitting: the
 * `mixseg segment --model` path. The stages of {@link segment} run with the parameters held fixed
 * (model-stages.ts): with `biasCorrection` (for a model fitted with it: the model is in the units
 * of bias-corrected intensities) the subject's own bias field is estimated in the rounds segment()
 * runs; the model's responsibilities are its posterior probabilities; with a spatial prior, the
 * prior is recomputed from the responsibilities until the labels stop changing, as the spatial
 * stage of segment() does between its iterations. Without `biasCorrection` the model applies to
 * the intensities as given.
 */
import {
  type GaussianMixture,
  type PartialVolumeMixture,
  validateGaussianMixture,
  validatePartialVolumeMixture,
} from '@mixseg/core';
import type { Volume } from '../types.ts';
import { correctBias, fitSpatial, heldModelResult, holdModel, scoreModel } from './model-stages.ts';
import { stageClock } from './segment.ts';
import {
  DEFAULT_SEGMENT_OPTIONS,
  describeMask,
  type ResolvedSegmentOptions,
  resolveClassNames,
  resolveLabelTol,
  type SegmentOptions,
} from './segment-options.ts';
import { type Segmentation, segmentation } from './segmentation-outputs.ts';
import { prepareSubject } from './subject.ts';

/** Options of {@link applyModel}: those of {@link segment} that do not concern fitting. */
export type ApplyModelOptions = Pick<
  SegmentOptions,
  | 'prior'
  | 'beta'
  | 'neighbourhood'
  | 'potts'
  | 'classWeightPower'
  | 'biasCorrection'
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
 * order, as {@link segment} returns them): a Gaussian mixture, or (one channel) a partial-volume
 * mixture, which also gives the fraction maps. The result has the shape of {@link segment}'s:
 * `mixture` reports no iterations (nothing is fitted) and the model's mean log-likelihood on the
 * data; `spatial`, with a prior, reports the prior updates.
 *
 * @throws {TypeError} when `model` is not a valid Gaussian or partial-volume mixture.
 * @throws {RangeError} when the model's number of features is not the number of channels, or for
 *   bad options (as {@link segment}).
 * @throws {ImageFileError} for channels on different grids or an empty mask.
 */
export function applyModel(
  channels: Volume[],
  model: GaussianMixture | PartialVolumeMixture,
  options: ApplyModelOptions = {},
): Segmentation {
  const resolved = resolveApplyModelOptions(channels, model, options);
  const clock = stageClock();
  const subject = prepareSubject(
    channels,
    { mask: options.mask, onIteration: options.onIteration },
    resolved,
  );
  const features = clock();
  const fit = holdModel(subject, model, resolved);
  correctBias(fit);
  const meanLogLikelihood = scoreModel(fit);
  const mixture = clock();
  fitSpatial(fit);
  const spatial = clock();
  const result = heldModelResult(fit, model, meanLogLikelihood);
  return segmentation(subject, result, resolved, { features, mixture, spatial }, clock, false);
}

/**
 * Checks the model against the channels and the options, and resolves them as {@link segment}'s
 * (what is not about fitting keeps segment()'s defaults; the rest says nothing was fitted).
 */
function resolveApplyModelOptions(
  channels: Volume[],
  model: GaussianMixture | PartialVolumeMixture,
  options: ApplyModelOptions,
): ResolvedSegmentOptions {
  const partialVolume = 'pairs' in model;
  if (partialVolume) validatePartialVolumeMixture(model);
  else validateGaussianMixture(model);
  if (!channels[0]) throw new RangeError('at least one channel is needed');
  const nFeatures = partialVolume ? 1 : (model as GaussianMixture).nFeatures;
  if (nFeatures !== channels.length) {
    throw new RangeError(
      `the model has ${nFeatures} feature(s) (channels), the subject has ${channels.length} channel(s)`,
    );
  }
  const K = partialVolume ? (model as PartialVolumeMixture).nClasses : (model as GaussianMixture).nComponents;
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
  const beta = options.beta ?? DEFAULT_SEGMENT_OPTIONS.beta[prior];
  const classWeightPower = options.classWeightPower ?? DEFAULT_SEGMENT_OPTIONS.classWeightPower;
  const bias = options.biasCorrection ?? false;
  const biasCorrection =
    bias === false
      ? false
      : {
          fwhm: (bias === true ? undefined : bias.fwhm) ?? DEFAULT_SEGMENT_OPTIONS.bias.fwhm,
          rounds: (bias === true ? undefined : bias.rounds) ?? DEFAULT_SEGMENT_OPTIONS.bias.rounds,
          iterations:
            (bias === true ? undefined : bias.iterations) ?? DEFAULT_SEGMENT_OPTIONS.bias.iterations,
        };
  const preparation = options.preparation ?? 'none';
  const probabilities = options.probabilities ?? true;
  return {
    ...DEFAULT_SEGMENT_OPTIONS,
    nClasses: K,
    prior,
    beta,
    classWeightPower,
    atlas: [],
    biasCorrection,
    robust: false,
    partialVolume: partialVolume ? { mixelCap: Infinity } : false,
    // a partial-volume model's pure classes are one-feature Gaussians ('full')
    covarianceType: partialVolume ? 'full' : (model as GaussianMixture).covarianceType,
    covarianceShrinkage: 0,
    nInit: 0,
    maxIter,
    tol: 0,
    labelTol,
    preparation,
    probabilities,
    classNames,
    mask: describeMask(options.mask),
    neighbourhood: options.neighbourhood ?? {},
    potts: options.potts ?? {},
  };
}
