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
  type PriorUpdate,
} from '@mixseg/core';
import {
  extractFeatures,
  type IntensityPreparation,
  mostProbableClass,
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
export type SpatialPriorKind = 'ppf' | 'mrf' | 'none';

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
  /** Default `full`. */
  covarianceType?: CovarianceType;
  /** Restarts of the plain fit. Default 5. */
  nInit?: number;
  /** Seed of every random choice. Default 0. */
  seed?: number;
  /** Iteration cap of each stage. Default 200. */
  maxIter?: number;
  /** Tolerance on the mean log-likelihood gain, each stage. Default 1e-5. */
  tol?: number;
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
  /** The final model (after the spatial stage), components in label order. */
  model: GaussianMixture;
  mixture: StageReport;
  spatial: StageReport | undefined;
  statistics: ClassStatistics[];
  mask: Uint8Array;
  /** In-mask voxels left out because a channel is NaN or infinite there. */
  nonFinite: number;
  /** Resolved options (what was run). */
  options: ResolvedSegmentOptions;
  /** Seconds spent in each step. */
  timings: { features: number; mixture: number; spatial: number; outputs: number };
}

export type ResolvedSegmentOptions = Required<
  Omit<SegmentOptions, 'onIteration' | 'mask' | 'neighbourhood' | 'potts'>
> & {
  mask: string;
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
  if (!['ppf', 'mrf', 'none'].includes(prior)) {
    throw new RangeError(`prior must be "ppf", "mrf" or "none", got ${JSON.stringify(prior)}`);
  }
  const classNames =
    options.classNames ??
    (nClasses === 3 ? ['CSF', 'GM', 'WM'] : Array.from({ length: nClasses }, (_, k) => `class${k + 1}`));
  if (classNames.length !== nClasses) {
    throw new RangeError(`classNames has ${classNames.length} names for ${nClasses} classes`);
  }
  const mask = options.mask;
  return {
    nClasses,
    prior,
    beta: options.beta ?? (prior === 'mrf' ? 0.3 : 1),
    covarianceType: options.covarianceType ?? 'full',
    nInit: options.nInit ?? 5,
    seed: options.seed ?? 0,
    maxIter: options.maxIter ?? 200,
    tol: options.tol ?? 1e-5,
    preparation: options.preparation ?? 'none',
    probabilities: options.probabilities ?? true,
    classNames,
    mask: mask === undefined ? 'nonzero' : typeof mask === 'string' ? mask : mask.source.path,
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
  const mask =
    options.mask !== undefined && typeof options.mask !== 'string'
      ? maskFromVolume(options.mask, first)
      : automaticMask(first, options.mask ?? 'nonzero');
  const features = extractFeatures(channels, mask, { preparation: resolved.preparation });
  const { samples, voxelIndices } = features;
  const featuresTime = seconds(started);

  started = performance.now();
  const responsibilities = new Float32Array(samples.nSamples * K);
  const mixture = fitGaussianMixture(samples, {
    nComponents: K,
    covarianceType: resolved.covarianceType,
    nInit: resolved.nInit,
    seed: resolved.seed,
    maxIter: resolved.maxIter,
    tol: resolved.tol,
    // without a spatial stage, the plain mixture's final responsibilities are the result
    ...(resolved.prior === 'none' ? { responsibilities } : {}),
    onIteration: (event) => options.onIteration?.({ stage: 'mixture', ...event }),
  });
  const mixtureTime = seconds(started);

  started = performance.now();
  let spatial: GaussianMixtureFit | undefined;
  if (resolved.prior !== 'none') {
    const grid = { dims: first.dims, spacing: first.spacing, voxelIndices };
    const updatePrior: PriorUpdate =
      resolved.prior === 'ppf'
        ? neighbourhoodPrior(grid, K, { ...resolved.neighbourhood, beta: resolved.beta })
        : pottsPrior(grid, K, { ...resolved.potts, beta: resolved.beta });
    spatial = fitGaussianMixture(samples, {
      nComponents: K,
      covarianceType: resolved.covarianceType,
      initialParameters: mixture.model,
      maxIter: resolved.maxIter,
      tol: resolved.tol,
      updatePrior,
      responsibilities,
      onIteration: (event) => options.onIteration?.({ stage: 'spatial', ...event }),
    });
  }
  const spatialTime = seconds(started);

  started = performance.now();
  const nVoxels = first.data.length;
  const sampleLabels = new Uint8Array(samples.nSamples);
  for (let i = 0; i < samples.nSamples; i++) sampleLabels[i] = mostProbableClass(responsibilities, i, K);
  const labels = scatterLabels(sampleLabels, voxelIndices, nVoxels);
  const probabilities = resolved.probabilities
    ? scatterResponsibilities(responsibilities, voxelIndices, nVoxels, K)
    : undefined;
  const statistics = classStatistics(channels, labels, resolved.classNames);
  return {
    labels,
    probabilities,
    model: (spatial ?? mixture).model,
    mixture: report(mixture),
    spatial: spatial ? report(spatial) : undefined,
    statistics,
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
