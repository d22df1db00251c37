/**
 * Tissue segmentation of one subject: channel volumes (and a mask) in; label map, probability
 * maps, fitted model, per-class statistics and the convergence trace out.
 *
 * Two stages. First a plain mixture with several seeded restarts (a single k-means++ start often
 * lands in a poor optimum on brain images), keeping the best likelihood; its components, ordered
 * by the first channel's mean, fix the labels (CSF < GM < WM on a T1). Then EM again from there
 * with a spatial prior replacing the mixing weights, recomputed from the responsibilities between
 * iterations.
 */
import {
  type CovarianceType,
  fitGaussianMixture,
  type GaussianMixture,
  type GaussianMixtureFit,
  mostProbableComponent,
  type PriorUpdate,
} from '@mixseg/core';
import { atlasPrior, blendedPrior } from './atlas-prior.ts';
import { biasFieldEstimator, DEFAULT_BIAS_FWHM_MM } from './bias-field.ts';
import {
  extractFeatures,
  type Features,
  type IntensityPreparation,
  scatterLabels,
  scatterResponsibilities,
} from './features.ts';
import { automaticMask, type MaskMethod, maskFromVolume } from './mask.ts';
import {
  type NeighbourhoodPriorOptions,
  neighbourhoodPrior,
  type PottsPriorOptions,
  pottsPrior,
} from './spatial-prior.ts';
import type { Volume } from './types.ts';

/** The spatial prior: prior probability factor, Potts MRF, or none (the plain mixture). */
export type SpatialPriorKind = 'ppf' | 'mrf' | 'atlas' | 'none';

/** Bias-field correction of the intensities (FAST-style, estimated between EM rounds). */
export interface BiasCorrectionOptions {
  /** Smoothing of the field, full width at half maximum in mm. Default 20 (FSL FAST's). */
  fwhm?: number;
  /** Rounds of (estimate the field, correct, refit). Default 3. */
  rounds?: number;
  /** EM iterations of the refit in each round. Default 3. */
  iterations?: number;
}

export interface SegmentOptions {
  /** Number of tissue classes K. Default 3. */
  nClasses?: number;
  /** Default `ppf`. */
  prior?: SpatialPriorKind;
  /** Prior strength. Default 1 for `ppf`, 0.3 for `mrf`. */
  beta?: number;
  /** Options of the neighbourhood prior (beta above takes precedence). */
  neighbourhood?: Omit<NeighbourhoodPriorOptions, 'beta'>;
  /** Options of the Potts prior (beta above takes precedence). */
  potts?: Omit<PottsPriorOptions, 'beta'>;
  /**
   * Tissue-probability maps, one per class in label order (any grid: resampled through the
   * affines). Needed by `prior: 'atlas'`; with `ppf` or `mrf` they are blended in too.
   */
  atlas?: Volume[];
  /**
   * Weight w of the atlas against the spatial term: log pi = w log atlas + (1 - w) log spatial.
   * Default 0.5.
   */
  atlasWeight?: number;
  /** Correct a smooth multiplicative bias field (true, false, or options). Default true. */
  biasCorrection?: boolean | BiasCorrectionOptions;
  /** Default `full`. */
  covarianceType?: CovarianceType;
  /**
   * Shrinkage of each class's covariance towards the pooled one (0 = free, 1 = tied). Default 0.3.
   */
  covarianceShrinkage?: number;
  /** Restarts of the plain fit. Default 5. */
  nInit?: number;
  /** Seed of every random choice. Default 0. */
  seed?: number;
  /** Iteration cap of each stage. Default 200. */
  maxIter?: number;
  /** Tolerance on the mean log-likelihood gain, each stage. Default 1e-5. */
  tol?: number;
  /**
   * The spatial stage also stops when at most this fraction of the voxels changed label in an
   * iteration (as FSL FAST and ANTs Atropos stop): with a spatial prior the likelihood gain creeps
   * on long after the labels have settled. 0 turns it off. Default 0.001 (0.1% of the voxels).
   */
  labelTol?: number;
  /** Intensity preparation. Default `none`. */
  preparation?: IntensityPreparation;
  /** A mask image (any nonzero voxel), or a mask method. Default `nonzero`. */
  mask?: Volume | MaskMethod;
  /** Compute the probability maps. Default true. */
  probabilities?: boolean;
  /** Class names for the statistics. Default CSF, GM, WM for K = 3, else class1..classK. */
  classNames?: string[];
  /** Progress: stage and iteration. */
  onIteration?: (event: {
    stage: 'mixture' | 'spatial';
    iteration: number;
    meanLogLikelihood: number;
  }) => void;
}

