/**
 * Brain masks: a given mask file (any nonzero voxel), the nonzero voxels of a skull-stripped
 * image, or a foreground threshold (Otsu) for whole-head images. A mask made from an image also
 * takes the NaN and infinite voxels that lie inside it (enclosed by it, not reachable from the
 * volume's border through voxels outside it), so that the segmentation counts them as non-finite
 * voxels of the brain instead of losing them with the background; a mask file's NaN voxels are
 * outside.
 */
import { describeGrid, sameGrid } from '../grid.ts';
import { ImageFileError, type Volume, type VoxelData } from '../types.ts';

/** How a mask is made when no mask file is given. */
export type MaskMethod = 'nonzero' | 'otsu';

/** 1 where the value is finite and nonzero. */
function finiteNonzero(data: VoxelData): Uint8Array {
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    mask[i] = v !== 0 && v - v === 0 ? 1 : 0;
  }
  return mask;
}

/**
 * Adds to `mask`, in place, the NaN and infinite voxels of `volume` that it encloses: those that
 * cannot be reached from the volume's border through voxels outside the mask, moving between face
 * neighbours (6-connected), as scipy.ndimage.binary_fill_holes fills holes; zeros are never added.
 * A NaN voxel in the brain is then inside the mask (and counted as non-finite by extractFeatures),
 * while a NaN background (as some pipelines write outside the brain) stays outside however close
 * it comes to the brain; a NaN region that opens onto the background through zeros stays outside
 * too. Axes of size 1 have no border (a 2-D image's border is its edge). Costs nothing when every
 * voxel is finite; otherwise 5 bytes a voxel while it runs.
 */
function addEnclosedNonFinite(mask: Uint8Array, volume: Volume): Uint8Array {
  const { data } = volume;
  let nonFinite = false;
  for (let i = 0; i < data.length && !nonFinite; i++) nonFinite = data[i]! - data[i]! !== 0;
  if (!nonFinite) return mask;
  const [nx, ny, nz] = volume.dims;
  const nxy = nx * ny;
  // 1 for the voxels outside the mask reached from the border
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let head = 0;
  let tail = 0;
  const reach = (v: number) => {
    if (mask[v] === 0 && outside[v] === 0) {
      outside[v] = 1;
      queue[tail++] = v;
    }
  };
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const border =
          (nx > 1 && (x === 0 || x === nx - 1)) ||
          (ny > 1 && (y === 0 || y === ny - 1)) ||
          (nz > 1 && (z === 0 || z === nz - 1));
        if (border) reach(x + nx * y + nxy * z);
      }
    }
  }
  while (head < tail) {
    const v = queue[head++]!;
    const x = v % nx;
    const y = Math.floor(v / nx) % ny;
    const z = Math.floor(v / nxy);
    if (x > 0) reach(v - 1);
    if (x < nx - 1) reach(v + 1);
    if (y > 0) reach(v - nx);
    if (y < ny - 1) reach(v + nx);
    if (z > 0) reach(v - nxy);
    if (z < nz - 1) reach(v + nxy);
  }
  for (let v = 0; v < mask.length; v++) {
    if (outside[v] === 0 && data[v]! - data[v]! !== 0) mask[v] = 1;
  }
  return mask;
}

/**
 * 1 where the voxel is finite and nonzero, and at the NaN and infinite voxels that region
 * encloses (see the module's note: they are the brain's, and are counted, not segmented).
 */
export function nonzeroMask(volume: Volume): Uint8Array {
  return addEnclosedNonFinite(finiteNonzero(volume.data), volume);
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

/**
 * 1 where the voxel is finite and above Otsu's threshold (the head, in a whole-head image), and at
 * the NaN and infinite voxels that region encloses.
 */
export function otsuMask(volume: Volume): Uint8Array {
  const threshold = otsuThreshold(volume.data);
  const { data } = volume;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    mask[i] = v > threshold && v - v === 0 ? 1 : 0;
  }
  return addEnclosedNonFinite(mask, volume);
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
 * A mask from a mask image (any finite nonzero voxel; NaN voxels are outside), checked against the grid of the image it
 * applies to: refused, with both grids in the message, when they differ.
 */
export function maskFromVolume(maskVolume: Volume, reference: Volume): Uint8Array {
  if (!sameGrid(maskVolume, reference)) {
    throw new ImageFileError(
      maskVolume.source.path,
      `mask grid ${describeGrid(maskVolume)} differs from the grid of ${reference.source.path}, ${describeGrid(reference)}`,
    );
  }
  return finiteNonzero(maskVolume.data);
}

/** Number of voxels in a mask. */
export function countMask(mask: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  return count;
}
