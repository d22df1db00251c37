/**
 * The stages of a segmentation with a plain Gaussian mixture: several channels (T1 + T2 + PD), or
 * one channel with `partialVolume: false`. A plain mixture with seeded restarts (with several
 * channels, on the first channel, whose responsibilities start the multi-channel fit), rounds of
 * bias-field correction, then EM with the spatial prior. Partial-volume fractions come from
 * unmixing each voxel between its two most probable classes.
 */
import {
  fitGaussianMixture,
  type GaussianMixture,
  type GaussianMixtureFit,
  type GaussianMixtureOptions,
  type PriorUpdate,
} from '@mixseg/core';
import { biasFieldEstimator } from './bias-field.ts';
import type { ChannelTransform } from './features.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';

/** What the Gaussian stages need of the subject. */
export interface GaussianInput {
  /** N x D, prepared (and winsorised) intensities; the bias correction rewrites it. */
  samples: { data: Float32Array; nSamples: number; nFeatures: number };
  transforms: ChannelTransform[];
  weights: Float32Array | undefined;
  grid: { dims: [number, number, number]; spacing: [number, number, number]; voxelIndices: Uint32Array };
  atlas: Float32Array | undefined;
  /**
   * Starting class responsibilities (N x K), e.g. the first channel's partial-volume segmentation:
   * then no plain restarts run.
   */
  initialResponsibilities?: Float32Array;
  /** Bias fields already applied to some channels (by channel; undefined: estimate it here). */
  knownFields?: (Float64Array | undefined)[];
  spatialPrior: (classWeights: number[]) => PriorUpdate | undefined;
  onIteration:
    | ((stage: 'mixture' | 'spatial', iteration: number, meanLogLikelihood: number) => void)
    | undefined;
}

/** The result of the Gaussian stages. */
export interface GaussianResult {
  /** The final model, components in label order, in (bias-corrected, prepared) intensity units. */
  model: GaussianMixture;
  mixture: GaussianMixtureFit[];
  spatial: GaussianMixtureFit | undefined;
  responsibilities: Float32Array;
  fractions: Float32Array;
  biasFields: Float64Array[] | undefined;
  /** Log-likelihoods of fits on the lattice are per lattice unit; add this to get them per intensity unit. */
  logDensityShift: number;
  /** Seconds of the spatial stage. */
  spatialSeconds: number;
}

/** Steps of the lattice one channel's bias-corrected intensities are rounded to. */
const LATTICE_STEPS = 4096;

export function fitGaussianStages(input: GaussianInput, options: ResolvedSegmentOptions): GaussianResult {
  const K = options.nClasses;
  const { samples, weights, grid } = input;
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
  let logDensityShift = 0;
  let mixtureIteration = 0;
  const mixtureEvent = (event: { meanLogLikelihood: number }) =>
    input.onIteration?.('mixture', ++mixtureIteration, event.meanLogLikelihood + logDensityShift);
  const reversed = options.imageType !== 't1';

  // Stage 1: the plain mixture with restarts, or, with an atlas, EM under the atlas prior started
  // from the atlas-weighted moments. With several channels and no atlas, the restarts run on the
  // first channel alone and its responsibilities give the multi-channel starting point: on SRI24
  // T1+T2+PD, k-means on all three channels starts in a partition where CSF's broad T2/PD spread
  // splits the tissues, while the first channel's classes are the wanted ones.
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
    onIteration: mixtureEvent,
  });
  let model = first.model;
  if (reversed && !input.atlas && !input.initialResponsibilities && D === 1) {
    model = reverseModel(model);
    reverseColumns(responsibilities, K);
  }
  const fits: GaussianMixtureFit[] = [first];
  const warm = { componentOrder: 'fixed' as const };

  let biasFields: Float64Array[] | undefined;
  if (options.biasCorrection) {
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
      model = affineModel(model, 1 / lattice.step, -lattice.origin / lattice.step);
      logDensityShift = -Math.log(lattice.step);
    }
    const raw = new Float32Array(samples.data.length);
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) {
        const { scale, offset } = input.transforms[d]!;
        raw[i * D + d] = samples.data[i * D + d]! * scale + offset;
      }
    }
    biasFields = Array.from({ length: D }, () => new Float64Array(N));
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
        const means = model.means.map((mean) => mean[d]! * scale + offset);
        const variances = model.covariances.map((covariance) => covariance[d]![d]! * scale * scale);
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
        ...common,
        ...warm,
        ...(input.atlas ? { prior: input.atlas } : {}),
        initialParameters: model,
        maxIter: iterations,
        responsibilities,
        onIteration: mixtureEvent,
      });
      fits.push(refit);
      model = refit.model;
    }
    if (lattice) {
      // the spatial stage runs on the lattice too; the model goes back to intensity units at the end
      const spatialStarted = performance.now();
      const spatial = spatialStage(input, options, model, responsibilities, common, logDensityShift);
      const spatialSeconds = (performance.now() - spatialStarted) / 1000;
      const final = spatial?.model ?? model;
      return {
        spatialSeconds,
        model: affineModel(final, lattice.step, lattice.origin),
        mixture: fits,
        spatial,
        responsibilities,
        fractions: unmixedFractions(samples, affineModel(final, 1, 0), responsibilities, K),
        biasFields,
        logDensityShift,
      };
    }
  }
  const spatialStarted = performance.now();
  const spatial = spatialStage(input, options, model, responsibilities, common, logDensityShift);
  const spatialSeconds = (performance.now() - spatialStarted) / 1000;
  const final = spatial?.model ?? model;
  return {
    spatialSeconds,
    model: final,
    mixture: fits,
    spatial,
    responsibilities,
    fractions: unmixedFractions(samples, final, responsibilities, K),
    biasFields,
    logDensityShift,
  };
}

