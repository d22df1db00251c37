/**
 * The stages of a single-channel segmentation with the partial-volume mixture
 * (docs/algorithms.md, "The partial-volume mixture" and "The stages of segment()"), over one state:
 * the intensities are put on a lattice; candidate starts are each refined as a partial-volume
 * mixture (and through a first round of bias-field correction) and the most likely one that does
 * not contradict the image type is kept ({@link fitPartialVolume}); the remaining rounds of
 * bias-field correction follow ({@link correctPartialVolumeBias}); then EM again with the spatial
 * prior on the classes ({@link fitPartialVolumeSpatial}). {@link holdPartialVolume} starts the
 * same stages from a given model whose parameters stay fixed (applyModel): each fit is then only
 * an E-step.
 */
import { fitPartialVolumeMixture, type PartialVolumeMixture, type PartialVolumeOptions } from '@mixseg/core';
import {
  adjacentInOrder,
  candidateStarts,
  PARTIAL_VOLUME_STEPS,
  sameModel,
} from './partial-volume-starts.ts';
import {
  type Candidate,
  judge,
  nextEStep,
  type PartialVolumeState,
  type SharedState,
  type SingleChannelInput,
  sharedState,
  shift,
} from './partial-volume-state.ts';
import {
  classShares,
  intensityLattice,
  latticeValues,
  modelInIntensityUnits,
} from './partial-volume-units.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';

export type { PartialVolumeState, SingleChannelInput } from './partial-volume-state.ts';

/**
 * Fits the mixture: candidate starts, each refined as a partial-volume mixture and (with several)
 * through a first round of bias-field correction; the one kept does not contradict the image type
 * and, among those, is the most likely on its corrected data.
 */