/** Per-class numbers of a segmentation. */
export interface ClassStatistics {
  label: number;
  name: string;
  voxels: number;
  volumeMl: number;
  /** Mean of each channel's (unprepared) intensity over the class's voxels (null for an empty class). */
  meanIntensity: (number | null)[];
}

/** How one EM stage went. */
export interface StageReport {
  converged: boolean;
  stopReason: GaussianMixtureFit['stopReason'];
  nIter: number;
  meanLogLikelihood: number;
  logLikelihoodTrace: number[];
  strategy: GaussianMixtureFit['strategy'];
  initScores: number[];
  warnings: string[];
}

export interface Segmentation {
  /** Labels 1..K inside the mask, 0 outside; one per voxel. */
  labels: Uint8Array;
  /** nVoxels x K, voxel-major (class k of voxel v at v * K + k); 0 outside the mask. */
  probabilities: Float32Array | undefined;
  /**
   * The final model (after the spatial stage), components in label order, in the units of the
   * bias-corrected (and prepared) intensities.
   */
  model: GaussianMixture;
  mixture: StageReport;
  spatial: StageReport | undefined;
  statistics: ClassStatistics[];
  /**
   * The estimated multiplicative bias field of each channel (1 = none), on the full grid, 0 outside
   * the mask; undefined without bias correction. Corrected intensity = intensity / field.
   */
  biasFields: Float32Array[] | undefined;
  mask: Uint8Array;
  /** In-mask voxels left out because a channel is NaN or infinite there. */
  nonFinite: number;
  /** Resolved options (what was run). */
  options: ResolvedSegmentOptions;
  /** Seconds spent in each step. */
  timings: { features: number; mixture: number; spatial: number; outputs: number };
}

export type ResolvedSegmentOptions = Required<
  Omit<SegmentOptions, 'onIteration' | 'mask' | 'neighbourhood' | 'potts' | 'atlas' | 'biasCorrection'>
> & {
  mask: string;
  /** Paths of the atlas maps (empty without an atlas). */
  atlas: string[];
  /** The resolved bias correction, or false. */
  biasCorrection: Required<BiasCorrectionOptions> | false;
  neighbourhood: Omit<NeighbourhoodPriorOptions, 'beta'>;
  potts: Omit<PottsPriorOptions, 'beta'>;
};

function report(fit: GaussianMixtureFit): StageReport {
  return {
    converged: fit.converged,
    stopReason: fit.stopReason,
    nIter: fit.nIter,
    meanLogLikelihood: fit.meanLogLikelihood,
    logLikelihoodTrace: fit.logLikelihoodTrace,
    strategy: fit.strategy,
    initScores: fit.initScores,
    warnings: fit.warnings,
  };
}

