/**
 * The stages of a segmentation with a plain Gaussian mixture: several channels (T1 + T2 + PD), or
 * one channel with `partialVolume: false`, over one state. A plain mixture with seeded restarts
 * (with several channels, on the first channel, whose responsibilities start the multi-channel
 * fit) ({@link fitGaussian}), rounds of bias-field correction ({@link correctGaussianBias}), then
 * EM with the spatial prior ({@link fitGaussianSpatial}). {@link holdGaussian} starts the same
 * stages from a given model whose parameters stay fixed (applyModel): each stage then only
 * computes responsibilities (core's Gaussian fit has no fixed-parameter mode, so the held-fixed
 * stages run the E-steps themselves).
 */
import {
  fitGaussianMixture,
  type GaussianMixture,
  type GaussianMixtureFit,
  type GaussianMixtureOptions,
  mostProbableComponent,
  type PriorUpdate,
  predictProba,
  score,
} from '@mixseg/core';
import { biasFieldEstimator } from './bias-field.ts';
import type { ChannelTransform } from './features.ts';
import { affineModel, latticeOf, reverseColumns, reverseModel } from './gaussian-model-units.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';
import type { StageReport } from './stage-reports.ts';
import type { StageProgress, SubjectGrid } from './subject.ts';

/** What the Gaussian stages need of the subject. */
export interface GaussianInput {
  /** N x D, prepared (and winsorised) intensities; the bias correction rewrites it. */
  samples: { data: Float32Array; nSamples: number; nFeatures: number };
  transforms: ChannelTransform[];
  weights: Float32Array | undefined;
  grid: SubjectGrid;
  atlas: Float32Array | undefined;
  /**
   * Starting class responsibilities (N x K), e.g. the first channel's partial-volume segmentation:
   * then no plain restarts run.
   */
  initialResponsibilities?: Float32Array;
  /** Bias fields already applied to some channels (by channel; undefined: estimate it here). */
  knownFields?: (Float64Array | undefined)[];
  spatialPrior: (classWeights: number[]) => PriorUpdate | undefined;
  onIteration: StageProgress | undefined;
}

/** The state the Gaussian stages work on. */
export interface GaussianState {
  /** The parameters are held fixed (applyModel). */
  fixed: boolean;
  input: GaussianInput;
  options: ResolvedSegmentOptions;
  /** Components in label order, in (bias-corrected, prepared) intensity units, or lattice units. */
  model: GaussianMixture;
  /** N x K. */
  responsibilities: Float32Array;
  /** What every fit shares. */
  common: GaussianMixtureOptions;
  /** The mixture stage's fits: the start, then one per bias-correction round. */
  fits: GaussianMixtureFit[];
  spatial: GaussianMixtureFit | undefined;
  /** The lattice one channel's corrected intensities are rounded to, during bias correction. */
  lattice: { origin: number; step: number } | undefined;
  /** Log-likelihoods of fits on the lattice are per lattice unit; add this to get them per intensity unit. */
  logDensityShift: number;
  biasFields: Float64Array[] | undefined;
  /** Held fixed: the model's mean log-likelihood on the (corrected) data. */
  score: number | undefined;
  /** Held fixed: how the spatial stage went. */
  spatialHeldFixed: StageReport | undefined;
  progress: (event: { meanLogLikelihood: number }) => void;
}

/**
 * Fits the mixture: the plain mixture with restarts, or, with an atlas, EM under the atlas prior
 * started from the atlas-weighted moments, or from given responsibilities.
 */
