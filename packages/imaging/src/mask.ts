/**
 * Brain masks: a given mask file (any nonzero voxel), the nonzero voxels of a skull-stripped
 * image, or a foreground threshold (Otsu) for whole-head images. Non-finite voxels are never in a
 * mask.
 */
import { describeGrid, sameGrid } from './grid.ts';
import { ImageFileError, type Volume, type VoxelData } from './types.ts';

/** How a mask is made when no mask file is given. */
export type MaskMethod = 'nonzero' | 'otsu';

/** 1 where the voxel is finite and nonzero. */
export function nonzeroMask(volume: Volume): Uint8Array {
  const { data } = volume;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    mask[i] = v !== 0 && v - v === 0 ? 1 : 0;
  }
  return mask;
}

/**
 * Otsu's threshold of the finite values: the level that maximises the between-class variance of
 * a 256-bin histogram spanning [min, max]. Returns the upper edge of the last background bin.
 */
export function otsuThreshold(data: VoxelData, nBins = 256): number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return min;
  const width = (max - min) / nBins;
  const counts = new Float64Array(nBins);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) continue;
    counts[Math.min(nBins - 1, Math.floor((v - min) / width))]!++;
  }
  let total = 0;
  let totalSum = 0;
  for (let b = 0; b < nBins; b++) {
    total += counts[b]!;
    totalSum += b * counts[b]!;
  }
  let background = 0;
  let backgroundSum = 0;
  let best = 0;
  let bestVariance = -1;
  for (let b = 0; b < nBins - 1; b++) {
    background += counts[b]!;
    backgroundSum += b * counts[b]!;
    const foreground = total - background;
    if (background === 0 || foreground === 0) continue;
    const meanBackground = backgroundSum / background;
    const meanForeground = (totalSum - backgroundSum) / foreground;
    const variance = background * foreground * (meanBackground - meanForeground) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = b;
    }
  }
  return min + (best + 1) * width;
}

/** 1 where the voxel is finite and above Otsu's threshold (the head, in a whole-head image). */
export function otsuMask(volume: Volume): Uint8Array {
  const threshold = otsuThreshold(volume.data);
  const { data } = volume;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    mask[i] = v > threshold && v - v === 0 ? 1 : 0;
  }
  return mask;
}

/** A mask made from an image by the given method. */
export function automaticMask(volume: Volume, method: MaskMethod): Uint8Array {
  switch (method) {
    case 'nonzero':
      return nonzeroMask(volume);
    case 'otsu':
      return otsuMask(volume);
    default:
      throw new RangeError(
        `mask method must be "nonzero" or "otsu", got ${JSON.stringify(method satisfies never)}`,
      );
  }
}

/**
 * A mask from a mask image (any finite nonzero voxel), checked against the grid of the image it
 * applies to: refused, with both grids in the message, when they differ.
 */
export function maskFromVolume(maskVolume: Volume, reference: Volume): Uint8Array {
  if (!sameGrid(maskVolume, reference)) {
    throw new ImageFileError(
      maskVolume.source.path,
      `mask grid ${describeGrid(maskVolume)} differs from the grid of ${reference.source.path}, ${describeGrid(reference)}`,
    );
  }
  return nonzeroMask(maskVolume);
}

/** Number of voxels in a mask. */
export function countMask(mask: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  return count;
}