function spatialStage(
  input: GaussianInput,
  options: ResolvedSegmentOptions,
  model: GaussianMixture,
  responsibilities: Float32Array,
  common: GaussianMixtureOptions,
  logDensityShift: number,
): GaussianMixtureFit | undefined {
  const weights = model.weights.map((w) => Math.max(w, 1e-6) ** options.classWeightPower);
  const update = input.spatialPrior(weights);
  if (!update) return undefined;
  let iteration = 0;
  return fitGaussianMixture(input.samples, {
    ...common,
    componentOrder: 'fixed',
    initialParameters: model,
    ...(input.atlas ? { prior: input.atlas } : {}),
    maxIter: options.maxIter,
    labelTol: options.labelTol,
    updatePrior: update,
    responsibilities,
    onIteration: (event) =>
      input.onIteration?.('spatial', ++iteration, event.meanLogLikelihood + logDensityShift),
  });
}

/** A lattice of LATTICE_STEPS steps over the range of the values (undefined for constant data). */
function latticeOf(values: ArrayLike<number>): { origin: number; step: number } | undefined {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  return high > low ? { origin: low, step: (high - low) / LATTICE_STEPS } : undefined;
}

/**
 * The one-feature model of a x + b (a > 0): means a m + b, variances a^2 s^2, precision Cholesky
 * factors u / a.
 */
export function affineModel(model: GaussianMixture, a: number, b: number): GaussianMixture {
  return {
    ...model,
    means: model.means.map((mean) => [mean[0]! * a + b]),
    covariances: model.covariances.map((covariance) => [[covariance[0]![0]! * a * a]]),
    precisionsCholesky: model.precisionsCholesky.map((factor) => [[factor[0]![0]! / a]]),
  };
}

/** The model with its components in reverse order. */
function reverseModel(model: GaussianMixture): GaussianMixture {
  return {
    ...model,
    weights: [...model.weights].reverse(),
    means: [...model.means].reverse(),
    covariances: [...model.covariances].reverse(),
    precisionsCholesky: [...model.precisionsCholesky].reverse(),
  };
}

function reverseColumns(matrix: Float32Array, K: number): void {
  for (let row = 0; row < matrix.length; row += K) matrix.subarray(row, row + K).reverse();
}

/**
 * Partial-volume fractions by unmixing: each voxel is split between its two most probable classes
 * a and b. With m = 2 min(r_a, r_b) / (r_a + r_b) (0 when one class dominates, 1 when both are as
 * probable), f_a = (r_a + r_b) ((1 - m) [r_a >= r_b] + m t), t the least-squares fraction of a on
 * the segment from mu_b to mu_a (Mahalanobis metric of the pooled covariance), f_b the rest; the
 * other classes keep their responsibility.
 */
function unmixedFractions(
  samples: { data: Float32Array; nSamples: number; nFeatures: number },
  model: GaussianMixture,
  responsibilities: Float32Array,
  K: number,
): Float32Array {
  const { data, nSamples: N, nFeatures: D } = samples;
  const out = Float32Array.from(responsibilities);
  if (K < 2) return out;
  // pooled precision (diagonal of the weighted covariances is enough for a direction)
  const inverseVariance = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let v = 0;
    for (let k = 0; k < K; k++) v += model.weights[k]! * model.covariances[k]![d]![d]!;
    inverseVariance[d] = v > 0 ? 1 / v : 1;
  }
  for (let i = 0, row = 0; i < N; i++, row += K) {
    let a = 0;
    let b = -1;
    for (let k = 1; k < K; k++) if (responsibilities[row + k]! > responsibilities[row + a]!) a = k;
    for (let k = 0; k < K; k++) {
      if (k === a) continue;
      if (b < 0 || responsibilities[row + k]! > responsibilities[row + b]!) b = k;
    }
    const ra = responsibilities[row + a]!;
    const rb = responsibilities[row + b]!;
    const total = ra + rb;
    if (!(total > 0)) continue;
    const mixing = (2 * Math.min(ra, rb)) / total;
    let numerator = 0;
    let denominator = 0;
    for (let d = 0; d < D; d++) {
      const direction = model.means[a]![d]! - model.means[b]![d]!;
      numerator += (data[i * D + d]! - model.means[b]![d]!) * direction * inverseVariance[d]!;
      denominator += direction * direction * inverseVariance[d]!;
    }
    const t = denominator > 0 ? Math.min(1, Math.max(0, numerator / denominator)) : 1;
    const fa = total * (1 - mixing + mixing * t);
    out[row + a] = fa;
    out[row + b] = total - fa;
  }
  return out;
}
