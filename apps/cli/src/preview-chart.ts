/**
 * The preview's two plots, as SVG in the picture's pixel coordinates: the intensity histogram of
 * the labelled voxels with the fitted model (each class's curve and their sum, on the bars' scale),
 * and the convergence curve (mean log-likelihood per voxel at each EM iteration, the mixture stage
 * on the left axis and the spatial stage on the right one, as the prior changes the likelihood's
 * level). Both have ticked, labelled axes; every text is returned as a {@link TextItem} so the
 * caller can check that it fits.
 */
import { subComponents } from '@mixseg/core';
import type { Segmentation, Volume } from '@mixseg/imaging/node';
import { type TextItem, textSvg, textWidth, wrapText } from './preview-text.ts';
import { labelledValues, percentileWindow } from './preview-values.ts';

/** A rectangle of the picture, in pixels. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** SVG markup plus the text items in it. */
export interface Drawing {
  svg: string[];
  texts: TextItem[];
}

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high], about `count` of them. */
export function niceTicks(low: number, high: number, count: number): { ticks: number[]; step: number } {
  if (!(high > low)) return { ticks: [low], step: 1 };
  const rough = (high - low) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map((m) => m * magnitude);
  // the first step of the 1-2-5 series at least as wide as asked, narrowed until two ticks show
  let s = steps.findIndex((step) => step >= rough * (1 - 1e-9));
  for (;;) {
    const step = steps[s]!;
    const ticks: number[] = [];
    for (let i = Math.ceil(low / step - 1e-9); i * step <= high + step * 1e-9; i++)
      ticks.push(Number((i * step).toPrecision(12)) + 0); // + 0: no -0
    if (ticks.length >= 2 || s === 0) return { ticks, step };
    s--;
  }
}