export function fitPartialVolume(
  input: SingleChannelInput,
  options: ResolvedSegmentOptions,
): PartialVolumeState {
  const K = options.nClasses;
  const { values, weights, robustness } = input;
  const N = values.length;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < N; i++) {
    const x = values[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  const lattice = intensityLattice(low, high, robustness.integerValued);
  const unit = (x: number) => x / lattice.step;
  const spread = unit(robustness.robustScale);
  // regularisation, in lattice units: no class narrower than the quantisation (and the lattice's
  // own rounding) or 1 % of the robust spread; a weak conjugate prior centred on the median
  const quantisation = robustness.integerValued ? unit(1) : 0;
  const varianceFloor = (quantisation * quantisation + 1) / 12 + (0.01 * spread) ** 2;
  const fitOptions: Partial<PartialVolumeOptions> = {
    sampleWeights: weights,
    covarianceShrinkage: options.covarianceShrinkage,
    varianceFloor,
    parameterPrior: { mean: unit(robustness.median - lattice.origin), scale: (spread * spread) / (K * K) },
    tol: options.tol,
    pairWeightCap: options.partialVolume ? options.partialVolume.mixelCap : Infinity,
    ...(input.atlas ? { prior: input.atlas } : {}),
  };
  const shared = sharedState(input, options, lattice, false, fitOptions);
  // the inliers too: the outlier count, and the purity of the multi-channel start
  const state: SharedState = { ...shared, outputs: { ...shared.outputs, inliers: shared.inliers } };

  const startData = new Float32Array(N);
  latticeValues(values, undefined, lattice, startData);
  const starts = candidateStarts(startData, weights, input.atlas, spread, varianceFloor, options);
  // Bias-field correction: the field explains each voxel's intensity as b_i times its expected
  // bias-free intensity (the fraction-weighted class means). Starts are compared on the likelihood
  // of their corrected data (the field has geometric mean 1, so no Jacobian term differs): a start
  // that splits a tissue across a strong field loses to one that corrects it.
  const outlierWeight = options.robust ? options.robust.outlierWeight : 0;
  const firstModels: PartialVolumeMixture[] = [];
  const refined: Candidate[] = [];
  for (const start of starts) {
    const data = new Float32Array(N);
    latticeValues(values, undefined, lattice, data);
    const samples = { data, nSamples: N, nFeatures: 1 };
    const first = fitPartialVolumeMixture(samples, {
      ...fitOptions,
      initialParameters: start,
      pairs: adjacentInOrder(K),
      outlierWeight,
      nSteps: PARTIAL_VOLUME_STEPS,
      maxIter: options.maxIter,
      onIteration: state.progress,
      ...nextEStep(state, true),
    });
    // a start that converged to the model of an earlier one would repeat its bias rounds
    if (firstModels.some((seen) => sameModel(seen, first.model, spread))) continue;
    firstModels.push(first.model);
    const candidate: Candidate = {
      name: start.name,
      samples,
      model: first.model,
      field: undefined,
      fits: [shift(first, state.logStep)],
      rounds: 0,
      contradiction: undefined,
      meanLogLikelihood: Number.NaN,
    };
    state.expectationsOf = candidate;
    judge(state, candidate);
    refined.push(candidate);
  }
  for (const candidate of refined) correct(state, candidate, refined.length > 1 ? 1 : 0);
  let best: Candidate | undefined;
  for (const candidate of refined) {
    const better =
      !best ||
      (best.contradiction !== undefined && candidate.contradiction === undefined) ||
      ((best.contradiction === undefined) === (candidate.contradiction === undefined) &&
        candidate.meanLogLikelihood > best.meanLogLikelihood);
    if (better) best = candidate;
  }
  const candidates = refined.map((c) => ({
    name: c.name,
    meanLogLikelihood: c.meanLogLikelihood,
    contradiction: c.contradiction,
  }));
  return { ...state, current: best!, candidates };
}

/**
 * The state of a given model (in intensity units) whose parameters stay fixed, on a lattice over
 * the data's range, as {@link fitPartialVolume} fits it.
 */
export function holdPartialVolume(
  input: Omit<SingleChannelInput, 'robustness'>,
  model: PartialVolumeMixture,
  options: ResolvedSegmentOptions,
): PartialVolumeState {
  const { values } = input;
  const N = values.length;
  let low = Infinity;
  let high = -Infinity;
  let integerValued = true;
  for (let i = 0; i < N; i++) {
    const x = values[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
    if (integerValued && Math.floor(x) !== x) integerValued = false;
  }
  const lattice = intensityLattice(low, high, integerValued);
  const data = new Float32Array(N);
  latticeValues(values, undefined, lattice, data);
  const current: Candidate = {
    name: 'given model',
    samples: { data, nSamples: N, nFeatures: 1 },
    model: modelInIntensityUnits(model, lattice, true),
    field: undefined,
    fits: [],
    rounds: 0,
    contradiction: undefined,
    meanLogLikelihood: Number.NaN,
  };
  return { ...sharedState(input, options, lattice, true, {}), current };
}

/** The remaining rounds of (estimate the field, correct, refit) of the model kept. */
export function correctPartialVolumeBias(state: PartialVolumeState): void {
  const bias = state.options.biasCorrection;
  if (bias) correct(state, state.current, bias.rounds - state.current.rounds);
}

/**
 * The E-step of a model held fixed, filling the outputs: its mean log-likelihood per intensity
 * unit (the mixture stage's report when nothing is fitted).
 */
export function scorePartialVolume(state: PartialVolumeState): number {
  const { current } = state;
  const plain = fitPartialVolumeMixture(current.samples, {
    ...state.fitOptions,
    initialModel: current.model,
    fixedParameters: true,
    maxIter: 0,
    ...state.outputs,
  });
  state.outputsFilled = true;
  return plain.meanLogLikelihood - state.logStep;
}

/** EM again with the spatial prior on the classes (an E-step when there is none). */
export function fitPartialVolumeSpatial(state: PartialVolumeState): void {
  const { current, options } = state;
  const shares = classShares(current.model).map((w) => Math.max(w, 1e-6) ** options.classWeightPower);
  const update = state.input.spatialPrior(shares);
  if (update) {
    let spatialIteration = 0;
    const fit = fitPartialVolumeMixture(current.samples, {
      ...state.fitOptions,
      initialModel: current.model,
      ...(state.fixed ? { fixedParameters: true } : {}),
      updatePrior: update,
      maxIter: options.maxIter,
      labelTol: options.labelTol,
      ...state.outputs,
      onIteration: (event) =>
        state.input.onIteration?.('spatial', ++spatialIteration, event.meanLogLikelihood - state.logStep),
    });
    state.spatial = shift(fit, state.logStep);
    current.model = fit.model;
  } else if (!state.outputsFilled) {
    scorePartialVolume(state); // no prior: one E-step with the model fixed fills the outputs
  }
  state.outputsFilled = true;
  if (!state.fixed && current.contradiction) {
    state.warnings.push(
      `every start contradicts the image type ${options.imageType}: ${current.contradiction}`,
    );
  }
}

/** The model of the state in intensity units. */
export function partialVolumeModel(state: PartialVolumeState): PartialVolumeMixture {
  return modelInIntensityUnits(state.current.model, state.lattice);
}

/** All the stages of a fit, one after the other. */
export function runPartialVolume(
  input: SingleChannelInput,
  options: ResolvedSegmentOptions,
): PartialVolumeState {
  const state = fitPartialVolume(input, options);
  correctPartialVolumeBias(state);
  fitPartialVolumeSpatial(state);
  return state;
}

/** `count` more rounds of (estimate the field, correct, refit) for a candidate. */
function correct(state: SharedState, candidate: Candidate, count: number): void {
  const { options, estimate, input, expectations, inliers, fieldWeights, lattice } = state;
  if (!options.biasCorrection || !estimate || count <= 0) return;
  const { rounds, iterations } = options.biasCorrection;
  const { values, weights } = input;
  const N = values.length;
  const { samples } = candidate;
  const field = candidate.field ?? new Float64Array(N).fill(1);
  candidate.field = field;
  if (state.expectationsOf !== candidate) {
    fitPartialVolumeMixture(samples, {
      ...state.fitOptions,
      initialModel: candidate.model,
      fixedParameters: true,
      maxIter: 0,
      ...nextEStep(state, true),
    });
  }
  state.expectationsOf = candidate;
  for (let round = 0; round < count; round++) {
    if (weights) for (let i = 0; i < N; i++) fieldWeights[i] = inliers[i]! * weights[i]!;
    else fieldWeights.set(inliers);
    estimate.fromExpectations(values, expectations.means, expectations.variances, fieldWeights, field);
    latticeValues(values, field, lattice, samples.data);
    candidate.rounds++;
    const more = candidate.rounds < rounds;
    if (state.fixed) {
      // the parameters stay: only the next estimate's E-step
      if (more) {
        fitPartialVolumeMixture(samples, {
          ...state.fitOptions,
          initialModel: candidate.model,
          fixedParameters: true,
          maxIter: 0,
          ...nextEStep(state, true),
        });
      }
      continue;
    }
    const refit = fitPartialVolumeMixture(samples, {
      ...state.fitOptions,
      initialModel: candidate.model,
      maxIter: iterations,
      onIteration: state.progress,
      ...nextEStep(state, more),
    });
    candidate.fits.push(shift(refit, state.logStep));
    candidate.model = refit.model;
  }
  if (!state.fixed) judge(state, candidate);
}
