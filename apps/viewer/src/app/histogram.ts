/**
 * The histogram's numbers: the intensity histogram of the masked voxels, and the expected count per
 * bin of each fitted class and of their sum. Pure (testable in Node); histogram-chart.ts draws them.
 *
 * A component k of a one-feature mixture fitted to N voxels expects, in a bin of width w centred
 * at x, N w pi_k N(x; mu_k, sigma_k^2) voxels; with several features the first feature's marginal
 * is drawn (mean mu_k[0], variance Sigma_k[0][0]), which is what the image channel shows.
 */
import { type GaussianMixture, type PartialVolumeMixture, subComponents } from '@mixseg/core';

/** A histogram of the masked voxels. */
export interface Histogram {
  /** Left edge of bin 0 and the width of every bin, in intensity units. */
  start: number;
  binWidth: number;
  counts: Float64Array;
  /** Number of voxels counted. */
  total: number;
}

/**
 * Counts the finite values where `mask` is nonzero (every finite value without a mask) into
 * `nBins` equal bins from the smallest to the largest.
 */
export function computeHistogram(
  values: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  nBins = 128,
): Histogram {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const counted = (v: number) => (mask === undefined || mask[v] !== 0) && Number.isFinite(values[v]!);
  for (let v = 0; v < values.length; v++) {
    if (!counted(v)) continue;
    const value = values[v]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const counts = new Float64Array(nBins);
  if (min > max) return { start: 0, binWidth: 1, counts, total: 0 };
  const binWidth = max > min ? (max - min) / nBins : 1;
  let total = 0;
  for (let v = 0; v < values.length; v++) {
    if (!counted(v)) continue;
    const bin = Math.min(nBins - 1, Math.floor((values[v]! - min) / binWidth));
    counts[bin]!++;
    total++;
  }
  return { start: min, binWidth, counts, total };
}

/**
 * Expected counts per bin of each component (K rows) and of their sum (last row), evaluated at
 * `nPoints` positions across the histogram's range. Returns the positions too.
 */
export function mixtureCurves(
  model: GaussianMixture | PartialVolumeMixture,
  histogram: Histogram,
  nPoints = 256,
): { x: Float64Array; components: Float64Array[]; sum: Float64Array } {
  const end = histogram.start + histogram.binWidth * histogram.counts.length;
  const x = new Float64Array(nPoints);
  for (let i = 0; i < nPoints; i++) x[i] = histogram.start + ((end - histogram.start) * i) / (nPoints - 1);
  const scale = histogram.total * histogram.binWidth;
  const sum = new Float64Array(nPoints);
  // a partial-volume model: each class's curve holds its pure Gaussian and the mixel steps in which
  // it is the majority (the voxels it labels), so the curves also cover the bars between the peaks
  const gaussians =
    'pairs' in model
      ? subComponents(model).map((s) => ({
          component: s.majority,
          mean: s.mean,
          variance: s.variance,
          weight: s.weight,
        }))
      : model.means.map((mean, k) => ({
          component: k,
          mean: mean[0]!,
          variance: model.covariances[k]![0]![0]!,
          weight: model.weights[k]!,
        }));
  const components = Array.from({ length: componentCount(model) }, () => new Float64Array(nPoints));
  for (const { component, mean, variance, weight } of gaussians) {
    const curve = components[component]!;
    const norm = (scale * weight) / Math.sqrt(2 * Math.PI * variance);
    for (let i = 0; i < nPoints; i++) {
      const d = x[i]! - mean;
      const y = norm * Math.exp((-0.5 * d * d) / variance);
      curve[i]! += y;
      sum[i]! += y;
    }
  }
  return { x, components, sum };
}

/** The number of classes (curves) of a model. */
export function componentCount(model: GaussianMixture | PartialVolumeMixture): number {
  return 'pairs' in model ? model.nClasses : model.nComponents;
}

export type Rgb = readonly [number, number, number];

/**
 * How far the model is from the bars: the share of the counted voxels that the model puts in other
 * bins, half the L1 distance between the bars and the model's expected count per bin (the sum
 * curve at each bin's centre), divided by the voxel count: 0 when the model sits on the bars, 1
 * when they do not overlap. It shows at once when bars and curves are in different units (raw bars
 * under a bias-corrected model) and how well a subject's model fits.
 */
export function histogramMisfit(
  histogram: Histogram,
  curves: { x: Float64Array; sum: Float64Array },
): number {
  if (histogram.total === 0) return 0;
  const { x, sum } = curves;
  const last = x.length - 1;
  const step = last > 0 ? (x[last]! - x[0]!) / last : 1;
  let distance = 0;
  let expectedTotal = 0;
  for (let b = 0; b < histogram.counts.length; b++) {
    const centre = histogram.start + (b + 0.5) * histogram.binWidth;
    const position = Math.min(last, Math.max(0, (centre - x[0]!) / step));
    const i = Math.min(last - 1, Math.floor(position));
    const t = position - i;
    const expected = last > 0 ? sum[i]! * (1 - t) + sum[i + 1]! * t : sum[0]!;
    expectedTotal += expected;
    distance += Math.abs(histogram.counts[b]! - expected);
  }
  // the model's mass outside the histogram's range counts as misplaced too
  distance += Math.max(0, histogram.total - expectedTotal);
  return Math.min(1, distance / (2 * histogram.total));
}
