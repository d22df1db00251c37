/**
 * Spatial priors (docs/algorithms.md, "Spatial priors"): each replaces the global mixing weight
 * pi_k of a voxel by a per-voxel prior computed from its neighbours, as an `updatePrior` hook that
 * @mixseg/core calls between EM iterations. The work is done on the bounding box of the mask,
 * padded by one voxel so that neighbour look-ups need no bounds checks.
 */
import { expNonPositive, mostProbableComponent, type PriorUpdateContext } from '@mixseg/core';

/** Where the samples sit on the voxel grid. */
export interface SampleGrid {
  /** [nx, ny, nz] of the full image (nz = 1 for a 2-D image) */
  dims: [number, number, number];
  /** voxel size in mm */
  spacing: [number, number, number];
  /** the voxel index (x + nx (y + ny z)) of each sample */
  voxelIndices: Uint32Array;
}

/** The mask's bounding box, padded by `pad` voxels, and each sample's index in it. */
export interface BoxGrid {
  dims: [number, number, number];
  /** index of each sample in the box */
  sampleIndices: Uint32Array;
  /** 1 where a sample is */
  occupied: Uint8Array;
}

/** The bounding box of the samples, padded by `pad` voxels on every side of every axis used. */
export function boxGrid(grid: SampleGrid, pad: number): BoxGrid {
  const [nx, ny, nz] = grid.dims;
  const { voxelIndices } = grid;
  const nxy = nx * ny;
  let lowX = Infinity;
  let lowY = Infinity;
  let lowZ = Infinity;
  let highX = -Infinity;
  let highY = -Infinity;
  let highZ = -Infinity;
  for (let i = 0; i < voxelIndices.length; i++) {
    const v = voxelIndices[i]!;
    const z = Math.floor(v / nxy);
    const rest = v - z * nxy;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    if (x < lowX) lowX = x;
    if (x > highX) highX = x;
    if (y < lowY) lowY = y;
    if (y > highY) highY = y;
    if (z < lowZ) lowZ = z;
    if (z > highZ) highZ = z;
  }
  const padZ = nz > 1 ? pad : 0;
  const dims: [number, number, number] = [
    highX - lowX + 1 + 2 * pad,
    highY - lowY + 1 + 2 * pad,
    highZ - lowZ + 1 + 2 * padZ,
  ];
  const [bx, by] = dims;
  const sampleIndices = new Uint32Array(voxelIndices.length);
  const occupied = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < voxelIndices.length; i++) {
    const v = voxelIndices[i]!;
    const z = Math.floor(v / nxy);
    const rest = v - z * nxy;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    const b = x - lowX + pad + bx * (y - lowY + pad + by * (z - lowZ + padZ));
    sampleIndices[i] = b;
    occupied[b] = 1;
  }
  return { dims, sampleIndices, occupied };
}

/**
 * In-place box sum over a (2 radius + 1)^3 window (a square window when nz = 1), separable:
 * one pass per axis. Every inner loop runs over contiguous memory: x along rows with the
 * neighbours in locals, y and z over whole rows and planes of a copy. `scratch` (length >= the
 * volume's) avoids an allocation per call.
 */
export function boxSum(
  values: Float32Array,
  dims: [number, number, number],
  radius: number,
  scratch: Float32Array = new Float32Array(values.length),
): void {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  if (radius === 1) {
    for (let start = 0; start < values.length; start += nx) {
      let previous = 0;
      let current = values[start]!;
      for (let t = 0; t < nx; t++) {
        const next = t + 1 < nx ? values[start + t + 1]! : 0;
        values[start + t] = previous + current + next;
        previous = current;
        current = next;
      }
    }
  } else {
    const line = new Float64Array(nx);
    for (let start = 0; start < values.length; start += nx) {
      for (let t = 0; t < nx; t++) line[t] = values[start + t]!;
      for (let t = 0; t < nx; t++) {
        let sum = 0;
        for (let u = Math.max(0, t - radius); u <= Math.min(nx - 1, t + radius); u++) sum += line[u]!;
        values[start + t] = sum;
      }
    }
  }
  for (let z = 0; z < nz; z++) sumBlocks(values, scratch, z * plane, nx, ny, radius);
  if (nz > 1) sumBlocks(values, scratch, 0, plane, nz, radius);
}