function resolve(options: SegmentOptions): ResolvedSegmentOptions {
  const nClasses = options.nClasses ?? 3;
  if (!Number.isInteger(nClasses) || nClasses < 1 || nClasses > 254) {
    throw new RangeError(`nClasses must be an integer from 1 to 254, got ${nClasses}`);
  }
  const prior = options.prior ?? 'ppf';
  if (!['ppf', 'mrf', 'atlas', 'none'].includes(prior)) {
    throw new RangeError(`prior must be "ppf", "mrf", "atlas" or "none", got ${JSON.stringify(prior)}`);
  }
  const atlas = options.atlas ?? [];
  if (prior === 'atlas' && atlas.length === 0) {
    throw new RangeError('prior "atlas" needs the atlas maps (one tissue-probability volume per class)');
  }
  if (atlas.length > 0 && atlas.length !== nClasses) {
    throw new RangeError(
      `the atlas needs one map per class: got ${atlas.length} maps for ${nClasses} classes`,
    );
  }
  const atlasWeight = options.atlasWeight ?? 0.5;
  if (!(atlasWeight >= 0 && atlasWeight <= 1)) {
    throw new RangeError(`atlasWeight must be a number from 0 to 1, got ${options.atlasWeight}`);
  }
  const bias = options.biasCorrection ?? true;
  let biasCorrection: Required<BiasCorrectionOptions> | false = false;
  if (bias !== false) {
    const given = bias === true ? {} : bias;
    biasCorrection = {
      fwhm: given.fwhm ?? DEFAULT_BIAS_FWHM_MM,
      rounds: given.rounds ?? 3,
      iterations: given.iterations ?? 3,
    };
    if (!(biasCorrection.fwhm > 0 && Number.isFinite(biasCorrection.fwhm))) {
      throw new RangeError(`biasCorrection.fwhm must be > 0 mm, got ${biasCorrection.fwhm}`);
    }
    for (const key of ['rounds', 'iterations'] as const) {
      const value = biasCorrection[key];
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`biasCorrection.${key} must be an integer >= 1, got ${value}`);
      }
    }
  }
  const covarianceShrinkage = options.covarianceShrinkage ?? 0.3;
  if (!(covarianceShrinkage >= 0 && covarianceShrinkage <= 1)) {
    throw new RangeError(
      `covarianceShrinkage must be a number from 0 to 1, got ${options.covarianceShrinkage}`,
    );
  }
  const classNames = resolveClassNames(options.classNames, nClasses);
  return {
    nClasses,
    prior,
    beta: options.beta ?? (prior === 'mrf' ? 0.3 : 1),
    atlas: atlas.map((map) => map.source.path),
    atlasWeight,
    biasCorrection,
    covarianceType: options.covarianceType ?? 'full',
    covarianceShrinkage,
    nInit: options.nInit ?? 5,
    seed: options.seed ?? 0,
    maxIter: options.maxIter ?? 200,
    tol: options.tol ?? 1e-5,
    labelTol: resolveLabelTol(options.labelTol),
    preparation: options.preparation ?? 'none',
    probabilities: options.probabilities ?? true,
    classNames,
    mask: describeMask(options.mask),
    neighbourhood: options.neighbourhood ?? {},
    potts: options.potts ?? {},
  };
}

/**
 * Segments one subject.
 * @param channels co-registered volumes of one subject (T1, or T1 + T2 + PD...); labels are
 *   ordered by the first channel's class means.
 */
