/**
 * The report's accuracy section: Dice per class per method as grouped bars for every whole
 * volume, mean Dice per method across the PNG slices and across the phantoms, with the tables
 * (Dice, time, memory, paired time ratios) and the notes of every peer that did not run.
 */
import { groupedBarChartSvg } from './bar-chart.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber } from './measure.ts';
import { DIPY_NAME, type SegmentationOutput, type SegmentationResult, SKLEARN_NAME } from './segmentation.ts';
import type { DatasetFamily } from './segmentation-datasets.ts';
import { paletteColour } from './svg-style.ts';
import type { HeadlineRow, ReportChart, ReportSection } from './types.ts';

const CLASSES = ['CSF', 'GM', 'WM'];
/** The default configuration: the one a user gets. */
export const DEFAULT_CONTESTANT = 'mixseg ppf (default)';

/** Colours by method, the same in every chart. */
export function methodColour(contestant: string, index: number): string {
  const fixed: Record<string, number> = {
    'mixseg none': 0,
    [DEFAULT_CONTESTANT]: 4,
    'mixseg mrf': 3,
    'mixseg atlas': 6,
    [SKLEARN_NAME]: 1,
    [DIPY_NAME]: 2,
  };
  return paletteColour(fixed[contestant] ?? 5 + (index % 5));
}

function methodsOf(results: readonly SegmentationResult[]): string[] {
  return [...new Set(results.map((r) => r.contestant))];
}

function resultTable(
  output: SegmentationOutput,
  results: readonly SegmentationResult[],
  withDataset: boolean,
): string {
  const headers = [
    ...(withDataset ? ['data'] : []),
    'method',
    ...CLASSES.map((c) => `Dice ${c}`),
    'mean',
    'segment s',
    'peak MiB',
    'mixseg / sklearn time',
    'mixseg / dipy time',
  ];
  const name = (id: string) => output.datasets.find((d) => d.id === id)?.name ?? id;
  const rows = results.map((r) => [
    ...(withDataset ? [name(r.dataset)] : []),
    r.contestant,
    ...r.dice.map((d) => d.toFixed(3)),
    r.meanDice.toFixed(3),
    formatNumber(r.segmentSeconds),
    formatNumber(r.peakMiB),
    r.timeRatioToSklearn ? formatNumber(r.timeRatioToSklearn.median) : '',
    r.timeRatioToDipy ? formatNumber(r.timeRatioToDipy.median) : '',
  ]);
  const offset = withDataset ? 2 : 1;
  return markdownTable(headers, rows, new Set(headers.map((_, i) => i).filter((i) => i >= offset)));
}

function notesFor(output: SegmentationOutput, datasetIds: readonly string[]): string[] {
  const name = (id: string) => output.datasets.find((d) => d.id === id)?.name ?? id;
  return output.notes
    .filter((n) => datasetIds.includes(n.dataset))
    .map((n) => `- ${datasetIds.length > 1 ? `${name(n.dataset)}, ` : ''}${n.contestant}: ${n.note}`);
}

function volumeChart(output: SegmentationOutput, datasetId: string): ReportChart {
  const dataset = output.datasets.find((d) => d.id === datasetId)!;
  const results = output.results.filter((r) => r.dataset === datasetId);
  const methods = methodsOf(results);
  return {
    file: `segmentation-${datasetId}.svg`,
    svg: groupedBarChartSvg({
      title: `Dice against the reference: ${dataset.name}`,
      yLabel: 'Dice',
      seriesNames: methods,
      colours: methods.map(methodColour),
      yDomain: [0, 1],
      groups: [...CLASSES, 'mean'].map((label, k) => ({
        label,
        values: methods.map((m) => {
          const r = results.find((x) => x.contestant === m);
          return r ? (k < 3 ? r.dice[k] : r.meanDice) : undefined;
        }),
      })),
    }),
  };
}

