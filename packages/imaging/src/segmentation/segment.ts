/**
 * Tissue segmentation of one subject: channel volumes (and a mask) in; label map, probability and
 * partial-volume fraction maps, fitted model, per-class statistics and the convergence trace out.
 *
 * The stages (docs/algorithms.md): the voxels in the mask and their features; robust estimation
 * (spike values and gross outliers are left out of every estimate); the intensity model (one
 * channel: the partial-volume mixture of partial-volume-stages.ts; several: the Gaussian mixture
 * of gaussian-stages.ts), with rounds of bias-field correction; EM again with the spatial prior;
 * the outputs.
 */
import {
  type GaussianMixture,
  mostProbableComponent,
  type PartialVolumeMixture,
  type PriorUpdate,
} from '@mixseg/core';
import type { Volume } from '../types.ts';
import { atlasPrior, blendedPrior } from './atlas-prior.ts';
import {
  extractFeatures,
  type Features,
  type IntensityPreparation,
  scatterLabels,
  scatterResponsibilities,
} from './features.ts';
import { fitGaussianStages } from './gaussian-stages.ts';
import { automaticMask, maskFromVolume } from './mask.ts';
import {
  contradictsImageType,
  fitSingleChannel,
  pureClassesAsGaussianMixture,
} from './partial-volume-stages.ts';
import { analyseIntensities, type ChannelRobustness } from './robust-intensities.ts';
import {
  type ResolvedSegmentOptions,
  resolveSegmentOptions,
  type SegmentOptions,
} from './segment-options.ts';
import { neighbourhoodPrior, pottsPrior } from './spatial-prior.ts';

export {
  type BiasCorrectionOptions,
  describeMask,
  type ImageType,
  type ResolvedSegmentOptions,
  type RobustEstimationOptions,
  resolveClassNames,
  resolveLabelTol,
  type SegmentOptions,
  type SpatialPriorKind,
} from './segment-options.ts';

/** Per-class numbers of a segmentation. */
export interface ClassStatistics {
  label: number;
  name: string;
  voxels: number;
  volumeMl: number;
  /**
   * The class's partial-volume-weighted volume: the sum of its fractions over the mask, in mL (FSL
   * FAST's volumes), or null without fraction maps.
   */
  partialVolumeMl: number | null;
  /** Mean of each channel's (unprepared) intensity over the class's voxels (null for an empty class). */
  meanIntensity: (number | null)[];
}

/** How one EM stage went. */
export interface StageReport {
  converged: boolean;
  stopReason: 'tolerance' | 'labels-stable' | 'max-iterations';
  nIter: number;
  meanLogLikelihood: number;
  logLikelihoodTrace: number[];
  strategy: string;
  /** Final mean log-likelihood of each start (restarts, or candidate starts). */
  initScores: number[];
  warnings: string[];
}

/** What robust estimation found and did. */
export interface RobustReport {
  channels: ChannelRobustness[];
  /** Voxels left out of the estimates (spikes and winsorised voxels). */
  excluded: number;
  /** Voxels the outlier class took (inlier probability below 1/2); still labelled. */
  outliers: number;
}

export interface Segmentation {
  /** Labels 1..K inside the mask, 0 outside; one per voxel. */
  labels: Uint8Array;
  /** nVoxels x K, voxel-major (class k of voxel v at v * K + k); 0 outside the mask. */
  probabilities: Float32Array | undefined;
  /**
   * Partial-volume fractions, nVoxels x K voxel-major (each voxel's share of each class, summing
   * to 1 in the mask, 0 outside), with the probabilities.
   */
  fractions: Float32Array | undefined;
  /**
   * The final model, components in label order, in the units of the bias-corrected (and prepared)
   * intensities. With the partial-volume mixture: its pure classes, weighted by class shares.
   */
  model: GaussianMixture;
  /** The whole partial-volume mixture (single channel), in the same units; undefined otherwise. */
  partialVolume: PartialVolumeMixture | undefined;
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
  robust: RobustReport | undefined;
  /** What a user should know: spikes, outliers, a result that contradicts the image type. */
  warnings: string[];
  /** Resolved options (what was run). */
  options: ResolvedSegmentOptions;
  /** Seconds spent in each step. */
  timings: { features: number; mixture: number; spatial: number; outputs: number };
}