/**
 * Window sums along one axis of `count` consecutive blocks of `size` values starting at `offset`
 * (rows of a plane, or planes of a volume): block b becomes the sum of the original blocks
 * b - radius .. b + radius (clipped at the ends).
 */
function sumBlocks(
  values: Float32Array,
  scratch: Float32Array,
  offset: number,
  size: number,
  count: number,
  radius: number,
): void {
  scratch.set(values.subarray(offset, offset + size * count), offset);
  for (let b = 0; b < count; b++) {
    const o = offset + b * size;
    const low = Math.max(0, b - radius);
    const high = Math.min(count - 1, b + radius);
    if (radius === 1 && b > 0 && b + 1 < count) {
      // the common case, one expression per voxel
      const before = o - size;
      const after = o + size;
      for (let t = 0; t < size; t++)
        values[o + t] = scratch[before + t]! + scratch[o + t]! + scratch[after + t]!;
      continue;
    }
    const first = offset + low * size;
    for (let t = 0; t < size; t++) values[o + t] = scratch[first + t]!;
    for (let d = low + 1; d <= high; d++) {
      const source = offset + d * size;
      for (let t = 0; t < size; t++) values[o + t]! += scratch[source + t]!;
    }
  }
}

/** Options of the neighbourhood prior-probability factor. */
export interface NeighbourhoodPriorOptions {
  /** Strength: 0 gives the plain mixture. Default 1. */
  beta?: number;
  /** Window half-width in voxels: 1 is 3x3x3 (3x3 in 2-D). Default 1. */
  radius?: number;
  /** Whether the voxel itself counts in its window. Default false. */
  includeCentre?: boolean;
  /**
   * Pseudo-count added to each class's neighbourhood sum, so that no class becomes impossible
   * for a voxel whose neighbours all disagree: f_ik = (S_ik + a) / (|W_i| + K a). Default 0.1.
   */
  pseudoCount?: number;
  /**
   * Fixed global class weights pi_k multiplied into the prior (docs/algorithms.md, "Spatial
   * priors"), e.g. the plain mixture's weights. Default: none (all 1).
   */
  classWeights?: number[];
}

/**
 * The prior probability factor (docs/algorithms.md, "Spatial priors"): pi_ik proportional to
 * f_ik^beta pi_k, where f_ik is the mean responsibility of class k over voxel i's in-mask
 * neighbours at the previous iteration. pi_k is held fixed (`classWeights`, segment() passes the plain mixture's weights):
 * measured on SRI24, re-estimating it each iteration from responsibilities the prior has already
 * shrunk is a positive feedback that drives a small class such as CSF to extinction (CSF Dice 0),
 * while leaving it out (pi_k = 1/K) over-weights the small classes (CSF Dice .83 instead of .89).
 */