function familyChart(output: SegmentationOutput, family: DatasetFamily, title: string): ReportChart {
  const datasets = output.datasets.filter((d) => d.family === family);
  const results = output.results.filter((r) => datasets.some((d) => d.id === r.dataset));
  const methods = methodsOf(results);
  return {
    file: `segmentation-${family === 'slice' ? 'slices' : 'phantoms'}.svg`,
    svg: groupedBarChartSvg({
      title,
      yLabel: 'mean Dice (CSF, GM, WM)',
      seriesNames: methods,
      colours: methods.map(methodColour),
      yDomain: [0, 1],
      width: 860,
      groups: datasets.map((d) => ({
        label:
          family === 'phantom' && d.phantom
            ? `${Math.round(d.phantom.noiseLevel * 100)} % / ${Math.round(d.phantom.bias * 100)} %`
            : d.name.replace(', T1 PNG', ''),
        values: methods.map((m) => results.find((r) => r.dataset === d.id && r.contestant === m)?.meanDice),
      })),
    }),
  };
}

function headline(output: SegmentationOutput): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  const meanOf = (results: SegmentationResult[]): string => {
    if (results.length === 0) return 'n/a';
    return (results.reduce((sum, r) => sum + r.meanDice, 0) / results.length).toFixed(3);
  };
  const cell = (ids: string[], contestant: string): string => {
    const found = output.results.filter((r) => ids.includes(r.dataset) && r.contestant === contestant);
    if (found.length === ids.length) return meanOf(found);
    const note = output.notes.find((n) => ids.includes(n.dataset) && n.contestant === contestant)?.note ?? '';
    const reason = note.startsWith('not applicable')
      ? 'n/a (one channel only)'
      : note.startsWith('not run')
        ? 'not run (--dipy)'
        : note.startsWith('failed')
          ? 'failed'
          : 'skipped';
    if (found.length === 0) return reason;
    return `${meanOf(found)} (${found.length} of ${ids.length}; ${reason} on the rest)`;
  };
  const add = (measure: string, ids: string[]): void => {
    if (ids.length === 0) return;
    const bestMixseg = [
      ...new Set(output.results.filter((r) => r.tool === 'mixseg').map((r) => r.contestant)),
    ]
      .map((contestant) => ({
        contestant,
        score: output.results.filter((r) => ids.includes(r.dataset) && r.contestant === contestant),
      }))
      .filter((x) => x.score.length === ids.length)
      .map((x) => ({
        contestant: x.contestant,
        mean: x.score.reduce((s, r) => s + r.meanDice, 0) / ids.length,
      }))
      .sort((a, b) => b.mean - a.mean)[0];
    const mine = cell(ids, DEFAULT_CONTESTANT);
    rows.push({
      measure,
      mixseg:
        bestMixseg && bestMixseg.contestant !== DEFAULT_CONTESTANT
          ? `${mine} (${bestMixseg.contestant.replace('mixseg ', '')}: ${bestMixseg.mean.toFixed(3)})`
          : mine,
      sklearn: cell(ids, SKLEARN_NAME),
      dipy: cell(ids, DIPY_NAME),
      ratio: '',
    });
  };
  for (const id of ['sri24-t1', 'sri24-t1-t2-pd', 'mni152-2mm', 'mni152-1mm', 'nii2mesh']) {
    const dataset = output.datasets.find((d) => d.id === id);
    if (dataset) add(`Mean Dice, ${dataset.name}`, [id]);
  }
  const phantoms = output.datasets.filter((d) => d.family === 'phantom').map((d) => d.id);
  add(`Mean Dice, ${phantoms.length} phantoms (noise 3-9 %, bias 0-40 %)`, phantoms);
  return rows;
}

function runsText(output: SegmentationOutput): string {
  const counts = [...new Set(output.datasets.map((d) => d.repetitions))].sort((a, b) => a - b);
  if (counts.length === 1 && counts[0] === 1) return 'single runs';
  return `medians of ${counts.join(' or ')} runs (dipy: one run)`;
}