type Grid = { dims: [number, number, number]; spacing: [number, number, number]; voxelIndices: Uint32Array };

/**
 * Segments one subject.
 * @param channels co-registered volumes of one subject (T1, or T1 + T2 + PD...); labels are
 *   ordered by the first channel's class means in the order of its image type.
 */
export function segment(channels: Volume[], options: SegmentOptions = {}): Segmentation {
  const resolved = resolveSegmentOptions(options);
  const K = resolved.nClasses;
  const first = channels[0];
  if (!first) throw new RangeError('at least one channel is needed');
  const seconds = (start: number) => (performance.now() - start) / 1000;

  let started = performance.now();
  const { mask, features } = subjectFeatures(channels, options.mask, resolved.preparation);
  const { samples, voxelIndices } = features;
  const N = samples.nSamples;
  const D = samples.nFeatures;
  const robust = resolved.robust
    ? analyseIntensities(samples, { spikes: resolved.robust.spikes, winsorise: resolved.robust.winsorise })
    : undefined;
  const weights = robust?.weights;
  const featuresTime = seconds(started);

  started = performance.now();
  const grid: Grid = { dims: first.dims, spacing: first.spacing, voxelIndices };
  const atlas =
    options.atlas && options.atlas.length > 0 ? atlasPrior(options.atlas, first, voxelIndices, K) : undefined;
  const spatialPriorFor = (classWeights: number[]): PriorUpdate | undefined => {
    const term = spatialPrior(grid, classWeights, resolved);
    return atlas ? blendedPrior(atlas, term, resolved.atlasWeight) : term;
  };
  const onIteration = options.onIteration
    ? (stage: 'mixture' | 'spatial', iteration: number, meanLogLikelihood: number) =>
        options.onIteration!({ stage, iteration, meanLogLikelihood })
    : undefined;
  const warnings: string[] = [...(robust?.warnings ?? [])];

  let model: GaussianMixture;
  let partialVolume: PartialVolumeMixture | undefined;
  let responsibilities: Float32Array;
  let fractions: Float32Array;
  let mixture: StageReport;
  let spatial: StageReport | undefined;
  let biasFields: Float64Array[] | undefined;
  let outliers = 0;
  let spatialTime = 0;
  if (D === 1 && resolved.partialVolume) {
    const result = fitSingleChannel(
      {
        values: rawValues(samples.data, features.transforms[0]!),
        weights,
        robustness: robust?.channels[0] ?? plainRobustness(samples.data),
        grid,
        atlas,
        spatialPrior: spatialPriorFor,
        onIteration,
      },
      resolved,
    );
    // the model in the units of the prepared intensities -> back through the channel transform
    partialVolume = result.model;
    model = pureClassesAsGaussianMixture(partialVolume);
    responsibilities = result.responsibilities;
    fractions = result.fractions;
    biasFields = result.biasField ? [result.biasField] : undefined;
    for (let i = 0; i < N; i++) if (result.inliers[i]! < 0.5) outliers++;
    const { mixture: fits, candidates } = result.fits;
    mixture = {
      ...mergeReports(fits.map(partialVolumeReport)),
      initScores: candidates.map((c) => c.meanLogLikelihood),
    };
    spatial = result.fits.spatial ? partialVolumeReport(result.fits.spatial) : undefined;
    spatialTime = result.spatialSeconds;
    warnings.push(...result.warnings);
  } else {
    // With several channels, the first channel's partial-volume segmentation (robust starts, bias
    // field, spatial prior) starts the multi-channel mixture, and its fractions keep the mixed voxels
    // out of the class estimates: a voxel that is half CSF and half GM would widen both classes'
    // T2 and PD spreads (SRI24 T1+T2+PD: mean Dice .920 from a plain start, .939 from this one).
    let start:
      | { responsibilities: Float32Array; weights: Float32Array; field: Float64Array | undefined }
      | undefined;
    if (D > 1 && resolved.partialVolume && !atlas) {
      const first = new Float32Array(N);
      const { scale, offset } = features.transforms[0]!;
      for (let i = 0; i < N; i++) first[i] = samples.data[i * D]! * scale + offset;
      const single = fitSingleChannel(
        {
          values: first,
          weights,
          robustness: robust?.channels[0] ?? plainRobustness(first),
          grid,
          atlas: undefined,
          spatialPrior: spatialPriorFor,
          onIteration,
        },
        resolved,
      );
      const purity = new Float32Array(N);
      for (let i = 0, row = 0; i < N; i++, row += K) {
        let largest = 0;
        for (let k = 0; k < K; k++) largest = Math.max(largest, single.fractions[row + k]!);
        purity[i] =
          (weights ? weights[i]! : 1) * single.inliers[i]! * Math.min(1, Math.max(0, 2 * largest - 1));
      }
      // one field for every channel, the first channel's: the receive coil's sensitivity is shared
      // by the sequences of a session, and a T2 or PD field estimated on its own follows CSF's broad
      // spread (SRI24 T1+T2+PD: mean Dice .937 shared, .933 estimated per channel)
      const field = single.biasField;
      if (field) {
        for (let i = 0; i < N; i++) {
          for (let d = 0; d < D; d++) {
            const { scale, offset } = features.transforms[d]!;
            const raw = samples.data[i * D + d]! * scale + offset;
            samples.data[i * D + d] = (raw / field[i]! - offset) / scale;
          }
        }
      }
      start = { responsibilities: single.responsibilities, weights: purity, field };
      warnings.push(...single.warnings);
    }
    const result = fitGaussianStages(
      {
        samples,
        transforms: features.transforms,
        weights: start?.weights ?? weights,
        grid,
        atlas,
        ...(start
          ? {
              initialResponsibilities: start.responsibilities,
              knownFields: start.field ? new Array<Float64Array>(D).fill(start.field) : undefined,
            }
          : {}),
        spatialPrior: spatialPriorFor,
        onIteration,
      },
      resolved,
    );
    model = result.model;
    responsibilities = result.responsibilities;
    fractions = result.fractions;
    biasFields = result.biasFields;
    const shift = result.logDensityShift;
    mixture = mergeReports(result.mixture.map((fit) => gaussianReport(fit, shift)));
    mixture.initScores = result.mixture[0]!.initScores;
    spatialTime = result.spatialSeconds;
    spatial = result.spatial ? gaussianReport(result.spatial, shift) : undefined;
  }
  // a normal tail puts a few voxels there; a cluster of them is worth a word
  if (outliers > 0.001 * N) {
    warnings.push(
      `${outliers} voxels (${((100 * outliers) / N).toFixed(1)}% of the mask) fit no tissue class (the outlier class took them): labelled with their most probable tissue`,
    );
  }
  const mixtureTime = seconds(started);

  started = performance.now();
  const nVoxels = first.data.length;
  const outputs = labelOutputs(channels, responsibilities, voxelIndices, resolved, fractions);
  if (K === 3 && resolved.classNames.length === 3) {
    const counts = outputs.statistics.map((s) => s.voxels);
    const total = counts.reduce((a, b) => a + b, 0);
    const means = outputs.statistics.map((s) => s.meanIntensity[0] ?? Number.NaN);
    const contradiction = contradictsImageType(
      means,
      counts.map((c) => c / total),
      resolved.imageType,
      resolved.classNames,
    );
    const outer = outerLayerShares(outputs.labels, mask, first.dims, K);
    const outerContradiction =
      outer[2]! > outer[0]! && outer[2]! > outer[1]!
        ? `the outer layer of the mask is mostly "${resolved.classNames[2]}" (${(100 * outer[2]!).toFixed(0)}%), which lies inside ${resolved.classNames[1]} in a brain`
        : undefined;
    for (const found of [contradiction, outerContradiction]) {
      if (!found) continue;
      warnings.push(
        `the result contradicts imageType ${resolved.imageType}: ${found}; check the image's contrast (imageType t1, t2 or pd) and its mask`,
      );
    }
  }
  return {
    ...outputs,
    model,
    partialVolume,
    mixture,
    spatial,
    biasFields: biasFields?.map((field) => scatterField(field, voxelIndices, nVoxels)),
    mask,
    nonFinite: features.nonFinite,
    robust: robust ? { channels: robust.channels, excluded: robust.excluded, outliers } : undefined,
    warnings,
    options: resolved,
    timings: {
      features: featuresTime,
      mixture: mixtureTime - spatialTime,
      spatial: spatialTime,
      outputs: seconds(started),
    },
  };
}