export function neighbourhoodPrior(
  grid: SampleGrid,
  nClasses: number,
  options: NeighbourhoodPriorOptions = {},
) {
  const beta = options.beta ?? 1;
  const radius = options.radius ?? 1;
  const includeCentre = options.includeCentre ?? false;
  const alpha = options.pseudoCount ?? 0.1;
  if (!(beta >= 0) || !Number.isFinite(beta))
    throw new RangeError(`beta must be a finite number >= 0, got ${beta}`);
  if (!Number.isInteger(radius) || radius < 1)
    throw new RangeError(`radius must be an integer >= 1, got ${radius}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`pseudoCount must be > 0, got ${alpha}`);
  const K = nClasses;
  const classWeights = Float64Array.from(options.classWeights ?? new Array<number>(K).fill(1));
  if (classWeights.length !== K || !classWeights.every((w) => w > 0 && Number.isFinite(w))) {
    throw new RangeError(
      `classWeights must be ${K} finite numbers > 0, got ${JSON.stringify(options.classWeights)}`,
    );
  }
  // Radius 1 (the default) pads the box by a voxel so that window sums are read without bounds
  // checks. The x-y window sums are computed only along the row spans where they are read (the
  // samples' x range in the row and in the rows above and below it in z), in one pass of column
  // sums; the z sum is gathered at the samples.
  const fast = radius === 1;
  const box = boxGrid(grid, fast ? 1 : 0);
  const size = box.occupied.length;
  const N = grid.voxelIndices.length;
  const [bx, by, bz] = box.dims;
  const plane = bz > 1 ? bx * by : 0;
  const { sampleIndices } = box;
  const spans = fast ? rowSpans(sampleIndices, box.dims) : new Int32Array(0);
  const planes = new Float32Array(size);
  const scratch = fast ? new Float32Array(0) : new Float32Array(size);

  /**
   * Window sums of a box-sized array `values` (zero where no sample is) at each sample, into
   * out[i stride + offset].
   */
  const windowSums = (values: Float32Array, out: Float32Array, stride: number, offset: number): void => {
    if (!fast) {
      planes.set(values);
      boxSum(planes, box.dims, radius, scratch);
      for (let i = 0; i < N; i++) out[i * stride + offset] = planes[sampleIndices[i]!]!;
      return;
    }
    for (let j = 0; j < spans.length; j += 2) {
      const low = spans[j]!;
      const high = spans[j + 1]!;
      // column sums over y - 1, y, y + 1, rolled along x
      let previous = values[low - 1 - bx]! + values[low - 1]! + values[low - 1 + bx]!;
      let current = values[low - bx]! + values[low]! + values[low + bx]!;
      for (let t = low; t <= high; t++) {
        const next = values[t + 1 - bx]! + values[t + 1]! + values[t + 1 + bx]!;
        planes[t] = previous + current + next;
        previous = current;
        current = next;
      }
    }
    if (plane === 0) {
      for (let i = 0; i < N; i++) out[i * stride + offset] = planes[sampleIndices[i]!]!;
    } else {
      for (let i = 0; i < N; i++) {
        const b = sampleIndices[i]!;
        out[i * stride + offset] = planes[b - plane]! + planes[b]! + planes[b + plane]!;
      }
    }
  };

  // each sample's window count of in-mask voxels (the centre included), and the normaliser
  // 1 / (|W_i| + K a) of its factor (|W_i| without the centre unless it counts)
  const windowCounts = new Float32Array(N);
  windowSums(Float32Array.from(box.occupied), windowCounts, 1, 0);
  const centre = includeCentre ? 0 : 1;
  const normalisers = new Float32Array(N);
  for (let i = 0; i < N; i++) normalisers[i] = 1 / (windowCounts[i]! - centre + K * alpha);
  // scattered responsibilities of one class: zero wherever no sample is, and never written there
  const scattered = new Float32Array(size);

  return (context: PriorUpdateContext): void => {
    const { responsibilities, prior } = context;
    // responsibilities sum to 1 over k, so the last class's window sum is the window's count
    // minus the others': K - 1 box sums instead of K
    for (let k = 0; k < Math.max(K - 1, 1); k++) {
      for (let i = 0; i < N; i++) scattered[sampleIndices[i]!] = responsibilities[i * K + k]!;
      windowSums(scattered, prior, K, k);
    }
    for (let i = 0, row = 0; i < N; i++, row += K) {
      let rest = windowCounts[i]!;
      const scale = normalisers[i]!;
      for (let k = 0; k < K; k++) {
        let sum: number;
        if (k < K - 1 || K === 1) {
          sum = prior[row + k]!;
          rest -= sum;
        } else {
          sum = rest;
        }
        sum -= centre * responsibilities[row + k]!;
        const f = (Math.max(sum, 0) + alpha) * scale;
        prior[row + k] = (beta === 1 ? f : beta === 0 ? 1 : f ** beta) * classWeights[k]!;
      }
    }
  };
}

/**
 * Where the x-y window sums of a radius-1 prior are read: for each row of the (padded) box, the
 * x range of the samples in it and in the rows just below and above it in z. Returned as
 * [first, last] box indices, two per row that has any.
 */
function rowSpans(sampleIndices: Uint32Array, dims: [number, number, number]): Int32Array {
  const [bx, by, bz] = dims;
  const nRows = by * bz;
  // the samples are in voxel order: each row's first and last sample give its x range
  const low = new Int32Array(nRows).fill(bx);
  const high = new Int32Array(nRows).fill(-1);
  for (let i = 0; i < sampleIndices.length; i++) {
    const b = sampleIndices[i]!;
    const row = Math.floor(b / bx);
    const x = b - row * bx;
    if (x < low[row]!) low[row] = x;
    if (x > high[row]!) high[row] = x;
  }
  const spans: number[] = [];
  for (let row = 0; row < nRows; row++) {
    let first = low[row]!;
    let last = high[row]!;
    if (bz > 1) {
      for (const neighbour of [row - by, row + by]) {
        if (neighbour < 0 || neighbour >= nRows) continue;
        first = Math.min(first, low[neighbour]!);
        last = Math.max(last, high[neighbour]!);
      }
    }
    if (last >= 0) spans.push(row * bx + first, row * bx + last);
  }
  return Int32Array.from(spans);
}

/** Options of the Potts Markov random field prior. */
export interface PottsPriorOptions {
  /** Interaction strength. Default 0.3 (ANTs Atropos' default; FSL FAST uses 0.1). */
  beta?: number;
  /** 6 (faces) or 26 (faces, edges, corners) neighbours; 4 or 8 are used in 2-D. Default 26. */
  connectivity?: 6 | 26;
  /** Fixed global class weights pi_k multiplied into the prior. Default: none (all 1). */
  classWeights?: number[];
}

/**
 * The Potts MRF prior (docs/algorithms.md, "Spatial priors"): pi_ik proportional to
 * exp(beta sum_{m in N_i, z_m = k} 1 / d(i, m)), with z the current hard labels and d the
 * physical distance in mm relative to the smallest voxel size (so anisotropic voxels are weighted
 * by their true distance and isotropic 1-voxel steps weigh 1).
 */
export function pottsPrior(grid: SampleGrid, nClasses: number, options: PottsPriorOptions = {}) {
  const beta = options.beta ?? 0.3;
  const connectivity = options.connectivity ?? 26;
  if (!(beta >= 0) || !Number.isFinite(beta))
    throw new RangeError(`beta must be a finite number >= 0, got ${beta}`);
  if (connectivity !== 6 && connectivity !== 26) {
    throw new RangeError(`connectivity must be 6 or 26, got ${connectivity}`);
  }
  const K = nClasses;
  const classWeights = Float64Array.from(options.classWeights ?? new Array<number>(K).fill(1));
  if (classWeights.length !== K || !classWeights.every((w) => w > 0 && Number.isFinite(w))) {
    throw new RangeError(
      `classWeights must be ${K} finite numbers > 0, got ${JSON.stringify(options.classWeights)}`,
    );
  }
  const box = boxGrid(grid, 1);
  const [bx, by, bz] = box.dims;
  const unit = Math.min(...grid.spacing);
  const offsets: number[] = [];
  const weights: number[] = [];
  for (let dz = -1; dz <= 1; dz++) {
    if (bz === 1 && dz !== 0) continue;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const steps = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (steps === 0 || (connectivity === 6 && steps > 1)) continue;
        const distance = Math.hypot(dx * grid.spacing[0], dy * grid.spacing[1], dz * grid.spacing[2]) / unit;
        offsets.push(dx + bx * (dy + by * dz));
        weights.push(1 / distance);
      }
    }
  }
  const labels = new Int8Array(bx * by * bz).fill(-1);
  const N = grid.voxelIndices.length;
  const energy = new Float64Array(K);
  return (context: PriorUpdateContext): void => {
    const { responsibilities, prior } = context;
    for (let i = 0; i < N; i++) labels[box.sampleIndices[i]!] = mostProbableComponent(responsibilities, i, K);
    for (let i = 0; i < N; i++) {
      const b = box.sampleIndices[i]!;
      energy.fill(0);
      for (let n = 0; n < offsets.length; n++) {
        const label = labels[b + offsets[n]!]!;
        if (label >= 0) energy[label]! += weights[n]!;
      }
      let max = 0;
      for (let k = 0; k < K; k++) if (energy[k]! > max) max = energy[k]!;
      for (let k = 0; k < K; k++)
        prior[i * K + k] = expNonPositive(beta * (energy[k]! - max)) * classWeights[k]!;
    }
  };
}