/** A tick label: as many decimals as the step needs; thousands as k, millions as M. */
export function formatTick(value: number, step: number): string {
  const decimals = (divided: number) => Math.max(0, -Math.floor(Math.log10(divided) + 1e-9));
  if (Math.abs(value) >= 1e6 && step >= 1e5) return `${(value / 1e6).toFixed(decimals(step / 1e6))}M`;
  if (Math.abs(value) >= 1e4 && step >= 1e3) return `${(value / 1e3).toFixed(decimals(step / 1e3))}k`;
  const text = value.toFixed(decimals(step));
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

const TICK_SIZE = 10;
const AXIS = '#444444';

function polyline(points: readonly (readonly [number, number])[], colour: string, extra = ''): string {
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="1.5"${extra ? ` ${extra}` : ''}/>`;
}

/** A title in bold and a wrapped subtitle; returns the y below them. */
function heading(
  drawing: Drawing,
  area: Rect,
  title: string,
  subtitle: string[],
  colours: string[] = [],
): number {
  let y = area.top + 14;
  drawing.texts.push({ text: title, x: area.left, y, size: 13, bold: true });
  y += 3;
  subtitle.forEach((part, i) => {
    for (const line of wrapText(part, 11, area.width)) {
      y += 13;
      drawing.texts.push({ text: line, x: area.left, y, size: 11, fill: colours[i] ?? '#333333' });
    }
  });
  return y + 8;
}

/** Axis lines, ticks and tick labels of a plot area; returns the x of each tick. */
function axes(
  drawing: Drawing,
  plot: Rect,
  x: { ticks: number[]; step: number; at: (value: number) => number; label: string },
  yAxes: {
    ticks: number[];
    step: number;
    at: (value: number) => number;
    colour: string;
    side: 'left' | 'right';
  }[],
): void {
  const bottom = plot.top + plot.height;
  drawing.svg.push(
    `<path d="M${plot.left} ${plot.top}V${bottom}H${plot.left + plot.width}" fill="none" stroke="${AXIS}"/>`,
  );
  for (const value of x.ticks) {
    const px = x.at(value);
    drawing.svg.push(`<path d="M${px.toFixed(1)} ${bottom}v4" stroke="${AXIS}"/>`);
    drawing.texts.push({
      text: formatTick(value, x.step),
      x: px,
      y: bottom + 15,
      size: TICK_SIZE,
      anchor: 'middle',
    });
  }
  drawing.texts.push({
    text: x.label,
    x: plot.left + plot.width / 2,
    y: bottom + 29,
    size: 11,
    anchor: 'middle',
  });
  for (const axis of yAxes) {
    const edge = axis.side === 'left' ? plot.left : plot.left + plot.width;
    if (axis.side === 'right')
      drawing.svg.push(`<path d="M${edge} ${plot.top}V${bottom}" stroke="${axis.colour}"/>`);
    for (const value of axis.ticks) {
      const py = axis.at(value);
      drawing.svg.push(
        `<path d="M${edge} ${py.toFixed(1)}h${axis.side === 'left' ? -4 : 4}" stroke="${axis.colour}"/>`,
      );
      drawing.texts.push({
        text: formatTick(value, axis.step),
        x: axis.side === 'left' ? edge - 6 : edge + 6,
        y: py + 3.5,
        size: TICK_SIZE,
        anchor: axis.side === 'left' ? 'end' : 'start',
        fill: axis.colour,
      });
    }
  }
}

/** Width the tick labels of an axis need. */
function labelsWidth(ticks: number[], step: number): number {
  return Math.max(0, ...ticks.map((value) => textWidth(formatTick(value, step), TICK_SIZE)));
}

/** The plotted curves of the model, one per class (or none, when it is not in the image's units). */
function modelCurves(result: Segmentation, xs: number[], scale: number): number[][] {
  if (result.options.preparation !== 'none') return [];
  // a partial-volume model: each class's curve holds its pure Gaussian and the mixed steps in
  // which it is the majority (the voxels it labels), so the curves cover the bars between peaks
  const gaussians = result.partialVolume
    ? subComponents(result.partialVolume).map((s) => ({
        k: s.majority,
        mean: s.mean,
        variance: s.variance,
        weight: s.weight,
      }))
    : result.model.means.map((mean, k) => ({
        k,
        mean: mean[0]!,
        variance: result.model.covariances[k]![0]![0]!,
        weight: result.model.weights[k]!,
      }));
  const curves = Array.from({ length: result.model.nComponents }, () => xs.map(() => 0));
  for (const { k, mean, variance, weight } of gaussians) {
    if (!(variance > 0)) continue;
    const norm = (scale * weight) / Math.sqrt(2 * Math.PI * variance);
    xs.forEach((x, i) => {
      curves[k]![i]! += norm * Math.exp((-0.5 * (x - mean) ** 2) / variance);
    });
  }
  return curves;
}

/** The histogram of the first channel in the labels, bias-corrected when a field was estimated. */
export function histogramChart(
  area: Rect,
  image: Volume,
  result: Segmentation,
  colours: readonly string[],
): Drawing {
  const drawing: Drawing = { svg: [], texts: [] };
  const field = result.biasFields?.[0];
  const values = labelledValues(image.data, result.labels, field);
  const [low, high] = percentileWindow(values);
  const from = low - 0.1 * (high - low);
  const span = 1.2 * (high - low);
  const nBins = 80;
  const counts = new Float64Array(nBins);
  const total = values.length;
  for (const value of values) {
    const bin = Math.floor(((value - from) / span) * nBins);
    if (bin >= 0 && bin < nBins) counts[bin]!++;
  }
  const xs = Array.from({ length: 161 }, (_, i) => from + (i / 160) * span);
  // densities times the voxel count times the bin width: the bars' scale
  const curves = modelCurves(result, xs, (total * span) / nBins);
  const sum = xs.map((_, i) => curves.reduce((s, curve) => s + curve[i]!, 0));
  const peak = Math.max(1, ...counts, ...sum);
  const what = field ? 'bias-corrected intensities' : 'intensities';
  const subtitle =
    curves.length > 0
      ? `${what} of the labelled voxels; curves: the fitted classes, dashed: their sum`
      : `${what} of the labelled voxels (the model is in prepared units: not drawn)`;
  const plotTop = heading(drawing, area, 'Intensity histogram', [subtitle]);
  const yTicks = niceTicks(0, peak, 4);
  const left = area.left + labelsWidth(yTicks.ticks, yTicks.step) + 8;
  const plot: Rect = {
    left,
    top: plotTop + 14,
    width: area.left + area.width - left - 8,
    height: area.top + area.height - 36 - (plotTop + 14),
  };
  const px = (x: number) => plot.left + ((x - from) / span) * plot.width;
  const py = (y: number) => plot.top + plot.height - (y / peak) * plot.height;
  const barWidth = plot.width / nBins;
  counts.forEach((count, bin) => {
    if (count === 0) return;
    const top = py(count);
    drawing.svg.push(
      `<rect x="${(plot.left + bin * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(2)}" height="${(plot.top + plot.height - top).toFixed(1)}" fill="#bbbbbb"/>`,
    );
  });
  curves.forEach((curve, k) => {
    drawing.svg.push(
      polyline(
        xs.map((x, i) => [px(x), py(curve[i]!)]),
        colours[k] ?? '#000000',
      ),
    );
  });
  if (curves.length > 0)
    drawing.svg.push(
      polyline(
        xs.map((x, i) => [px(x), py(sum[i]!)]),
        '#000000',
        'stroke-dasharray="4 3"',
      ),
    );
  axes(
    drawing,
    plot,
    { ...niceTicks(from, from + span, 5), at: px, label: field ? 'intensity (bias-corrected)' : 'intensity' },
    [{ ...yTicks, at: py, colour: AXIS, side: 'left' }],
  );
  drawing.texts.push({ text: 'voxels', x: area.left, y: plot.top - 4, size: TICK_SIZE, fill: AXIS });
  return drawing;
}

const STAGE_COLOURS = { mixture: '#4477aa', spatial: '#cc3344' } as const;

/** Mean log-likelihood per voxel at each iteration, both stages, with the convergence status. */
export function convergenceChart(area: Rect, result: Segmentation): Drawing {
  const drawing: Drawing = { svg: [], texts: [] };
  const stages = [
    { name: 'mixture', trace: result.mixture.logLikelihoodTrace, colour: STAGE_COLOURS.mixture },
    { name: 'spatial prior', trace: result.spatial?.logLikelihoodTrace ?? [], colour: STAGE_COLOURS.spatial },
  ].filter((stage) => stage.trace.some(Number.isFinite));
  const final = result.spatial ?? result.mixture;
  const iterations = result.mixture.nIter + (result.spatial?.nIter ?? 0);
  const status = final.converged
    ? `${iterations} iterations, converged`
    : `${iterations} iterations, NOT converged (${final.stopReason})`;
  const sides = ['left axis', 'right axis'];
  const plotTop = heading(
    drawing,
    area,
    'Convergence: mean log-likelihood per voxel',
    [
      status,
      ...stages.map(
        (stage, s) =>
          `${stages.length > 1 ? '— ' : ''}${stage.name}${stages.length > 1 ? ` (${sides[s]})` : ''}`,
      ),
    ],
    [final.converged ? '#333333' : '#cc0000', ...stages.map((stage) => stage.colour)],
  );
  const total = stages.reduce((n, stage) => n + stage.trace.length, 0);
  const scales = stages.map((stage) => {
    const finite = stage.trace.filter(Number.isFinite);
    const lowest = Math.min(...finite);
    const highest = Math.max(...finite);
    const pad = highest > lowest ? 0.05 * (highest - lowest) : Math.max(1e-3, Math.abs(lowest) * 1e-3);
    const { ticks, step } = niceTicks(lowest - pad, highest + pad, 4);
    return { lowest: lowest - pad, highest: highest + pad, ticks, step };
  });
  const leftWidth = scales[0] ? labelsWidth(scales[0].ticks, scales[0].step) + 8 : 8;
  const rightWidth = scales[1] ? labelsWidth(scales[1].ticks, scales[1].step) + 8 : 12;
  const plot: Rect = {
    left: area.left + leftWidth,
    top: plotTop + 6,
    width: area.width - leftWidth - rightWidth,
    height: area.top + area.height - 36 - (plotTop + 6),
  };
  // iteration i (1-based, both stages one after the other) at its place on the x axis
  const px = (i: number) => plot.left + (total > 1 ? ((i - 1) / (total - 1)) * plot.width : plot.width / 2);
  const yAxes: Parameters<typeof axes>[3] = [];
  let offset = 0;
  stages.forEach((stage, s) => {
    const scale = scales[s]!;
    const py = (y: number) =>
      plot.top + plot.height - ((y - scale.lowest) / (scale.highest - scale.lowest)) * plot.height;
    const points = stage.trace.flatMap((y, i) =>
      Number.isFinite(y) ? [[px(offset + i + 1), py(y)] as const] : [],
    );
    drawing.svg.push(polyline(points, stage.colour));
    // a single value (a saved model applied: no EM) is a dot, not an invisible line
    if (points.length === 1)
      drawing.svg.push(
        `<circle cx="${points[0]![0].toFixed(1)}" cy="${points[0]![1].toFixed(1)}" r="3" fill="${stage.colour}"/>`,
      );
    if (s > 0) {
      const x = px(offset + 0.5).toFixed(1);
      drawing.svg.push(
        `<path d="M${x} ${plot.top}V${plot.top + plot.height}" stroke="#999999" stroke-dasharray="3 3"/>`,
      );
    }
    yAxes.push({
      ticks: scale.ticks,
      step: scale.step,
      at: py,
      colour: stage.colour,
      side: s === 0 ? 'left' : 'right',
    });
    offset += stage.trace.length;
  });
  const xTicks = niceTicks(1, Math.max(1, total), 5);
  axes(
    drawing,
    plot,
    {
      ticks: xTicks.ticks.filter((t) => Number.isInteger(t)),
      step: Math.max(1, xTicks.step),
      at: px,
      label: 'iteration',
    },
    yAxes,
  );
  return drawing;
}

/** The drawing's SVG with its texts. */
export function drawingSvg(drawing: Drawing): string {
  return [...drawing.svg, ...drawing.texts.map(textSvg)].join('');
}