/** The segmentation section, or a note that it was not run. */
export function segmentationSection(output: SegmentationOutput | undefined, source: string): ReportSection {
  const heading = '## Segmentation accuracy against references';
  if (!output) {
    return {
      markdown: `${heading}\n\nNot run: \`${source}\` is missing (\`pnpm bench segmentation\` writes it).\n`,
      charts: [],
      headline: [],
    };
  }
  const charts: ReportChart[] = [];
  const lines = [
    heading,
    '',
    'Dice per class inside the reference mask (reference > 0), every contestant on exactly the same voxels. ' +
      `mixseg's default is the ppf prior; scikit-learn is the plain mixture (full covariance, k-means start); dipy is ` +
      `TissueClassifierHMRF (beta 0.1). Times are segment seconds (fit and labels, files excluded), ${runsText(output)}; ` +
      `ratios mixseg / peer are paired ` +
      `within a repetition. Run took ${formatNumber(output.totalSeconds / 60, 2)} min.`,
    '',
  ];
  if (!output.peers.sklearn.available)
    lines.push(`**scikit-learn skipped:** ${output.peers.sklearn.note}`, '');
  if (!output.peers.dipy.available) lines.push(`**dipy skipped:** ${output.peers.dipy.note}`, '');
  for (const skipped of output.skippedDatasets) lines.push(`- ${skipped.name}: not run (${skipped.reason})`);
  if (output.skippedDatasets.length > 0) lines.push('');
  const volumes = output.datasets.filter((d) => d.family === 'volume');
  for (const dataset of volumes) {
    const results = output.results.filter((r) => r.dataset === dataset.id);
    lines.push(
      `### ${dataset.name}`,
      '',
      `${dataset.dims.join(' x ')} voxels of ${dataset.spacing.map((s) => formatNumber(s, 3)).join(' x ')} mm, ` +
        `${dataset.channels.length} channel(s); reference: ${dataset.referenceKind}.`,
      '',
    );
    if (results.length > 0) {
      const chart = volumeChart(output, dataset.id);
      charts.push(chart);
      lines.push(`![Dice, ${dataset.name}](${chart.file})`, '', resultTable(output, results, false), '');
    }
    const notes = notesFor(output, [dataset.id]);
    if (notes.length > 0) lines.push(...notes, '');
  }
  for (const [family, title, text] of [
    [
      'slice',
      '2-D slices (PNG)',
      'Axial slices of SRI24 and MNI152 2 mm as 16-bit PNG, against their label PNGs.',
    ],
    [
      'phantom',
      'Synthetic phantoms',
      'generatePhantom (96 x 96 x 72, 1.5 mm, partial-volume voxels, Gaussian noise as a fraction of the WM ' +
        'intensity, multiplicative bias field of the given amplitude), against its ground truth. Groups: noise / bias.',
    ],
  ] as const) {
    const datasets = output.datasets.filter((d) => d.family === family);
    if (datasets.length === 0) continue;
    const results = output.results.filter((r) => datasets.some((d) => d.id === r.dataset));
    lines.push(`### ${title}`, '', text, '');
    if (results.length > 0) {
      const chart = familyChart(output, family, `Mean Dice: ${title.toLowerCase()}`);
      charts.push(chart);
      lines.push(`![Mean Dice, ${title}](${chart.file})`, '', resultTable(output, results, true), '');
    }
    const notes = notesFor(
      output,
      datasets.map((d) => d.id),
    );
    if (notes.length > 0) lines.push(...notes, '');
  }
  lines.push(
    'Notes:',
    '',
    ...Object.entries(output.methodology).map(([key, text]) => `- ${key}: ${text}`),
    '',
  );
  return { markdown: lines.join('\n'), charts, headline: headline(output) };
}
