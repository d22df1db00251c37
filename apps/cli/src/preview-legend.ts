/**
 * The preview's middle band: the legend (each class's colour, name and volume, the warnings of the
 * run) and, when a bias field was estimated, its central slices in a colour scale with a ticked bar.
 */
import type { Segmentation } from '@mixseg/imaging/node';
import type { ClassEntry } from './outputs.ts';
import { type Drawing, formatTick, niceTicks, type Rect } from './preview-chart.ts';
import type { AnatomicalFrame } from './preview-frame.ts';
import { type Box, type Canvas, paintCentralSlices } from './preview-montage.ts';
import { textWidth, wrapText } from './preview-text.ts';
import { labelledValues, percentileWindow } from './preview-values.ts';

const LINE = 15;
/** Warnings listed at most; the rest are counted. */
const MAX_WARNINGS = 3;

/**
 * The legend: one row per class (swatch, abbreviation, name, volume in mL and share of the labelled
 * volume, and the partial-volume estimate when there is one), the total, what the outlines mean and
 * the run's warnings. Returns the drawing and its height.
 */
export function legend(
  area: Rect,
  result: Segmentation,
  classes: readonly ClassEntry[],
): Drawing & { height: number } {
  const drawing: Drawing = { svg: [], texts: [] };
  let y = area.top + 14;
  drawing.texts.push({ text: 'Classes', x: area.left, y, size: 13, bold: true });
  const totalMl = result.statistics.reduce((sum, s) => sum + s.volumeMl, 0);
  const withPartial = result.fractions !== undefined;
  const volume = (ml: number) => `${ml.toFixed(1)} mL`;
  const rows = classes.map((c, k) => {
    const statistics = result.statistics[k];
    const ml = statistics?.volumeMl ?? 0;
    return {
      entry: c,
      volume: volume(ml),
      share: `${totalMl > 0 ? ((100 * ml) / totalMl).toFixed(1) : '0.0'} %`,
      partial:
        withPartial && statistics?.partialVolumeMl != null ? `PV ${volume(statistics.partialVolumeMl)}` : '',
    };
  });
  const size = 11;
  const widest = (texts: string[]) => Math.max(0, ...texts.map((text) => textWidth(text, size)));
  const abbreviationWidth = widest(rows.map((row) => row.entry.abbreviation));
  const volumeWidth = widest([...rows.map((row) => row.volume), volume(totalMl)]);
  const shareWidth = widest(rows.map((row) => row.share));
  const partialWidth = widest(rows.map((row) => row.partial));
  const right = area.left + area.width;
  const partialRight = right;
  const shareRight = partialRight - (partialWidth > 0 ? partialWidth + 10 : 0);
  const volumeRight = shareRight - shareWidth - 10;
  const nameLeft = area.left + 18 + abbreviationWidth + 8;
  const nameWidth = Math.max(40, volumeRight - volumeWidth - 10 - nameLeft);
  y += 6;
  for (const row of rows) {
    const lines = wrapText(row.entry.name, size, nameWidth);
    y += LINE;
    drawing.svg.push(
      `<rect x="${area.left}" y="${y - 10}" width="12" height="12" fill="${row.entry.color}" stroke="#000000" stroke-width="0.5"/>`,
    );
    drawing.texts.push(
      { text: row.entry.abbreviation, x: area.left + 18, y, size, bold: true },
      { text: row.volume, x: volumeRight, y, size, anchor: 'end' },
      { text: row.share, x: shareRight, y, size, anchor: 'end', fill: '#555555' },
    );
    if (row.partial)
      drawing.texts.push({ text: row.partial, x: partialRight, y, size, anchor: 'end', fill: '#555555' });
    lines.forEach((line, i) => {
      drawing.texts.push({ text: line, x: nameLeft, y: y + i * LINE, size });
    });
    y += (lines.length - 1) * LINE;
  }
  y += LINE;
  drawing.texts.push(
    { text: 'labelled', x: area.left + 18, y, size, bold: true },
    { text: volume(totalMl), x: volumeRight, y, size, anchor: 'end' },
  );
  drawing.svg.push(`<path d="M${area.left} ${y - 12.5}H${right}" stroke="#999999" stroke-width="0.5"/>`);
  const notes = [
    'Lines: each class outlined in its colour where it meets a class listed above it or the unlabelled background.',
  ];
  const warnings = [
    ...new Set([...result.warnings, ...result.mixture.warnings, ...(result.spatial?.warnings ?? [])]),
  ];
  y += 4;
  for (const note of notes) {
    for (const line of wrapText(note, 11, area.width)) {
      y += 13;
      drawing.texts.push({ text: line, x: area.left, y, size: 11, fill: '#333333' });
    }
  }
  const shown = warnings.slice(0, MAX_WARNINGS);
  if (warnings.length > shown.length)
    shown.push(`and ${warnings.length - shown.length} more (in the sidecar)`);
  for (const warning of shown) {
    for (const line of wrapText(`warning: ${warning}`, 11, area.width)) {
      y += 13;
      drawing.texts.push({ text: line, x: area.left, y, size: 11, fill: '#cc0000' });
    }
  }
  return { ...drawing, height: y + 8 - area.top };
}