/** One channel's prepared values back in its own units. */
function rawValues(values: Float32Array, transform: { scale: number; offset: number }): Float32Array {
  if (transform.scale === 1 && transform.offset === 0) return values;
  return values.map((x) => x * transform.scale + transform.offset);
}

/** Channel statistics when robust estimation is off: the median and IQR of the values. */
function plainRobustness(values: Float32Array): ChannelRobustness {
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  const at = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
  let integerValued = true;
  for (let i = 0; i < n && integerValued; i++)
    if (Math.floor(sorted[i]!) !== sorted[i]) integerValued = false;
  const iqr = at(0.75) - at(0.25);
  return {
    spikes: [],
    low: -Infinity,
    high: Infinity,
    winsorisedLow: 0,
    winsorisedHigh: 0,
    median: at(0.5),
    robustScale: iqr > 0 ? iqr / 1.349 : Math.max(sorted[n - 1]! - sorted[0]!, 1) / 6,
    integerValued,
  };
}

function partialVolumeReport(fit: {
  converged: boolean;
  stopReason: StageReport['stopReason'];
  nIter: number;
  meanLogLikelihood: number;
  logLikelihoodTrace: number[];
  warnings: string[];
}): StageReport {
  return {
    converged: fit.converged,
    stopReason: fit.stopReason,
    nIter: fit.nIter,
    meanLogLikelihood: fit.meanLogLikelihood,
    logLikelihoodTrace: fit.logLikelihoodTrace,
    strategy: 'tabulated',
    initScores: [],
    warnings: fit.warnings,
  };
}

