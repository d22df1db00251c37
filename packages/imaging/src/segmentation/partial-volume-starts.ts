/**
 * Where the partial-volume mixture starts: the best of several seeded plain Gaussian fits on the
 * lattice, and a start from the tissue order of the image type (or, with an atlas, the
 * atlas-weighted moments). Each is refined by the stages, and the most likely one that does not
 * contradict the image type is kept.
 */
import { fitGaussianMixture, type PartialVolumeMixture } from '@mixseg/core';
import type { ImageType, ResolvedSegmentOptions } from './segment-options.ts';

/** A candidate start: class means and variances (lattice units), and weights when known. */
export interface PartialVolumeStart {
  name: string;
  means: number[];
  variances: number[];
  weights?: number[];
}

/**
 * The candidate starts for lattice values `data` (N), `weights` (robust estimation's, or
 * undefined) and, with an atlas, its class probabilities (N x K).
 * @param spread the robust spread of the intensities, in lattice units
 * @param varianceFloor the smallest class variance, in lattice units
 */
export function candidateStarts(
  data: Float32Array,
  weights: Float32Array | undefined,
  atlas: Float32Array | undefined,
  spread: number,
  varianceFloor: number,
  options: Pick<
    ResolvedSegmentOptions,
    'nClasses' | 'nInit' | 'seed' | 'covarianceShrinkage' | 'maxIter' | 'tol' | 'imageType'
  >,
): PartialVolumeStart[] {
  const K = options.nClasses;
  const N = data.length;
  const starts: PartialVolumeStart[] = [];
  if (atlas) {
    starts.push({ name: 'atlas-weighted moments', ...weightedMoments(data, weights, atlas, K) });
    return starts;
  }
  const plain = fitGaussianMixture(
    { data, nSamples: N, nFeatures: 1 },
    {
      nComponents: K,
      nInit: options.nInit,
      seed: options.seed,
      sampleWeights: weights,
      covarianceShrinkage: options.covarianceShrinkage,
      regCovar: varianceFloor,
      maxIter: options.maxIter,
      tol: options.tol,
    },
  );
  const order = plain.model.means.map((_, k) => k);
  if (options.imageType !== 't1') order.reverse();
  starts.push({
    name: `best of ${options.nInit} k-means starts`,
    means: order.map((k) => plain.model.means[k]![0]!),
    variances: order.map((k) => plain.model.covariances[k]![0]![0]!),
    weights: order.map((k) => plain.model.weights[k]!),
  });
  if (K > 1) {
    const sorted = sortedKept(data, weights);
    starts.push({ name: 'tissue order', ...tissueOrderStart(sorted, K, options.imageType, spread) });
  }
  return starts;
}

/** Tissue-order start: the darkest (T1) or brightest (T2, PD) 5 % for CSF, the median, the 95th percentile. */
function tissueOrderStart(
  sorted: Float32Array,
  K: number,
  imageType: ImageType,
  spread: number,
): { means: number[]; variances: number[] } {
  const n = sorted.length;
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.floor(p * n)))]!;
  const tail = Math.max(1, Math.floor(0.05 * n));
  let low = 0;
  let high = 0;
  for (let i = 0; i < tail; i++) {
    low += sorted[i]!;
    high += sorted[n - 1 - i]!;
  }
  low /= tail;
  high /= tail;
  const ascending: number[] = [];
  for (let k = 0; k < K; k++) {
    if (K === 1) ascending.push(at(0.5));
    else if (k === 0) ascending.push(low);
    else if (k === K - 1) ascending.push(at(0.95));
    else ascending.push(at(0.5 * (k / (K - 1)) + 0.25));
  }
  if (imageType !== 't1' && K > 1) {
    ascending[K - 1] = high;
    ascending[0] = at(0.05);
  }
  const means = imageType === 't1' ? ascending : ascending.reverse();
  return { means, variances: new Array<number>(K).fill((spread / 2) ** 2) };
}

/** The lattice values of the samples with weight > 0, sorted (a counting sort: they are integers). */
function sortedKept(data: Float32Array, weights: Float32Array | undefined): Float32Array {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (weights && !(weights[i]! > 0)) continue;
    const x = data[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  if (!(high >= low)) return new Float32Array(0);
  const counts = new Uint32Array(high - low + 1);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (weights && !(weights[i]! > 0)) continue;
    counts[data[i]! - low]!++;
    n++;
  }
  const sorted = new Float32Array(n);
  for (let b = 0, j = 0; b < counts.length; b++) {
    sorted.fill(low + b, j, j + counts[b]!);
    j += counts[b]!;
  }
  return sorted;
}

/**
 * Whether two fits converged to the same model: every mean within 1 % of the robust spread, every
 * standard deviation and weight within 1 % (relative) of each other.
 */
export function sameModel(a: PartialVolumeMixture, b: PartialVolumeMixture, spread: number): boolean {
  const close = (x: number, y: number, tolerance: number) => Math.abs(x - y) <= tolerance;
  return a.means.every(
    (mean, k) =>
      close(mean, b.means[k]!, 0.01 * spread) &&
      close(Math.sqrt(a.variances[k]!), Math.sqrt(b.variances[k]!), 0.01 * Math.sqrt(a.variances[k]!)) &&
      close(a.weights[k]!, b.weights[k]!, 0.01),
  );
}

/** Fraction steps of each mixel class. */
export const PARTIAL_VOLUME_STEPS = 12;

/** Pairs of classes adjacent in label order: (0, 1), (1, 2), ... */
export function adjacentInOrder(K: number): [number, number][] {
  return Array.from({ length: Math.max(K - 1, 0) }, (_, k) => [k, k + 1] as [number, number]);
}

/** Class means and variances of the data weighted by given class probabilities (N x K). */
function weightedMoments(
  data: Float32Array,
  weights: Float32Array | undefined,
  probabilities: Float32Array,
  K: number,
): { means: number[]; variances: number[]; weights: number[] } {
  const n = new Float64Array(K);
  const s1 = new Float64Array(K);
  const s2 = new Float64Array(K);
  for (let i = 0; i < data.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (!(w > 0)) continue;
    const x = data[i]!;
    for (let k = 0; k < K; k++) {
      const r = w * probabilities[i * K + k]!;
      n[k]! += r;
      s1[k]! += r * x;
      s2[k]! += r * x * x;
    }
  }
  const means = Array.from(n, (nk, k) => (nk > 0 ? s1[k]! / nk : 0));
  const variances = Array.from(n, (nk, k) => (nk > 0 ? Math.max(s2[k]! / nk - means[k]! ** 2, 1) : 1));
  return { means, variances, weights: Array.from(n) };
}