/** viridis at five points, interpolated: dark blue (low) to yellow (high), readable in grey too. */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour scale at t in 0..1 (clamped). */
export function viridis(t: number): [number, number, number] {
  const position = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(position));
  const f = position - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/**
 * The bias field of the first channel: its central axial, coronal and sagittal slices inside the
 * labels, in viridis from its 1st to its 99th percentile there, with a ticked colour bar. The
 * slices are painted by `paint`, once the picture's canvas exists.
 */
export function biasPanel(
  area: Rect,
  field: Float32Array,
  labels: Uint8Array,
  frame: AnatomicalFrame,
  labelled: Box,
): Drawing & { height: number; paint: (canvas: Canvas) => void } {
  const drawing: Drawing = { svg: [], texts: [] };
  drawing.texts.push({
    text: 'Bias field (channel 1)',
    x: area.left,
    y: area.top + 14,
    size: 13,
    bold: true,
  });
  // where the field was estimated: labelled and positive
  const inside = (v: number) => labels[v]! > 0 && field[v]! > 0;
  let [low, high] = percentileWindow(labelledValues(field, labels).filter((value) => value > 0));
  if (high - low < 0.01) {
    const middle = (low + high) / 2;
    [low, high] = [middle - 0.005, middle + 0.005];
  }
  const cellWidth = Math.floor(area.width / 3);
  const paint = (canvas: Canvas) => {
    paintCentralSlices(
      canvas,
      frame,
      labelled,
      { left: area.left, top: area.top + 22, cellWidth, cellHeight: 92 },
      field,
      inside,
      (value) => viridis((value - low) / (high - low)),
    );
  };
  const barTop = area.top + 122;
  const barWidth = area.width - 16;
  const stops = VIRIDIS.map(
    (colour, i) => `<stop offset="${i / (VIRIDIS.length - 1)}" stop-color="rgb(${colour.join(',')})"/>`,
  ).join('');
  drawing.svg.push(
    `<defs><linearGradient id="bias-scale">${stops}</linearGradient></defs>`,
    `<rect x="${area.left + 8}" y="${barTop}" width="${barWidth}" height="9" fill="url(#bias-scale)" stroke="#666666" stroke-width="0.5"/>`,
  );
  const { ticks, step } = niceTicks(low, high, 4);
  for (const tick of ticks) {
    const x = area.left + 8 + ((tick - low) / (high - low)) * barWidth;
    drawing.svg.push(`<path d="M${x.toFixed(1)} ${barTop + 9}v3" stroke="#444444"/>`);
    drawing.texts.push({ text: formatTick(tick, step), x, y: barTop + 23, size: 10, anchor: 'middle' });
  }
  const note = wrapText(
    'multiplicative field (1 = none) in the labels, 1st to 99th percentile; central slices as above',
    10,
    area.width,
  );
  note.forEach((line, i) => {
    drawing.texts.push({ text: line, x: area.left, y: barTop + 37 + i * 12, size: 10, fill: '#333333' });
  });
  return { ...drawing, height: barTop + 37 + (note.length - 1) * 12 + 8 - area.top, paint };
}