export function segment(channels: Volume[], options: SegmentOptions = {}): Segmentation {
  const resolved = resolve(options);
  const K = resolved.nClasses;
  const first = channels[0];
  if (!first) throw new RangeError('at least one channel is needed');
  const seconds = (start: number) => (performance.now() - start) / 1000;

  let started = performance.now();
  const { mask, features } = subjectFeatures(channels, options.mask, resolved.preparation);
  const { samples, voxelIndices } = features;
  const featuresTime = seconds(started);

  started = performance.now();
  const N = samples.nSamples;
  const D = samples.nFeatures;
  const responsibilities = new Float32Array(N * K);
  const grid = { dims: first.dims, spacing: first.spacing, voxelIndices };
  const atlasProbabilities =
    options.atlas && options.atlas.length > 0 ? atlasPrior(options.atlas, first, voxelIndices, K) : undefined;
  const common = {
    nComponents: K,
    covarianceType: resolved.covarianceType,
    covarianceShrinkage: resolved.covarianceShrinkage,
    tol: resolved.tol,
  };
  // Log-likelihoods of fits on the lattice (below) are per lattice unit: this brings them back.
  let logDensityShift = 0;
  const progress =
    (stage: 'mixture' | 'spatial') => (event: { iteration: number; meanLogLikelihood: number }) =>
      options.onIteration?.({
        stage,
        iteration: event.iteration,
        meanLogLikelihood: event.meanLogLikelihood + logDensityShift,
      });
  const mixtureEvent = progress('mixture');
  // Stage 1: the plain mixture with restarts, or, with an atlas, EM under the atlas prior started
  // from the atlas-weighted moments (deterministic, and the atlas fixes the label order).
  // With several channels and no atlas, the restarts run on the first channel alone and its
  // responsibilities give the multi-channel starting point: on SRI24 T1+T2+PD, k-means on all
  // three channels starts in a partition where CSF's broad T2/PD spread splits the tissues
  // (scikit-learn: CSF/GM/WM Dice .39/.46/.74), while the T1 classes are the wanted ones.
  let start: { initialResponsibilities: Float32Array } | { nInit: number; seed: number } = {
    nInit: resolved.nInit,
    seed: resolved.seed,
  };
  if (atlasProbabilities) {
    start = { initialResponsibilities: atlasProbabilities };
  } else if (D > 1) {
    const firstChannel = new Float32Array(N);
    for (let i = 0; i < N; i++) firstChannel[i] = samples.data[i * D]!;
    fitGaussianMixture(
      { data: firstChannel, nSamples: N, nFeatures: 1 },
      { ...common, nInit: resolved.nInit, seed: resolved.seed, maxIter: resolved.maxIter, responsibilities },
    );
    // read once when the fit starts, before the fit writes its own responsibilities there
    start = { initialResponsibilities: responsibilities };
  }
  const fits: GaussianMixtureFit[] = [
    fitGaussianMixture(samples, {
      ...common,
      ...(atlasProbabilities ? { prior: atlasProbabilities } : {}),
      ...start,
      maxIter: resolved.maxIter,
      responsibilities,
      onIteration: mixtureEvent,
    }),
  ];
  let model = fits[0]!.model;

  // Bias correction: rounds of (estimate the field from the responsibilities, correct, refit).
  let biasFields: Float64Array[] | undefined;
  let lattice: Lattice | undefined;
  if (resolved.biasCorrection) {
    const { fwhm, rounds, iterations } = resolved.biasCorrection;
    // One channel's corrected intensities are stored on a lattice of LATTICE_STEPS steps over its
    // range, so that the E-step still tabulates the densities per distinct value (in tables that
    // stay in cache) instead of evaluating them per voxel: 2-3x faster passes on SRI24. The rounding
    // error, at most half a step (1/8192 of the range: 0.1 units on SRI24's 0-864), is far below
    // any tissue's spread (20-50 units there).
    lattice = D === 1 ? intensityLattice(samples.data) : undefined;
    const transforms = lattice
      ? [
          {
            scale: features.transforms[0]!.scale * lattice.step,
            offset: features.transforms[0]!.offset + lattice.origin * features.transforms[0]!.scale,
          },
        ]
      : features.transforms;
    if (lattice) {
      model = affineModel(model, 1 / lattice.step, -lattice.origin / lattice.step);
      logDensityShift = -Math.log(lattice.step);
    }
    const raw = new Float32Array(samples.data.length);
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) {
        const { scale, offset } = features.transforms[d]!;
        raw[i * D + d] = samples.data[i * D + d]! * scale + offset;
      }
    }
    biasFields = Array.from({ length: D }, () => new Float64Array(N));
    const estimateBiasField = biasFieldEstimator(grid, { fwhm });
    const values = new Float64Array(N);
    for (let round = 0; round < rounds; round++) {
      for (let d = 0; d < D; d++) {
        const { scale, offset } = transforms[d]!;
        const means = model.means.map((mean) => mean[d]! * scale + offset);
        const variances = model.covariances.map((covariance) => covariance[d]![d]! * scale * scale);
        for (let i = 0; i < N; i++) values[i] = raw[i * D + d]!;
        const field = biasFields[d]!;
        estimateBiasField(values, responsibilities, means, variances, field);
        if (lattice) {
          for (let i = 0; i < N; i++) samples.data[i] = Math.round((values[i]! / field[i]! - offset) / scale);
        } else {
          for (let i = 0; i < N; i++) samples.data[i * D + d] = (values[i]! / field[i]! - offset) / scale;
        }
      }
      const refit = fitGaussianMixture(samples, {
        ...common,
        ...(atlasProbabilities ? { prior: atlasProbabilities } : {}),
        initialParameters: model,
        maxIter: iterations,
        responsibilities,
        onIteration: mixtureEvent,
      });
      fits.push(inIntensityUnits(refit, logDensityShift));
      model = refit.model;
    }
  }
  const mixture = mergeReports(fits);
  const mixtureTime = seconds(started);

  // Stage 2: EM again from the mixture, the spatial prior replacing the mixing weights.
  started = performance.now();
  let spatial: GaussianMixtureFit | undefined;
  const spatialTerm = spatialPrior(grid, model.weights, resolved);
  if (spatialTerm) {
    spatial = fitGaussianMixture(samples, {
      ...common,
      initialParameters: model,
      ...(atlasProbabilities ? { prior: atlasProbabilities } : {}),
      maxIter: resolved.maxIter,
      labelTol: resolved.labelTol,
      updatePrior: atlasProbabilities
        ? blendedPrior(atlasProbabilities, spatialTerm, resolved.atlasWeight)
        : spatialTerm,
      responsibilities,
      onIteration: progress('spatial'),
    });
    spatial = inIntensityUnits(spatial, logDensityShift);
    model = spatial.model;
  }
  if (lattice) model = affineModel(model, lattice.step, lattice.origin);
  const spatialTime = seconds(started);

  started = performance.now();
  const nVoxels = first.data.length;
  const outputs = labelOutputs(channels, responsibilities, voxelIndices, resolved);
  return {
    ...outputs,
    model,
    mixture,
    spatial: spatial ? report(spatial) : undefined,
    biasFields: biasFields?.map((field) => scatterField(field, voxelIndices, nVoxels)),
    mask,
    nonFinite: features.nonFinite,
    options: resolved,
    timings: {
      features: featuresTime,
      mixture: mixtureTime,
      spatial: spatialTime,
      outputs: seconds(started),
    },
  };
}

