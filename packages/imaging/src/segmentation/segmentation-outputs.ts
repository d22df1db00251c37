/**
 * The last stage of a segmentation: the label map (each voxel's most probable class), probability
 * and fraction maps, per-class statistics, and the checks of the result against the image type.
 */
import { type GaussianMixture, mostProbableComponent, type PartialVolumeMixture } from '@mixseg/core';
import type { Volume } from '../types.ts';
import { scatterLabels, scatterResponsibilities } from './features.ts';
import { contradictsImageType } from './image-type-check.ts';
import type { ModelResult } from './model-stages.ts';
import type { ResolvedSegmentOptions } from './segment-options.ts';
import type { RobustReport, StageReport } from './stage-reports.ts';
import type { Subject } from './subject.ts';

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

/**
 * The outputs: label, probability and fraction maps and statistics on the full grid, with the
 * model, the stages' reports and the warnings. A fitted result is also checked against the image
 * type.
 * @param seconds the seconds of the stages so far; `clock` gives those of the outputs
 */
export function segmentation(
  subject: Subject,
  result: ModelResult,
  options: ResolvedSegmentOptions,
  seconds: { features: number; mixture: number; spatial: number },
  clock: () => number,
  fitted = true,
): Segmentation {
  const { channels, mask, features, warnings } = subject;
  const { voxelIndices } = features;
  const N = voxelIndices.length;
  const { outliers } = result;
  // a normal tail puts a few voxels there; a cluster of them is worth a word
  if (outliers > 0.001 * N) {
    warnings.push(
      `${outliers} voxels (${((100 * outliers) / N).toFixed(1)}% of the mask) fit no tissue class (the outlier class took them): labelled with their most probable tissue`,
    );
  }
  const first = channels[0]!;
  const outputs = labelOutputs(channels, result.responsibilities, voxelIndices, options, result.fractions);
  if (fitted) warnings.push(...imageTypeWarnings(outputs, mask, first.dims, options));
  const { robust } = subject;
  return {
    ...outputs,
    model: result.model,
    partialVolume: result.partialVolume,
    mixture: result.mixture,
    spatial: result.spatial,
    biasFields: result.biasFields?.map((field) => scatterField(field, voxelIndices, first.data.length)),
    mask,
    nonFinite: features.nonFinite,
    robust: robust ? { channels: robust.channels, excluded: robust.excluded, outliers } : undefined,
    warnings,
    options,
    timings: { ...seconds, outputs: clock() },
  };
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
 * Warnings when a three-class result contradicts the image type: class means out of its order,
 * implausible class shares, or a mask whose outer layer is mostly the innermost class.
 */
export function imageTypeWarnings(
  outputs: Pick<Segmentation, 'labels' | 'statistics'>,
  mask: Uint8Array,
  dims: [number, number, number],
  options: Pick<ResolvedSegmentOptions, 'nClasses' | 'classNames' | 'imageType'>,
): string[] {
  const K = options.nClasses;
  if (K !== 3 || options.classNames.length !== 3) return [];
  const counts = outputs.statistics.map((s) => s.voxels);
  const total = counts.reduce((a, b) => a + b, 0);
  const means = outputs.statistics.map((s) => s.meanIntensity[0] ?? Number.NaN);
  const contradiction = contradictsImageType(
    means,
    counts.map((c) => c / total),
    options.imageType,
    options.classNames,
  );
  const outer = outerLayerShares(outputs.labels, mask, dims, K);
  const outerContradiction =
    outer[2]! > outer[0]! && outer[2]! > outer[1]!
      ? `the outer layer of the mask is mostly "${options.classNames[2]}" (${(100 * outer[2]!).toFixed(0)}%), which lies inside ${options.classNames[1]} in a brain`
      : undefined;
  return [contradiction, outerContradiction]
    .filter((found) => found !== undefined)
    .map(
      (found) =>
        `the result contradicts imageType ${options.imageType}: ${found}; check the image's contrast (imageType t1, t2 or pd) and its mask`,
    );
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

/** A field at each sample, on the full grid (0 outside the mask). */
export function scatterField(field: Float64Array, voxelIndices: Uint32Array, nVoxels: number): Float32Array {
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
