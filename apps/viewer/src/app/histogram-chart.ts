/**
 * Draws the charts below the view on 2-D canvases: the intensity histogram (bars) with the fitted
 * classes (in their label colours) and their sum (dashed white) over it, on axes with ticks
 * (x: intensity in the units the bars are in, y: voxels per bin); and the mean log-likelihood per
 * EM iteration. The numbers come from histogram.ts.
 */
import { type Histogram, histogramMisfit, mixtureCurves, type Rgb } from './histogram.ts';
import type { HistogramUnits } from './intensity-units.ts';
import type { Model } from './types.ts';

const AXIS = '#8a93a6';
const TEXT = '#c9d1e0';
const WARNING = '#ffb86b';
const BARS = '#46506a';
const FONT = '11px system-ui, sans-serif';

/**
 * About `maxCount` round tick values (1, 2 or 5 times a power of ten apart) covering [low, high],
 * each inside the range.
 */
export function niceTicks(low: number, high: number, maxCount = 6): number[] {
  if (!(high > low) || !Number.isFinite(low) || !Number.isFinite(high))
    return Number.isFinite(low) ? [low] : [];
  const rough = (high - low) / Math.max(1, maxCount - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Math.abs(value) < step * 1e-9 ? 0 : Number(value.toPrecision(12)));
  }
  return ticks;
}

/** A tick label: 1500 -> "1.5k", 2000000 -> "2M", 0.25 -> "0.25". */
export function tickLabel(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (magnitude >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(4)));
}

/** Sizes a canvas's backing store to its CSS size and the device pixel ratio; returns its context and size. */
function prepareCanvas(canvas: HTMLCanvasElement): {
  context: CanvasRenderingContext2D;
  width: number;
  height: number;
} {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(50, canvas.clientWidth);
  const height = Math.max(50, canvas.clientHeight);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  return { context, width, height };
}

/** What {@link drawHistogram} draws. */
export interface HistogramChart {
  histogram: Histogram | undefined;
  model: Model | undefined;
  /** Class k's colour. */
  colours: Rgb[];
  units: HistogramUnits;
  /** Why no curves are drawn, when a model was expected. */
  modelNote: string;
}

/** Draws the histogram chart. */
export function drawHistogram(canvas: HTMLCanvasElement, chart: HistogramChart): void {
  const { context, width, height } = prepareCanvas(canvas);
  const { histogram, model, colours, units } = chart;
  const note = units.note || chart.modelNote;
  const voxels = histogram && histogram.total > 0 ? ` · ${histogram.total.toLocaleString('en')} voxels` : '';
  const curveLegend = model && histogram ? ' · fitted classes, their sum dashed' : '';
  context.fillStyle = TEXT;
  context.fillText(`Intensity histogram of the labelled voxels${voxels}${curveLegend}`, 8, 12);
  if (note) {
    context.fillStyle = units.warning ? WARNING : AXIS;
    context.fillText(note, 8, 25, width - 16);
  }
  const label = `Intensity histogram; x axis: ${units.axis}; y axis: voxels per bin${note ? `. ${note}` : ''}`;
  canvas.setAttribute('aria-label', label);
  delete canvas.dataset['misfit'];
  if (!histogram || histogram.total === 0) {
    context.fillStyle = AXIS;
    context.fillText(note ? '' : 'Open an image to see its histogram.', 8, 40);
    return;
  }
  const left = 46;
  const right = width - 10;
  const top = note ? 34 : 22;
  const bottom = height - 30;
  const curves = model ? mixtureCurves(model, histogram) : undefined;
  if (curves) {
    // how far the model is from the bars, for screen readers and scripts (see histogramMisfit)
    const misfit = histogramMisfit(histogram, curves);
    canvas.dataset['misfit'] = misfit.toFixed(4);
    canvas.setAttribute(
      'aria-label',
      `${label}. The fitted classes place ${(100 * misfit).toFixed(1)} % of the voxels in other bins than the bars.`,
    );
  }
  let peak = 0;
  for (const count of histogram.counts) peak = Math.max(peak, count);
  if (curves) for (const value of curves.sum) peak = Math.max(peak, value);
  const yMax = peak * 1.05 || 1;
  const nBins = histogram.counts.length;
  const xEnd = histogram.start + histogram.binWidth * nBins;
  const xOf = (value: number) =>
    left + ((value - histogram.start) / (xEnd - histogram.start)) * (right - left);
  const yOf = (count: number) => bottom - (count / yMax) * (bottom - top);

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
    // the sum first, dashed, so that each class stays visible where it alone makes the sum
    context.setLineDash([5, 3]);
    line(curves.sum, '#ffffff', 1.5);
    context.setLineDash([]);
    curves.components.forEach((curve, k) => {
      const [r, g, b] = colours[k] ?? [200, 200, 200];
      line(curve, `rgb(${r}, ${g}, ${b})`, 2);
    });
  }
  drawAxes(
    context,
    { left, right, top, bottom, height },
    [histogram.start, xEnd],
    yMax,
    units.axis,
    xOf,
    yOf,
  );
}

interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
  height: number;
}

function drawAxes(
  context: CanvasRenderingContext2D,
  area: PlotArea,
  [xLow, xHigh]: [number, number],
  yMax: number,
  xTitle: string,
  xOf: (value: number) => number,
  yOf: (count: number) => number,
): void {
  const { left, right, top, bottom, height } = area;
  context.strokeStyle = AXIS;
  context.fillStyle = AXIS;
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(left - 0.5, top);
  context.lineTo(left - 0.5, bottom + 0.5);
  context.lineTo(right, bottom + 0.5);
  context.stroke();
  context.textAlign = 'center';
  for (const tick of niceTicks(xLow, xHigh, Math.max(3, Math.floor((right - left) / 70)))) {
    const x = Math.round(xOf(tick)) + 0.5;
    context.beginPath();
    context.moveTo(x, bottom + 0.5);
    context.lineTo(x, bottom + 4.5);
    context.stroke();
    context.fillText(tickLabel(tick), x, bottom + 15);
  }
  context.fillText(xTitle, (left + right) / 2, height - 3);
  context.textAlign = 'right';
  for (const tick of niceTicks(0, yMax, Math.max(2, Math.floor((bottom - top) / 28)))) {
    const y = Math.round(yOf(tick)) + 0.5;
    context.beginPath();
    context.moveTo(left - 4.5, y);
    context.lineTo(left - 0.5, y);
    context.stroke();
    context.fillText(tickLabel(tick), left - 6, y + 3.5);
  }
  context.save();
  context.translate(9, (top + bottom) / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = 'center';
  context.fillText('voxels per bin', 0, 0);
  context.restore();
  context.textAlign = 'left';
}

function niceNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude === 0) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toPrecision(3);
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
  const { context, width, height } = prepareCanvas(canvas);
  const left = 8;
  const right = width - 8;
  const top = 18;
  const bottom = height - 18;
  context.fillStyle = TEXT;
  context.fillText('Mean log-likelihood per iteration', left, 12);
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