/** The given class names, or CSF, GM, WM for K = 3, else class1..classK. */
export function resolveClassNames(classNames: string[] | undefined, nClasses: number): string[] {
  const names =
    classNames ??
    (nClasses === 3 ? ['CSF', 'GM', 'WM'] : Array.from({ length: nClasses }, (_, k) => `class${k + 1}`));
  if (names.length !== nClasses) {
    throw new RangeError(`classNames has ${names.length} names for ${nClasses} classes`);
  }
  return names;
}

/** The labelTol option, checked: default 0.001, from 0 (off) to below 1. */
export function resolveLabelTol(labelTol: number | undefined): number {
  const value = labelTol ?? 0.001;
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`labelTol must be a number from 0 (off) to below 1, got ${labelTol}`);
  }
  return value;
}

/** How the mask option is recorded in the resolved options. */
export function describeMask(mask: SegmentOptions['mask']): string {
  return mask === undefined ? 'nonzero' : typeof mask === 'string' ? mask : mask.source.path;
}

/** The subject's mask (a mask image, or a method) and the feature vectors inside it. */
export function subjectFeatures(
  channels: Volume[],
  maskOption: SegmentOptions['mask'],
  preparation: IntensityPreparation,
): { mask: Uint8Array; features: Features } {
  const first = channels[0]!;
  const mask =
    maskOption !== undefined && typeof maskOption !== 'string'
      ? maskFromVolume(maskOption, first)
      : automaticMask(first, maskOption ?? 'nonzero');
  return { mask, features: extractFeatures(channels, mask, { preparation }) };
}

/**
 * The spatial term of the chosen prior (undefined for `none`): the neighbourhood factor with the
 * given class weights held fixed (`ppf`, and the spatial part of `atlas`), or the Potts field.
 */
export function spatialPrior(
  grid: { dims: [number, number, number]; spacing: [number, number, number]; voxelIndices: Uint32Array },
  classWeights: number[],
  options: Pick<ResolvedSegmentOptions, 'prior' | 'beta' | 'neighbourhood' | 'potts'>,
): PriorUpdate | undefined {
  const K = classWeights.length;
  switch (options.prior) {
    case 'ppf':
    case 'atlas':
      return neighbourhoodPrior(grid, K, { classWeights, ...options.neighbourhood, beta: options.beta });
    case 'mrf':
      return pottsPrior(grid, K, { ...options.potts, beta: options.beta });
    case 'none':
      return undefined;
    default:
      throw new RangeError(`unknown prior ${options.prior satisfies never}`);
  }
}