export function fitGaussian(input: GaussianInput, options: ResolvedSegmentOptions): GaussianState {
  const K = options.nClasses;
  const { samples, weights } = input;
  const N = samples.nSamples;
  const D = samples.nFeatures;
  const responsibilities = new Float32Array(N * K);
  const common: GaussianMixtureOptions = {
    nComponents: K,
    covarianceType: options.covarianceType,
    covarianceShrinkage: options.covarianceShrinkage,
    tol: options.tol,
    ...(weights ? { sampleWeights: weights } : {}),
  };
  // the mixture stage's iterations count on across the bias-correction rounds' refits, in
  // intensity units (the shift is that of the lattice, once bias correction has set one)
  let state: GaussianState | undefined;
  let mixtureIteration = 0;
  const progress = (event: { meanLogLikelihood: number }) =>
    input.onIteration?.(
      'mixture',
      ++mixtureIteration,
      event.meanLogLikelihood + (state?.logDensityShift ?? 0),
    );
  const reversed = options.imageType !== 't1';
  // With several channels and no atlas, the restarts run on the first channel alone and its
  // responsibilities give the multi-channel starting point: on SRI24 T1+T2+PD, k-means on all
  // three channels starts in a partition where CSF's broad T2/PD spread splits the tissues, while
  // the first channel's classes are the wanted ones.
  let start: Partial<GaussianMixtureOptions> = { nInit: options.nInit, seed: options.seed };
  if (input.atlas) {
    start = { initialResponsibilities: input.atlas, componentOrder: 'fixed' };
  } else if (input.initialResponsibilities) {
    responsibilities.set(input.initialResponsibilities);
    start = { initialResponsibilities: responsibilities, componentOrder: 'fixed' };
  } else if (D > 1) {
    const firstChannel = new Float32Array(N);
    for (let i = 0; i < N; i++) firstChannel[i] = samples.data[i * D]!;
    fitGaussianMixture(
      { data: firstChannel, nSamples: N, nFeatures: 1 },
      { ...common, nInit: options.nInit, seed: options.seed, maxIter: options.maxIter, responsibilities },
    );
    if (reversed) reverseColumns(responsibilities, K);
    start = { initialResponsibilities: responsibilities, componentOrder: 'fixed' };
  }
  const first = fitGaussianMixture(samples, {
    ...common,
    ...(input.atlas ? { prior: input.atlas } : {}),
    ...start,
    maxIter: options.maxIter,
    responsibilities,
    onIteration: progress,
  });
  let model = first.model;
  if (reversed && !input.atlas && !input.initialResponsibilities && D === 1) {
    model = reverseModel(model);
    reverseColumns(responsibilities, K);
  }
  state = gaussianState(input, options, model, responsibilities, common, progress);
  state.fits.push(first);
  return state;
}

/** The state of a given model (in prepared intensity units) whose parameters stay fixed. */
export function holdGaussian(
  input: GaussianInput,
  model: GaussianMixture,
  options: ResolvedSegmentOptions,
): GaussianState {
  const responsibilities = new Float32Array(input.samples.nSamples * model.nComponents);
  return { ...gaussianState(input, options, model, responsibilities, {}, () => {}), fixed: true };
}

/** A fitted model's state before bias correction. */
function gaussianState(
  input: GaussianInput,
  options: ResolvedSegmentOptions,
  model: GaussianMixture,
  responsibilities: Float32Array,
  common: GaussianMixtureOptions,
  progress: GaussianState['progress'],
): GaussianState {
  return {
    fixed: false,
    input,
    options,
    model,
    responsibilities,
    common,
    fits: [],
    spatial: undefined,
    lattice: undefined,
    logDensityShift: 0,
    biasFields: undefined,
    score: undefined,
    spatialHeldFixed: undefined,
    progress,
  };
}

/**
 * Rounds of (estimate the field, correct, refit). A fitted model estimates each channel's own
 * field (unless the caller applied one already); a model held fixed estimates one field from the
 * first channel and corrects every channel by it.
 */
export function correctGaussianBias(state: GaussianState): void {
  if (!state.options.biasCorrection) return;
  if (state.fixed) correctBiasHeldFixed(state);
  else correctBiasFitting(state);
}

function correctBiasFitting(state: GaussianState): void {
  const { input, options, responsibilities } = state;
  if (!options.biasCorrection) return;
  const K = options.nClasses;
  const { samples, weights, grid } = input;
  const N = samples.nSamples;
  const D = samples.nFeatures;
  const { fwhm, rounds, iterations } = options.biasCorrection;
  // One channel's corrected intensities are stored on a lattice of LATTICE_STEPS steps over its
  // range, so that the E-step still tabulates the densities per distinct value.
  const lattice = D === 1 ? latticeOf(samples.data) : undefined;
  const transforms = lattice
    ? [
        {
          scale: input.transforms[0]!.scale * lattice.step,
          offset: input.transforms[0]!.offset + lattice.origin * input.transforms[0]!.scale,
        },
      ]
    : input.transforms;
  if (lattice) {
    state.model = affineModel(state.model, 1 / lattice.step, -lattice.origin / lattice.step);
    state.logDensityShift = -Math.log(lattice.step);
    state.lattice = lattice;
  }
  const raw = new Float32Array(samples.data.length);
  for (let i = 0; i < N; i++) {
    for (let d = 0; d < D; d++) {
      const { scale, offset } = input.transforms[d]!;
      raw[i * D + d] = samples.data[i * D + d]! * scale + offset;
    }
  }
  const biasFields = Array.from({ length: D }, () => new Float64Array(N));
  state.biasFields = biasFields;
  const estimate = biasFieldEstimator(grid, { fwhm });
  const values = new Float64Array(N);
  const weighted = weights ? new Float32Array(N * K) : responsibilities;
  for (let round = 0; round < rounds; round++) {
    if (weights)
      for (let e = 0; e < N * K; e++) weighted[e] = responsibilities[e]! * weights[Math.floor(e / K)]!;
    for (let d = 0; d < D; d++) {
      const known = input.knownFields?.[d];
      if (known) {
        // applied by the caller already: kept as it is
        if (round === 0) biasFields[d]!.set(known);
        continue;
      }
      const { scale, offset } = transforms[d]!;
      const means = state.model.means.map((mean) => mean[d]! * scale + offset);
      const variances = state.model.covariances.map((covariance) => covariance[d]![d]! * scale * scale);
      for (let i = 0; i < N; i++) values[i] = raw[i * D + d]!;
      const field = biasFields[d]!;
      estimate(values, weighted, means, variances, field);
      if (lattice) {
        for (let i = 0; i < N; i++) samples.data[i] = Math.round((values[i]! / field[i]! - offset) / scale);
      } else {
        for (let i = 0; i < N; i++) samples.data[i * D + d] = (values[i]! / field[i]! - offset) / scale;
      }
    }
    const refit = fitGaussianMixture(samples, {
      ...state.common,
      componentOrder: 'fixed',
      ...(input.atlas ? { prior: input.atlas } : {}),
      initialParameters: state.model,
      maxIter: iterations,
      responsibilities,
      onIteration: state.progress,
    });
    state.fits.push(refit);
    state.model = refit.model;
  }
}

