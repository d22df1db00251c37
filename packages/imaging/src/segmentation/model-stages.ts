/**
 * The stages of {@link segment} between preparing the subject and the outputs, for either
 * intensity model: one channel with the partial-volume mixture (partial-volume-stages.ts), or the
 * Gaussian mixture (gaussian-stages.ts; with several channels, started from the first channel's
 * partial-volume segmentation). Fit the mixture, correct the bias, fit with the spatial prior; or,
 * for {@link applyModel}, the same stages from a given model whose parameters stay fixed.
 */
import type { GaussianMixture, PartialVolumeMixture } from '@mixseg/core';
import {
  correctGaussianBias,
  fitGaussian,
  fitGaussianSpatial,
  type GaussianInput,
  type GaussianState,
  gaussianModel,
  holdGaussian,
  scoreGaussian,
} from './gaussian-stages.ts';
import {
  correctPartialVolumeBias,
  fitPartialVolume,
  fitPartialVolumeSpatial,
  holdPartialVolume,
  type PartialVolumeState,
  partialVolumeModel,
  runPartialVolume,
  type SingleChannelInput,
  scorePartialVolume,
} from './partial-volume-stages.ts';
import { pureClassesAsGaussianMixture } from './partial-volume-units.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';
import {
  fixedReport,
  gaussianReport,
  mergeReports,
  partialVolumeReport,
  type StageReport,
} from './stage-reports.ts';
import { channelRobustness, channelValues, type Subject } from './subject.ts';
import { unmixedFractions } from './unmixed-fractions.ts';

/** The intensity model being fitted (or held fixed), and its stages' state. */
export type ModelState =
  | { kind: 'partial-volume'; state: PartialVolumeState }
  | { kind: 'gaussian'; state: GaussianState };

/** What the stages give the outputs. */
export interface ModelResult {
  /** Components in label order, in the units of the bias-corrected (and prepared) intensities. */
  model: GaussianMixture;
  partialVolume: PartialVolumeMixture | undefined;
  /** N x K. */
  responsibilities: Float32Array;
  /** N x K, or undefined (a Gaussian mixture held fixed). */
  fractions: Float32Array | undefined;
  /** At each sample, by channel. */
  biasFields: Float64Array[] | undefined;
  mixture: StageReport;
  spatial: StageReport | undefined;
  /** Voxels the outlier class took (inlier probability below 1/2). */
  outliers: number;
}

/**
 * Fits the mixture. With several channels, the first channel's partial-volume segmentation
 * (robust starts, bias field, spatial prior) starts the multi-channel mixture, and its fractions
 * keep the mixed voxels out of the class estimates: a voxel that is half CSF and half GM would
 * widen both classes' T2 and PD spreads (SRI24 T1+T2+PD: mean Dice .920 from a plain start, .939
 * from this one).
 */
export function fitMixture(subject: Subject, options: ResolvedSegmentOptions): ModelState {
  const { samples } = subject.features;
  const D = samples.nFeatures;
  if (D === 1 && options.partialVolume) {
    return { kind: 'partial-volume', state: fitPartialVolume(singleChannel(subject), options) };
  }
  const input = gaussianInput(subject);
  if (D > 1 && options.partialVolume && !subject.atlas) {
    const K = options.nClasses;
    const N = samples.nSamples;
    const weights = subject.robust?.weights;
    const single = runPartialVolume({ ...singleChannel(subject), atlas: undefined }, options);
    const { fractions, responsibilities } = single.outputs;
    const purity = new Float32Array(N);
    for (let i = 0, row = 0; i < N; i++, row += K) {
      let largest = 0;
      for (let k = 0; k < K; k++) largest = Math.max(largest, fractions[row + k]!);
      purity[i] =
        (weights ? weights[i]! : 1) * single.inliers[i]! * Math.min(1, Math.max(0, 2 * largest - 1));
    }
    // one field for every channel, the first channel's: the receive coil's sensitivity is shared
    // by the sequences of a session, and a T2 or PD field estimated on its own follows CSF's broad
    // spread (SRI24 T1+T2+PD: mean Dice .937 shared, .933 estimated per channel)
    const field = single.current.field;
    if (field) {
      for (let i = 0; i < N; i++) {
        for (let d = 0; d < D; d++) {
          const { scale, offset } = subject.features.transforms[d]!;
          const raw = samples.data[i * D + d]! * scale + offset;
          samples.data[i * D + d] = (raw / field[i]! - offset) / scale;
        }
      }
    }
    subject.warnings.push(...single.warnings);
    input.weights = purity;
    input.initialResponsibilities = responsibilities;
    input.knownFields = field ? new Array<Float64Array>(D).fill(field) : undefined;
  }
  return { kind: 'gaussian', state: fitGaussian(input, options) };
}

