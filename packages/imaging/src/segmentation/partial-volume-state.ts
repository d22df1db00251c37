/**
 * The state the single-channel stages (partial-volume-stages.ts) work on: the lattice, the
 * regularisation of every fit, the model being refined, and the buffers each fit leaves for the
 * next bias-field estimate and for the outputs.
 */
import type { PartialVolumeFit, PartialVolumeMixture, PartialVolumeOptions, PriorUpdate } from '@mixseg/core';
import { type BiasFieldEstimate, biasFieldEstimator } from './bias-field.ts';
import { contradictsImageType } from './image-type-check.ts';
import { classShares, type Lattice } from './partial-volume-units.ts';
import type { ChannelRobustness } from './robust-intensities.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';
import type { StageProgress, SubjectGrid } from './subject.ts';

/** What the single-channel stages need of the subject. */
export interface SingleChannelInput {
  /** The (winsorised) intensities in the mask, length N. */
  values: Float32Array;
  weights: Float32Array | undefined;
  robustness: ChannelRobustness;
  grid: SubjectGrid;
  /** Atlas class probabilities (N x K), when an atlas is used. */
  atlas: Float32Array | undefined;
  /** The spatial term for given class weights (undefined for no spatial prior). */
  spatialPrior: (classWeights: number[]) => PriorUpdate | undefined;
  onIteration: StageProgress | undefined;
}

/** One model being refined: a candidate start, or the model held fixed. */
export interface Candidate {
  name: string;
  /** The lattice values of the intensities divided by the field. */
  samples: { data: Float32Array; nSamples: number; nFeatures: number };
  /** In lattice units. */
  model: PartialVolumeMixture;
  field: Float64Array | undefined;
  /** The fits so far, log-likelihoods per intensity unit. */
  fits: PartialVolumeFit[];
  /** Bias-correction rounds done. */
  rounds: number;
  contradiction: string | undefined;
  meanLogLikelihood: number;
}

/** The state the single-channel stages work on. */
export interface PartialVolumeState {
  /** The parameters are held fixed (applyModel): every fit is an E-step. */
  fixed: boolean;
  input: Omit<SingleChannelInput, 'robustness'>;
  options: ResolvedSegmentOptions;
  lattice: Lattice;
  /** log(step): subtract from a lattice fit's log-likelihoods to get them per intensity unit. */
  logStep: number;
  /** Regularisation and class prior of every fit (none when the parameters are held fixed). */
  fitOptions: Partial<PartialVolumeOptions>;
  /** The outputs the spatial stage (or the final E-step) fills. */
  outputs: { responsibilities: Float32Array; fractions: Float32Array; inliers?: Float32Array };
  inliers: Float32Array;
  estimate: BiasFieldEstimate | undefined;
  /** Each voxel's expected bias-free intensity and noise variance, as the field estimate takes them. */
  expectations: { means: Float64Array; variances: Float64Array; origin: number; step: number };
  fieldWeights: Float32Array;
  /** Whose E-step the expectations and inliers are from. */
  expectationsOf: Candidate | undefined;
  /** The model the next stages refine. */
  current: Candidate;
  /** Mean log-likelihood of each candidate start, and which was kept. */
  candidates: { name: string; meanLogLikelihood: number; contradiction: string | undefined }[];
  spatial: PartialVolumeFit | undefined;
  /** Whether the outputs hold the current model's E-step. */
  outputsFilled: boolean;
  progress: (event: { meanLogLikelihood: number }) => void;
  warnings: string[];
}

/** The state but the model: what every candidate shares. */
export type SharedState = Omit<PartialVolumeState, 'current'>;

/** The shared state: lattice, regularisation, buffers. */
export function sharedState(
  input: Omit<SingleChannelInput, 'robustness'>,
  options: ResolvedSegmentOptions,
  lattice: Lattice,
  fixed: boolean,
  fitOptions: Partial<PartialVolumeOptions>,
): SharedState {
  const K = options.nClasses;
  const N = input.values.length;
  const logStep = Math.log(lattice.step);
  const estimate = options.biasCorrection
    ? biasFieldEstimator(input.grid, { fwhm: options.biasCorrection.fwhm })
    : undefined;
  let mixtureIteration = 0;
  return {
    fixed,
    input,
    options,
    lattice,
    logStep,
    fitOptions,
    outputs: { responsibilities: new Float32Array(N * K), fractions: new Float32Array(N * K) },
    inliers: new Float32Array(N),
    estimate,
    // in intensity units, as the field estimate takes them
    expectations: {
      means: new Float64Array(estimate ? N : 0),
      variances: new Float64Array(estimate ? N : 0),
      origin: lattice.origin,
      step: lattice.step,
    },
    fieldWeights: new Float32Array(estimate ? N : 0),
    expectationsOf: undefined,
    candidates: [],
    spatial: undefined,
    outputsFilled: false,
    progress: (event) =>
      input.onIteration?.('mixture', ++mixtureIteration, event.meanLogLikelihood - logStep),
    warnings: [],
  };
}

/**
 * What a fit passes to be given the next bias-field estimate's input (each voxel's expected
 * bias-free intensity and noise variance, and its inlier probability) in the shared buffers.
 */
export function nextEStep(state: SharedState, wanted: boolean) {
  return state.options.biasCorrection !== false && state.estimate !== undefined && wanted
    ? { expectations: state.expectations, inliers: state.inliers }
    : {};
}

/** A candidate's standing: what contradicts the image type, and its last mean log-likelihood. */
export function judge(state: SharedState, candidate: Candidate): void {
  const { options } = state;
  candidate.contradiction =
    options.nClasses === 3
      ? contradictsImageType(
          candidate.model.means,
          classShares(candidate.model),
          options.imageType,
          options.classNames,
        )
      : undefined;
  candidate.meanLogLikelihood = candidate.fits[candidate.fits.length - 1]!.meanLogLikelihood;
}

/** A lattice fit's log-likelihoods per intensity unit. */
export function shift(fit: PartialVolumeFit, logStep: number): PartialVolumeFit {
  return {
    ...fit,
    meanLogLikelihood: fit.meanLogLikelihood - logStep,
    logLikelihoodTrace: fit.logLikelihoodTrace.map((v) => v - logStep),
  };
}