/** Label map, probability maps (when asked for) and class statistics from the responsibilities. */
export function labelOutputs(
  channels: Volume[],
  responsibilities: Float32Array,
  voxelIndices: Uint32Array,
  options: Pick<ResolvedSegmentOptions, 'probabilities' | 'classNames'>,
): Pick<Segmentation, 'labels' | 'probabilities' | 'statistics'> {
  const K = options.classNames.length;
  const N = voxelIndices.length;
  const nVoxels = channels[0]!.data.length;
  const sampleLabels = new Uint8Array(N);
  for (let i = 0; i < N; i++) sampleLabels[i] = mostProbableComponent(responsibilities, i, K);
  const labels = scatterLabels(sampleLabels, voxelIndices, nVoxels);
  return {
    labels,
    probabilities: options.probabilities
      ? scatterResponsibilities(responsibilities, voxelIndices, nVoxels, K)
      : undefined,
    statistics: classStatistics(channels, labels, options.classNames),
  };
}

/** Steps of the lattice one channel's bias-corrected intensities are rounded to. */
const LATTICE_STEPS = 4096;

/** Intensity x is stored as round((x - origin) / step). */
interface Lattice {
  origin: number;
  step: number;
}

/** A lattice of LATTICE_STEPS steps over the range of the values (undefined for constant data). */
function intensityLattice(values: ArrayLike<number>): Lattice | undefined {
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
function affineModel(model: GaussianMixture, a: number, b: number): GaussianMixture {
  return {
    ...model,
    means: model.means.map((mean) => [mean[0]! * a + b]),
    covariances: model.covariances.map((covariance) => [[covariance[0]![0]! * a * a]]),
    precisionsCholesky: model.precisionsCholesky.map((factor) => [[factor[0]![0]! / a]]),
  };
}

/**
 * A fit on the lattice with its log-likelihoods per unit of intensity (the lattice's log-density
 * shift added); the model is left in lattice units.
 */
function inIntensityUnits(fit: GaussianMixtureFit, shift: number): GaussianMixtureFit {
  if (shift === 0) return fit;
  return {
    ...fit,
    meanLogLikelihood: fit.meanLogLikelihood + shift,
    logLikelihoodTrace: fit.logLikelihoodTrace.map((value) => value + shift),
    initScores: fit.initScores.map((value) => value + shift),
  };
}

/** Reports of consecutive fits (restarts, then bias-correction rounds) as one stage. */
function mergeReports(fits: GaussianMixtureFit[]): StageReport {
  const first = report(fits[0]!);
  const last = fits[fits.length - 1]!;
  return {
    ...report(last),
    nIter: fits.reduce((sum, fit) => sum + fit.nIter, 0),
    logLikelihoodTrace: fits.flatMap((fit, index) =>
      // a warm start's first value repeats the previous fit's last
      index === 0 ? fit.logLikelihoodTrace : fit.logLikelihoodTrace.slice(1),
    ),
    initScores: first.initScores,
    warnings: [...new Set(fits.flatMap((fit) => fit.warnings))],
  };
}

function scatterField(field: Float64Array, voxelIndices: Uint32Array, nVoxels: number): Float32Array {
  const out = new Float32Array(nVoxels);
  for (let i = 0; i < voxelIndices.length; i++) out[voxelIndices[i]!] = field[i]!;
  return out;
}

/** Voxel count, volume in mL and mean intensity per channel of each label 1..K. */
export function classStatistics(
  channels: Volume[],
  labels: Uint8Array,
  classNames: string[],
): ClassStatistics[] {
  const K = classNames.length;
  const D = channels.length;
  const counts = new Float64Array(K + 1);
  const sums = new Float64Array((K + 1) * D);
  for (let v = 0; v < labels.length; v++) {
    const label = labels[v]!;
    if (label === 0 || label > K) continue;
    counts[label]!++;
    for (let d = 0; d < D; d++) sums[label * D + d]! += channels[d]!.data[v]!;
  }
  const [sx, sy, sz] = channels[0]!.spacing;
  const voxelMl = (sx * sy * sz) / 1000;
  return classNames.map((name, k) => {
    const label = k + 1;
    const voxels = counts[label]!;
    return {
      label,
      name,
      voxels,
      volumeMl: voxels * voxelMl,
      meanIntensity: Array.from({ length: D }, (_, d) => (voxels > 0 ? sums[label * D + d]! / voxels : null)),
    };
  });
}
