/**
 * The histogram panel: the intensity histogram of the masked voxels with each fitted Gaussian
 * component and their sum drawn over it, and the mean log-likelihood per EM iteration. Computing
 * is pure (testable in Node); drawing takes a 2-D canvas context.
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

const AXIS = '#8a93a6';
const TEXT = '#c9d1e0';
const BARS = '#46506a';

/**
 * Sizes a canvas's backing store to its CSS size and the device pixel ratio and draws the chart's
 * title; returns the context, the CSS size and the plot area.
 */
export function prepareCanvas(
  canvas: HTMLCanvasElement,
  title: string,
): {
  context: CanvasRenderingContext2D;
  width: number;
  height: number;
  /** The plot area, inside margins for the title above and the axis labels below. */
  left: number;
  right: number;
  top: number;
  bottom: number;
} {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(50, canvas.clientWidth);
  const height = Math.max(50, canvas.clientHeight);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = '11px system-ui, sans-serif';
  const left = 8;
  context.fillStyle = TEXT;
  context.fillText(title, left, 12);
  return { context, width, height, left, right: width - 8, top: 18, bottom: height - 18 };
}

function niceNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude === 0) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

/**
 * Draws the histogram as bars with the components (in their label colours) and their sum (white)
 * over it. `colours[k]` is component k's colour.
 */
export function drawHistogram(
  canvas: HTMLCanvasElement,
  histogram: Histogram | undefined,
  model: GaussianMixture | PartialVolumeMixture | undefined,
  colours: Rgb[],
  note: string,
): void {
  const { context, height, left, right, top, bottom } = prepareCanvas(
    canvas,
    'Intensity histogram of the masked voxels',
  );
  if (!histogram || histogram.total === 0) {
    context.fillStyle = AXIS;
    context.fillText(note || 'Open an image to see its histogram.', left, top + 20);
    return;
  }
  const curves = model ? mixtureCurves(model, histogram) : undefined;
  let peak = 0;
  for (const count of histogram.counts) peak = Math.max(peak, count);
  if (curves) for (const value of curves.sum) peak = Math.max(peak, value);
  const nBins = histogram.counts.length;
  const xOf = (value: number) =>
    left + ((value - histogram.start) / (histogram.binWidth * nBins)) * (right - left);
  const yOf = (count: number) => bottom - (count / (peak * 1.05)) * (bottom - top);
  context.fillStyle = BARS;
  for (let b = 0; b < nBins; b++) {
    const x0 = xOf(histogram.start + b * histogram.binWidth);
    const x1 = xOf(histogram.start + (b + 1) * histogram.binWidth);
    const y = yOf(histogram.counts[b]!);
    context.fillRect(x0, y, Math.max(1, x1 - x0 - 0.5), bottom - y);
  }
  if (curves) {
    const line = (values: Float64Array, colour: string, widthPx: number) => {
      context.strokeStyle = colour;
      context.lineWidth = widthPx;
      context.beginPath();
      for (let i = 0; i < values.length; i++) {
        const x = xOf(curves.x[i]!);
        const y = yOf(values[i]!);
        if (i === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      }
      context.stroke();
    };
    // the sum first, dashed, so that each component stays visible where it alone makes the sum
    context.setLineDash([5, 3]);
    line(curves.sum, '#ffffff', 1.5);
    context.setLineDash([]);
    curves.components.forEach((curve, k) => {
      const [r, g, b] = colours[k] ?? [200, 200, 200];
      line(curve, `rgb(${r}, ${g}, ${b})`, 2);
    });
  }
  context.strokeStyle = AXIS;
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(left, bottom + 0.5);
  context.lineTo(right, bottom + 0.5);
  context.stroke();
  context.fillStyle = AXIS;
  context.fillText(niceNumber(histogram.start), left, height - 4);
  const endLabel = niceNumber(histogram.start + histogram.binWidth * nBins);
  context.fillText(endLabel, right - context.measureText(endLabel).width, height - 4);
  const summary = `${histogram.total.toLocaleString('en')} voxels${curves ? ' · fitted components and their sum (dashed)' : ''}`;
  context.fillText(note || summary, left + 60, height - 4);
}

/**
 * Draws the mean log-likelihood per iteration: the plain mixture (blue), then the spatial stage
 * (orange). Each stage has its own vertical scale: with a spatial prior the likelihood is a
 * different quantity, usually on another level, and one shared scale would flatten both.
 */
export function drawTrace(
  canvas: HTMLCanvasElement,
  mixture: readonly number[],
  spatial: readonly number[],
): void {
  const { context, height, left, right, top, bottom } = prepareCanvas(
    canvas,
    'Mean log-likelihood per iteration',
  );
  const stages = [
    { values: mixture.filter(Number.isFinite), colour: '#7fb3ff', name: 'mixture' },
    { values: spatial.filter(Number.isFinite), colour: '#ffb86b', name: 'spatial' },
  ];
  const n = stages[0]!.values.length + stages[1]!.values.length;
  if (n === 0) {
    context.fillStyle = AXIS;
    context.fillText('No trace: load a sidecar (S_dseg.json) or run a segmentation.', left, top + 20);
    return;
  }
  const xOf = (i: number) => left + (n > 1 ? (i / (n - 1)) * (right - left) : (right - left) / 2);
  let offset = 0;
  const legend: string[] = [];
  for (const { values, colour, name } of stages) {
    if (values.length === 0) continue;
    const low = Math.min(...values);
    const high = Math.max(...values);
    const span = high > low ? high - low : 1;
    const yOf = (value: number) => bottom - 4 - ((value - low) / span) * (bottom - top - 8);
    context.strokeStyle = colour;
    context.fillStyle = colour;
    context.lineWidth = 2;
    context.beginPath();
    values.forEach((value, i) => {
      if (i === 0) context.moveTo(xOf(offset + i), yOf(value));
      else context.lineTo(xOf(offset + i), yOf(value));
    });
    context.stroke();
    for (let i = 0; i < values.length; i++)
      context.fillRect(xOf(offset + i) - 1.5, yOf(values[i]!) - 1.5, 3, 3);
    if (offset > 0) {
      context.strokeStyle = AXIS;
      context.lineWidth = 1;
      context.setLineDash([3, 3]);
      context.beginPath();
      const x = (xOf(offset - 1) + xOf(offset)) / 2;
      context.moveTo(x, top);
      context.lineTo(x, bottom);
      context.stroke();
      context.setLineDash([]);
    }
    legend.push(
      `${name}: ${values.length} it, ${niceNumber(values[0]!)} → ${niceNumber(values[values.length - 1]!)}`,
    );
    offset += values.length;
  }
  context.fillStyle = AXIS;
  context.fillText(legend.join(' · '), left, height - 4);
}