/** The state of a given model whose parameters stay fixed (applyModel). */
export function holdModel(
  subject: Subject,
  model: GaussianMixture | PartialVolumeMixture,
  options: ResolvedSegmentOptions,
): ModelState {
  if ('pairs' in model) {
    // the prepared values, as the model is applied to them
    const input = {
      values: subject.features.samples.data,
      weights: subject.robust?.weights,
      grid: subject.grid,
      atlas: subject.atlas,
      spatialPrior: subject.spatialPrior,
      onIteration: subject.onIteration,
    };
    return { kind: 'partial-volume', state: holdPartialVolume(input, model, options) };
  }
  return { kind: 'gaussian', state: holdGaussian(gaussianInput(subject), model, options) };
}

/** The rounds of bias-field correction (those not run while fitting the mixture). */
export function correctBias(fit: ModelState): void {
  if (fit.kind === 'partial-volume') correctPartialVolumeBias(fit.state);
  else correctGaussianBias(fit.state);
}

/** A model held fixed: its responsibilities and mean log-likelihood on the corrected data. */
export function scoreModel(fit: ModelState): number {
  return fit.kind === 'partial-volume' ? scorePartialVolume(fit.state) : scoreGaussian(fit.state);
}

/** EM again with the spatial prior (for a model held fixed, the responsibilities under it). */
export function fitSpatial(fit: ModelState): void {
  if (fit.kind === 'partial-volume') fitPartialVolumeSpatial(fit.state);
  else fitGaussianSpatial(fit.state);
}

/** What the stages found, in intensity units, with the stages' reports. */
export function modelResult(fit: ModelState, subject: Subject): ModelResult {
  if (fit.kind === 'partial-volume') {
    const { state } = fit;
    const partialVolume = partialVolumeModel(state);
    const field = state.current.field;
    let outliers = 0;
    if (!state.fixed) for (let i = 0; i < state.inliers.length; i++) if (state.inliers[i]! < 0.5) outliers++;
    subject.warnings.push(...state.warnings);
    return {
      model: pureClassesAsGaussianMixture(partialVolume),
      partialVolume,
      responsibilities: state.outputs.responsibilities,
      fractions: state.outputs.fractions,
      biasFields: field ? [field] : undefined,
      mixture: {
        ...mergeReports(state.current.fits.map(partialVolumeReport)),
        initScores: state.candidates.map((c) => c.meanLogLikelihood),
      },
      spatial: state.spatial ? partialVolumeReport(state.spatial) : undefined,
      outliers,
    };
  }
  const { state } = fit;
  const K = state.options.nClasses;
  const shift = state.logDensityShift;
  const mixture = mergeReports(state.fits.map((f) => gaussianReport(f, shift)));
  mixture.initScores = state.fits[0]?.initScores ?? [];
  return {
    model: gaussianModel(state),
    partialVolume: undefined,
    responsibilities: state.responsibilities,
    fractions: unmixedFractions(state.input.samples, state.model, state.responsibilities, K),
    biasFields: state.biasFields,
    mixture,
    spatial: state.spatial ? gaussianReport(state.spatial, shift) : undefined,
    outliers: 0,
  };
}

/** What the stages found with the parameters held fixed: the stages' reports say so. */
export function heldModelResult(
  fit: ModelState,
  model: GaussianMixture | PartialVolumeMixture,
  meanLogLikelihood: number,
): ModelResult {
  const mixture = fixedReport(meanLogLikelihood);
  if (fit.kind === 'partial-volume') {
    const { state } = fit;
    const field = state.current.field;
    const spatial = state.spatial;
    return {
      model: pureClassesAsGaussianMixture(model as PartialVolumeMixture),
      partialVolume: model as PartialVolumeMixture,
      responsibilities: state.outputs.responsibilities,
      fractions: state.outputs.fractions,
      biasFields: field ? [field] : undefined,
      mixture,
      spatial: spatial && {
        ...partialVolumeReport(spatial),
        warnings: spatial.converged ? [] : [`labels still changed at maxIter = ${state.options.maxIter}`],
      },
      outliers: 0,
    };
  }
  const { state } = fit;
  return {
    model: model as GaussianMixture,
    partialVolume: undefined,
    responsibilities: state.responsibilities,
    fractions: undefined,
    biasFields: state.biasFields,
    mixture,
    spatial: state.spatialHeldFixed,
    outliers: 0,
  };
}

/** The first channel as the single-channel stages take it. */
function singleChannel(subject: Subject): SingleChannelInput {
  const values = channelValues(subject, 0);
  return {
    values,
    weights: subject.robust?.weights,
    robustness: channelRobustness(subject, 0, values),
    grid: subject.grid,
    atlas: subject.atlas,
    spatialPrior: subject.spatialPrior,
    onIteration: subject.onIteration,
  };
}

function gaussianInput(subject: Subject): GaussianInput {
  return {
    samples: subject.features.samples,
    transforms: subject.features.transforms,
    weights: subject.robust?.weights,
    grid: subject.grid,
    atlas: subject.atlas,
    spatialPrior: subject.spatialPrior,
    onIteration: subject.onIteration,
  };
}
