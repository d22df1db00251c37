/**
 * From co-registered channel volumes (T1, T2, PD of one subject) and a mask to the N x D feature
 * matrix that @mixseg/core fits, and back: labels and responsibilities scattered into full-size
 * volumes. Voxels whose value is NaN or infinite in any channel are left out and counted, never
 * fitted.
 */
import type { SampleMatrix } from '@mixseg/core';
import { describeGrid, sameGrid } from '../grid.ts';
import { percentile } from '../percentile.ts';
import { ImageFileError, type Volume } from '../types.ts';

/**
 * Intensity preparation: `none` keeps the values (integer intensities stay integers, which keeps
 * the fit on its exact histogram path); `zscore` standardises each channel over the mask;
 * `robust` winsorises each channel at the given percentiles (clips outliers such as vessels or
 * artefacts that would otherwise pull a class).
 */
export type IntensityPreparation = 'none' | 'zscore' | 'robust';

export interface FeatureOptions {
  /** Default `none`. */
  preparation?: IntensityPreparation;
  /** Percentiles for `robust`, default [0.5, 99.5]. */
  percentiles?: [number, number];
}

/** What was done to each channel: prepared = (clip(raw, low, high) - offset) / scale. */
export interface ChannelTransform {
  offset: number;
  scale: number;
  clipLow: number;
  clipHigh: number;
}

export interface Features {
  /** N x D, the in-mask voxels with finite values in every channel. */
  samples: SampleMatrix & { data: Float32Array };
  /** The voxel index of each sample. */
  voxelIndices: Uint32Array;
  /** In-mask voxels left out because a channel is NaN or infinite there. */
  nonFinite: number;
  /** Per channel. */
  transforms: ChannelTransform[];
}

/** Throws unless every channel shares the first channel's grid (the message shows both grids). */
export function assertSameGrid(channels: Volume[]): void {
  const first = channels[0]!;
  for (const channel of channels.slice(1)) {
    if (!sameGrid(first, channel)) {
      throw new ImageFileError(
        channel.source.path,
        `grid ${describeGrid(channel)} differs from the grid of ${first.source.path}, ${describeGrid(first)}: ` +
          'channels must be co-registered on one voxel grid',
      );
    }
  }
}

/**
 * Feature vectors of the in-mask voxels.
 * @param channels one or more co-registered volumes (D = channels.length)
 * @param mask 1 inside, length nx * ny * nz
 * @throws ImageFileError when grids differ or no usable voxel remains; RangeError for a mask of the
 *   wrong length or bad options
 */
export function extractFeatures(
  channels: Volume[],
  mask: Uint8Array,
  options: FeatureOptions = {},
): Features {
  if (channels.length === 0) throw new RangeError('at least one channel is needed');
  assertSameGrid(channels);
  const first = channels[0]!;
  const nVoxels = first.data.length;
  if (mask.length !== nVoxels) {
    throw new RangeError(`mask has ${mask.length} voxels, the image ${first.source.path} has ${nVoxels}`);
  }
  const preparation = options.preparation ?? 'none';
  if (!['none', 'zscore', 'robust'].includes(preparation)) {
    throw new RangeError(
      `preparation must be "none", "zscore" or "robust", got ${JSON.stringify(preparation)}`,
    );
  }
  const [lowPercent, highPercent] = options.percentiles ?? [0.5, 99.5];
  if (!(lowPercent >= 0 && lowPercent < highPercent && highPercent <= 100)) {
    throw new RangeError(
      `percentiles must satisfy 0 <= low < high <= 100, got [${lowPercent}, ${highPercent}]`,
    );
  }
  const D = channels.length;
  let count = 0;
  let inMask = 0;
  for (let v = 0; v < nVoxels; v++) {
    if (!mask[v]) continue;
    inMask++;
    let finite = true;
    for (const channel of channels) {
      const x = channel.data[v]!;
      if (x - x !== 0) finite = false;
    }
    if (finite) count++;
  }
  if (inMask === 0) throw new ImageFileError(first.source.path, 'the mask is empty: no voxel to segment');
  if (count === 0) {
    throw new ImageFileError(first.source.path, `all ${inMask} voxels in the mask are NaN or infinite`);
  }
  const voxelIndices = new Uint32Array(count);
  const data = new Float32Array(count * D);
  for (let v = 0, i = 0; v < nVoxels; v++) {
    if (!mask[v]) continue;
    let finite = true;
    for (const channel of channels) {
      const x = channel.data[v]!;
      if (x - x !== 0) finite = false;
    }
    if (!finite) continue;
    voxelIndices[i] = v;
    for (let d = 0; d < D; d++) data[i * D + d] = channels[d]!.data[v]!;
    i++;
  }

  const transforms: ChannelTransform[] = [];
  for (let d = 0; d < D; d++) {
    const transform: ChannelTransform = { offset: 0, scale: 1, clipLow: -Infinity, clipHigh: Infinity };
    if (preparation === 'robust') {
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = data[i * D + d]!;
      values.sort();
      transform.clipLow = percentile(values, lowPercent);
      transform.clipHigh = percentile(values, highPercent);
      for (let i = 0; i < count; i++) {
        const x = data[i * D + d]!;
        data[i * D + d] = Math.min(transform.clipHigh, Math.max(transform.clipLow, x));
      }
    } else if (preparation === 'zscore') {
      let sum = 0;
      for (let i = 0; i < count; i++) sum += data[i * D + d]!;
      const mean = sum / count;
      let squares = 0;
      for (let i = 0; i < count; i++) squares += (data[i * D + d]! - mean) ** 2;
      const sd = Math.sqrt(squares / count);
      transform.offset = mean;
      transform.scale = sd > 0 ? sd : 1;
      for (let i = 0; i < count; i++) data[i * D + d] = (data[i * D + d]! - mean) / transform.scale;
    }
    transforms.push(transform);
  }
  return {
    samples: { data, nSamples: count, nFeatures: D },
    voxelIndices,
    nonFinite: inMask - count,
    transforms,
  };
}

/**
 * A full-size label map from per-sample labels 0..K-1: voxel of sample i gets labels[i] + 1, every
 * other voxel 0.
 */
export function scatterLabels(
  labels: ArrayLike<number>,
  voxelIndices: Uint32Array,
  nVoxels: number,
): Uint8Array {
  if (labels.length !== voxelIndices.length) {
    throw new RangeError(`got ${labels.length} labels for ${voxelIndices.length} voxels`);
  }
  const out = new Uint8Array(nVoxels);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]! + 1;
    if (!(label >= 1 && label <= 255))
      throw new RangeError(`label ${labels[i]} of sample ${i} is outside 0..254`);
    out[voxelIndices[i]!] = label;
  }
  return out;
}

/**
 * Full-size probability maps (nVoxels x K, voxel-major) from per-sample responsibilities
 * (N x K); voxels outside the mask get 0 for every class.
 */
export function scatterResponsibilities(
  responsibilities: ArrayLike<number>,
  voxelIndices: Uint32Array,
  nVoxels: number,
  nClasses: number,
): Float32Array {
  if (responsibilities.length !== voxelIndices.length * nClasses) {
    throw new RangeError(
      `responsibilities have length ${responsibilities.length}, expected ${voxelIndices.length} x ${nClasses}`,
    );
  }
  const out = new Float32Array(nVoxels * nClasses);
  for (let i = 0; i < voxelIndices.length; i++) {
    const v = voxelIndices[i]!;
    for (let k = 0; k < nClasses; k++) out[v * nClasses + k] = responsibilities[i * nClasses + k]!;
  }
  return out;
}