/**
 * The subject's own field with the model held fixed: one field for every channel, from the first
 * (as segment() shares the first channel's field), in each channel's own units (the preparation
 * undone), where the field is multiplicative.
 */
function correctBiasHeldFixed(state: GaussianState): void {
  const { input, options, responsibilities, model } = state;
  if (!options.biasCorrection) return;
  const { samples, transforms } = input;
  const N = samples.nSamples;
  const D = samples.nFeatures;
  const estimate = biasFieldEstimator(input.grid, { fwhm: options.biasCorrection.fwhm });
  const field = new Float64Array(N).fill(1);
  const raw = Float32Array.from(
    samples.data,
    (x, e) => x * transforms[e % D]!.scale + transforms[e % D]!.offset,
  );
  const first = new Float64Array(N);
  for (let i = 0; i < N; i++) first[i] = raw[i * D]!;
  const { scale, offset } = transforms[0]!;
  const means = model.means.map((m) => m[0]! * scale + offset);
  const variances = model.covariances.map((c) => c[0]![0]! * scale * scale);
  for (let round = 0; round < options.biasCorrection.rounds; round++) {
    predictProba(model, samples, { out: responsibilities });
    estimate(first, responsibilities, means, variances, field);
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) {
        const t = transforms[d]!;
        samples.data[i * D + d] = (raw[i * D + d]! / field[i]! - t.offset) / t.scale;
      }
    }
  }
  state.biasFields = [field];
}

/**
 * The responsibilities of a model held fixed, and its mean log-likelihood (the mixture stage's
 * report when nothing is fitted).
 */
export function scoreGaussian(state: GaussianState): number {
  const { samples } = state.input;
  predictProba(state.model, samples, { out: state.responsibilities });
  state.score = score(state.model, samples);
  return state.score;
}

/** EM again with the spatial prior (nothing without one). */
export function fitGaussianSpatial(state: GaussianState): void {
  const { input, options } = state;
  const weights = state.model.weights.map((w) => Math.max(w, 1e-6) ** options.classWeightPower);
  const update = input.spatialPrior(weights);
  if (!update) return;
  if (state.fixed) {
    spatialHeldFixed(state, update);
    return;
  }
  let iteration = 0;
  state.spatial = fitGaussianMixture(input.samples, {
    ...state.common,
    componentOrder: 'fixed',
    initialParameters: state.model,
    ...(input.atlas ? { prior: input.atlas } : {}),
    maxIter: options.maxIter,
    labelTol: options.labelTol,
    updatePrior: update,
    responsibilities: state.responsibilities,
    onIteration: (event) =>
      input.onIteration?.('spatial', ++iteration, event.meanLogLikelihood + state.logDensityShift),
  });
  state.model = state.spatial.model;
}

/**
 * The spatial stage with the parameters held fixed: the prior recomputed from the
 * responsibilities, then the responsibilities under it, until at most `labelTol` of the labels
 * change (as the fitted stage stops), or `maxIter`.
 */
function spatialHeldFixed(state: GaussianState, update: PriorUpdate): void {
  const { input, options, responsibilities, model } = state;
  const { samples } = input;
  const N = samples.nSamples;
  const K = model.nComponents;
  const { maxIter, labelTol } = options;
  const meanLogLikelihood = state.score ?? scoreGaussian(state);
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
    input.onIteration?.('spatial', iteration, meanLogLikelihood);
  }
  state.spatialHeldFixed = {
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

/** The model of the state in (bias-corrected, prepared) intensity units. */
export function gaussianModel(state: GaussianState): GaussianMixture {
  return state.lattice ? affineModel(state.model, state.lattice.step, state.lattice.origin) : state.model;
}