function gaussianReport(
  fit: {
    converged: boolean;
    stopReason: StageReport['stopReason'];
    nIter: number;
    meanLogLikelihood: number;
    logLikelihoodTrace: number[];
    strategy: string;
    initScores: number[];
    warnings: string[];
  },
  shift: number,
): StageReport {
  return {
    converged: fit.converged,
    stopReason: fit.stopReason,
    nIter: fit.nIter,
    meanLogLikelihood: fit.meanLogLikelihood + shift,
    logLikelihoodTrace: fit.logLikelihoodTrace.map((v) => v + shift),
    strategy: fit.strategy,
    initScores: fit.initScores,
    warnings: fit.warnings,
  };
}

/**
 * Reports of consecutive fits (the start, then bias-correction rounds) as one stage. The rounds'
 * fixed iteration counts are the schedule, not a failure to converge: their "did not converge"
 * warnings are dropped, and the stage converged when its first fit did.
 */
function mergeReports(reports: StageReport[]): StageReport {
  const first = reports[0]!;
  const last = reports[reports.length - 1]!;
  return {
    ...last,
    converged: first.converged,
    stopReason: first.stopReason,
    nIter: reports.reduce((sum, report) => sum + report.nIter, 0),
    logLikelihoodTrace: reports.flatMap((report, index) =>
      // a warm start's first value repeats the previous fit's last
      index === 0 ? report.logLikelihoodTrace : report.logLikelihoodTrace.slice(1),
    ),
    initScores: first.initScores,
    warnings: [
      ...new Set(
        [first, ...reports.slice(1)].flatMap((r, index) =>
          index === 0 ? r.warnings : r.warnings.filter((w) => !/did not converge/.test(w)),
        ),
      ),
    ],
  };
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
 * The spatial term of the chosen prior (undefined for `none`): the neighbourhood factor (`ppf`,
 * and the spatial part of `atlas`) or the Potts field, each times the given class weights.
 */
export function spatialPrior(
  grid: Grid,
  classWeights: number[],
  options: Pick<ResolvedSegmentOptions, 'prior' | 'beta' | 'neighbourhood' | 'potts'>,
): PriorUpdate | undefined {
  const K = classWeights.length;
  const weights = classWeights.map((w) => Math.max(w, 1e-6));
  switch (options.prior) {
    case 'ppf':
    case 'atlas':
      return neighbourhoodPrior(grid, K, {
        ...options.neighbourhood,
        classWeights: weights,
        beta: options.beta,
      });
    case 'mrf':
      return pottsPrior(grid, K, { ...options.potts, classWeights: weights, beta: options.beta });
    case 'none':
      return undefined;
    default:
      throw new RangeError(`unknown prior ${options.prior satisfies never}`);
  }
}

/** Label map, probability and fraction maps (when asked for) and class statistics. */
export function labelOutputs(
  channels: Volume[],
  responsibilities: Float32Array,
  voxelIndices: Uint32Array,
  options: Pick<ResolvedSegmentOptions, 'probabilities' | 'classNames'>,
  fractions?: Float32Array,
): Pick<Segmentation, 'labels' | 'probabilities' | 'fractions' | 'statistics'> {
  const K = options.classNames.length;
  const N = voxelIndices.length;
  const nVoxels = channels[0]!.data.length;
  const sampleLabels = new Uint8Array(N);
  for (let i = 0; i < N; i++) sampleLabels[i] = mostProbableComponent(responsibilities, i, K);
  const labels = scatterLabels(sampleLabels, voxelIndices, nVoxels);
  const statistics = classStatistics(channels, labels, options.classNames);
  if (fractions) {
    const [sx, sy, sz] = channels[0]!.spacing;
    const voxelMl = (sx * sy * sz) / 1000;
    const sums = new Float64Array(K);
    for (let e = 0; e < fractions.length; e++) sums[e % K]! += fractions[e]!;
    statistics.forEach((s, k) => {
      s.partialVolumeMl = sums[k]! * voxelMl;
    });
  }
  return {
    labels,
    probabilities: options.probabilities
      ? scatterResponsibilities(responsibilities, voxelIndices, nVoxels, K)
      : undefined,
    fractions:
      options.probabilities && fractions
        ? scatterResponsibilities(fractions, voxelIndices, nVoxels, K)
        : undefined,
    statistics,
  };
}

/**
 * Share of each label among the mask's outer layer (mask voxels with a face neighbour outside the
 * mask or the volume): in a brain, CSF and GM, never WM.
 */
export function outerLayerShares(
  labels: Uint8Array,
  mask: Uint8Array,
  dims: [number, number, number],
  K: number,
): number[] {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const counts = new Float64Array(K + 1);
  let total = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = nx * y + nxy * z;
      for (let x = 0; x < nx; x++) {
        const v = row + x;
        if (mask[v] !== 1) continue;
        const edge =
          x === 0 ||
          x === nx - 1 ||
          y === 0 ||
          y === ny - 1 ||
          mask[v - 1] !== 1 ||
          mask[v + 1] !== 1 ||
          mask[v - nx] !== 1 ||
          mask[v + nx] !== 1 ||
          (nz > 1 && (z === 0 || z === nz - 1 || mask[v - nxy] !== 1 || mask[v + nxy] !== 1));
        if (!edge) continue;
        counts[labels[v]!]!++;
        total++;
      }
    }
  }
  return Array.from({ length: K }, (_, k) => (total > 0 ? counts[k + 1]! / total : 0));
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
      partialVolumeMl: null,
      meanIntensity: Array.from({ length: D }, (_, d) => (voxels > 0 ? sums[label * D + d]! / voxels : null)),
    };
  });
}
