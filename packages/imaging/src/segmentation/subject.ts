/**
 * The subject as the stages of {@link segment} and {@link applyModel} see it: the mask, the feature
 * vectors inside it (which bias correction rewrites), what robust estimation found, the atlas
 * prior and the spatial prior's term. {@link prepareSubject} is the first stage of both.
 */
import type { PriorUpdate } from '@mixseg/core';
import type { Volume } from '../types.ts';
import { atlasPrior, blendedPrior } from './atlas-prior.ts';
import { extractFeatures, type Features, type IntensityPreparation } from './features.ts';
import { automaticMask, maskFromVolume } from './mask.ts';
import { analyseIntensities, type ChannelRobustness, type RobustAnalysis } from './robust-intensities.ts';
import type { ResolvedSegmentOptions, SegmentOptions } from './segment-options.ts';
import { neighbourhoodPrior, pottsPrior } from './spatial-prior.ts';

/** The voxel grid and the voxel index of each sample. */
export interface SubjectGrid {
  dims: [number, number, number];
  spacing: [number, number, number];
  voxelIndices: Uint32Array;
}

/** Progress of a stage: its name, the iteration (from 1) and the mean log-likelihood. */
export type StageProgress = (
  stage: 'mixture' | 'spatial',
  iteration: number,
  meanLogLikelihood: number,
) => void;

/** One subject, prepared for the stages. */
export interface Subject {
  channels: Volume[];
  mask: Uint8Array;
  /** The in-mask feature vectors (N x D); the bias correction rewrites the samples. */
  features: Features;
  grid: SubjectGrid;
  /** What robust estimation found, or undefined when it is off. */
  robust: RobustAnalysis | undefined;
  /** The atlas prior of each sample (N x K), or undefined. */
  atlas: Float32Array | undefined;
  /** The spatial prior for given class weights (blended with the atlas), undefined for none. */
  spatialPrior: (classWeights: number[]) => PriorUpdate | undefined;
  onIteration: StageProgress | undefined;
  /** What a user should know, gathered by the stages. */
  warnings: string[];
}

/** What {@link prepareSubject} needs of the options. */
export type PreparationOptions = Pick<
  ResolvedSegmentOptions,
  'nClasses' | 'preparation' | 'robust' | 'prior' | 'beta' | 'neighbourhood' | 'potts' | 'atlasWeight'
>;

/**
 * The first stage: the mask (a mask image, or a method), the feature vectors inside it, robust
 * estimation, and the priors.
 */
export function prepareSubject(
  channels: Volume[],
  given: Pick<SegmentOptions, 'mask' | 'atlas' | 'onIteration'>,
  options: PreparationOptions,
): Subject {
  const first = channels[0];
  if (!first) throw new RangeError('at least one channel is needed');
  const { mask, features } = subjectFeatures(channels, given.mask, options.preparation);
  const { samples, voxelIndices } = features;
  const robust = options.robust
    ? analyseIntensities(samples, { spikes: options.robust.spikes, winsorise: options.robust.winsorise })
    : undefined;
  const grid: SubjectGrid = { dims: first.dims, spacing: first.spacing, voxelIndices };
  const atlas =
    given.atlas && given.atlas.length > 0
      ? atlasPrior(given.atlas, first, voxelIndices, options.nClasses)
      : undefined;
  const { onIteration } = given;
  return {
    channels,
    mask,
    features,
    grid,
    robust,
    atlas,
    spatialPrior: (classWeights) => {
      const term = spatialPrior(grid, classWeights, options);
      return atlas ? blendedPrior(atlas, term, options.atlasWeight) : term;
    },
    onIteration: onIteration
      ? (stage, iteration, meanLogLikelihood) => onIteration({ stage, iteration, meanLogLikelihood })
      : undefined,
    warnings: [...(robust?.warnings ?? [])],
  };
}

/** The subject's mask (a mask image, or a method) and the feature vectors inside it. */
function subjectFeatures(
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
  grid: SubjectGrid,
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

/** One channel's prepared values back in its own units. */
export function channelValues(subject: Subject, channel: number): Float32Array {
  const { samples, transforms } = subject.features;
  const { scale, offset } = transforms[channel]!;
  const N = samples.nSamples;
  const D = samples.nFeatures;
  if (D === 1) {
    if (scale === 1 && offset === 0) return samples.data;
    return samples.data.map((x) => x * scale + offset);
  }
  const values = new Float32Array(N);
  for (let i = 0; i < N; i++) values[i] = samples.data[i * D + channel]! * scale + offset;
  return values;
}

/** A channel's robust statistics: robust estimation's, or the median and IQR when it is off. */
export function channelRobustness(
  subject: Subject,
  channel: number,
  values: Float32Array,
): ChannelRobustness {
  return subject.robust?.channels[channel] ?? plainRobustness(values);
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
