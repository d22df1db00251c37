/**
 * The report's accuracy section. It opens with the cross-dataset table (report-cross-dataset.ts),
 * then the details of every dataset: Dice per class per method as grouped bars and tables (Dice,
 * time, memory, paired time ratios), and the notes of every peer that did not run. Results written
 * before datasets had groups are read too: every dataset is then its own group, the PNG slices one.
 */
import { groupedBarChartSvg } from './bar-chart.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber } from './measure.ts';
import {
  CLASSES,
  isDefaultContestant,
  methodColour,
  missingReason,
  renderCrossDatasetTable,
  segmentationGroups,
  toolOf,
} from './report-cross-dataset.ts';
import type { SegmentationDataset, SegmentationGroup } from './segmentation-datasets.ts';
import type { SegmentationOutput, SegmentationResult } from './segmentation-types.ts';
import type { HeadlineRow, ReportChart, ReportSection } from './types.ts';

function methodsOf(results: readonly SegmentationResult[]): string[] {
  return [...new Set(results.map((r) => r.contestant))];
}

function datasetName(output: SegmentationOutput, id: string): string {
  return output.datasets.find((d) => d.id === id)?.name ?? id;
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
  const rows = results.map((r) => [
    ...(withDataset ? [datasetName(output, r.dataset)] : []),
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

/**
 * The notes of some datasets, one line per contestant and note: with several datasets, naming
 * those it holds for (or saying it holds for every one).
 */
function notesFor(output: SegmentationOutput, datasetIds: readonly string[]): string[] {
  const byNote = new Map<string, { contestant: string; note: string; datasets: string[] }>();
  for (const n of output.notes) {
    if (!datasetIds.includes(n.dataset)) continue;
    const key = `${n.contestant}\n${n.note}`;
    const entry = byNote.get(key) ?? { contestant: n.contestant, note: n.note, datasets: [] };
    entry.datasets.push(n.dataset);
    byNote.set(key, entry);
  }
  return [...byNote.values()].map((entry) => {
    const where =
      datasetIds.length === 1
        ? ''
        : entry.datasets.length === datasetIds.length
          ? ' (every one)'
          : ` (${entry.datasets.map((id) => datasetName(output, id)).join(', ')})`;
    return `- ${entry.contestant}${where}: ${entry.note}`;
  });
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

/** Mean Dice over the given classes. */
function meanOver(dice: readonly number[], classes: readonly number[]): number {
  return classes.reduce((sum, k) => sum + dice[k]!, 0) / classes.length;
}

/** The short label of a dataset among others of its kind (a slice, a subject, a phantom). */
function subjectLabel(output: SegmentationOutput, dataset: SegmentationDataset): string {
  if (dataset.family === 'phantom' && !output.groups && dataset.phantom) {
    return `${Math.round(dataset.phantom.noiseLevel * 100)} % / ${Math.round(dataset.phantom.bias * 100)} %`;
  }
  return dataset.name.replace(', T1 PNG', '').replace(/^phantom, /, '');
}

/** Mean Dice (over the compared classes) per subject and method, as grouped bars. */
function subjectsChart(
  output: SegmentationOutput,
  datasets: readonly SegmentationDataset[],
  scoredClasses: readonly number[],
  file: string,
  title: string,
): ReportChart {
  const results = output.results.filter((r) => datasets.some((d) => d.id === r.dataset));
  const methods = methodsOf(results);
  return {
    file,
    svg: groupedBarChartSvg({
      title,
      yLabel: `mean Dice (${scoredClasses.map((k) => CLASSES[k]).join(', ')})`,
      seriesNames: methods,
      colours: methods.map(methodColour),
      yDomain: [0, 1],
      width: 860,
      groups: datasets.map((d) => ({
        label: subjectLabel(output, d),
        values: methods.map((m) => {
          const r = results.find((x) => x.dataset === d.id && x.contestant === m);
          return r ? meanOver(r.dice, scoredClasses) : undefined;
        }),
      })),
    }),
  };
}

function headline(output: SegmentationOutput): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  const groups = segmentationGroups(output);
  /** Mean over the subjects of the mean Dice over the compared classes; how many subjects had one. */
  const score = (subjects: { id: string; classes: number[] }[], contestant: (name: string) => boolean) => {
    const values = subjects.flatMap(({ id, classes }) => {
      const r = output.results.find((x) => x.dataset === id && contestant(x.contestant));
      return r ? [meanOver(r.dice, classes)] : [];
    });
    return {
      found: values.length,
      mean: values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN,
    };
  };
  const add = (measure: string, subjects: { id: string; classes: number[] }[]): void => {
    if (subjects.length === 0) return;
    const ids = subjects.map((s) => s.id);
    const cell = (contestant: (name: string) => boolean): string => {
      const { found, mean } = score(subjects, contestant);
      if (found === subjects.length) return mean.toFixed(3);
      const reason = missingReason(output.notes, ids, contestant);
      if (found === 0) return reason;
      return `${mean.toFixed(3)} (${found} of ${subjects.length}; ${reason} on the rest)`;
    };
    const bestMixseg = methodsOf(output.results.filter((r) => r.tool === 'mixseg'))
      .map((contestant) => ({ contestant, ...score(subjects, (name) => name === contestant) }))
      .filter((x) => x.found === subjects.length)
      .sort((a, b) => b.mean - a.mean)[0];
    const mine = cell(isDefaultContestant);
    rows.push({
      measure,
      mixseg:
        bestMixseg && !isDefaultContestant(bestMixseg.contestant)
          ? `${mine} (${bestMixseg.contestant.replace('mixseg ', '')}: ${bestMixseg.mean.toFixed(3)})`
          : mine,
      sklearn: cell((name) => toolOf(name) === 'sklearn'),
      dipy: cell((name) => toolOf(name) === 'dipy'),
      ratio: '',
    });
  };
  for (const group of groups.filter((g) => g.family === 'volume')) {
    const classes =
      group.scoredClasses.length < CLASSES.length
        ? ` (${group.scoredClasses.map((k) => CLASSES[k]).join(', ')})`
        : '';
    const count = group.subjects.length > 1 ? `, mean of ${group.subjects.length}` : '';
    add(
      `Mean Dice${classes}, ${group.name}${count}`,
      group.subjects.map((id) => ({ id, classes: group.scoredClasses })),
    );
  }
  const phantoms = groups.filter((g) => g.family === 'phantom');
  const phantomSubjects = phantoms.flatMap((g) => g.subjects.map((id) => ({ id, classes: g.scoredClasses })));
  add(
    `Mean Dice, ${phantomSubjects.length} phantom${phantomSubjects.length === 1 ? '' : 's'}`,
    phantomSubjects,
  );
  return rows;
}

function runsText(output: SegmentationOutput): string {
  const counts = [...new Set(output.datasets.map((d) => d.repetitions))].sort((a, b) => a - b);
  if (counts.length === 1 && counts[0] === 1) return 'single runs';
  return `medians of ${counts.join(' or ')} runs per input (see repetitions below; dipy: one run)`;
}

/** Lines of one group's details: its chart, its table, its notes (`title` and `intro` replace the defaults). */
function groupDetails(
  output: SegmentationOutput,
  group: SegmentationGroup,
  charts: ReportChart[],
  text: { title?: string; intro?: string } = {},
): string[] {
  const datasets = group.subjects
    .map((id) => output.datasets.find((d) => d.id === id))
    .filter((d): d is SegmentationDataset & { repetitions: number } => d !== undefined);
  const results = output.results.filter((r) => group.subjects.includes(r.dataset));
  const first = datasets[0]!;
  const lines = [`### ${text.title ?? group.name}`, ''];
  if (datasets.length === 1 && group.family === 'volume') {
    lines.push(
      `${first.dims.join(' x ')} voxels of ${first.spacing.map((s) => formatNumber(s, 3)).join(' x ')} mm, ` +
        `${first.channels.length} channel(s)${first.imageType && first.imageType !== 't1' ? ` (${first.imageType.toUpperCase()})` : ''}; ` +
        `reference: ${first.referenceKind}.`,
      '',
    );
    if (results.length > 0) {
      const chart = volumeChart(output, first.id);
      charts.push(chart);
      lines.push(`![Dice, ${group.name}](${chart.file})`, '', resultTable(output, results, false), '');
    }
  } else {
    const compared =
      group.scoredClasses.length < CLASSES.length
        ? ` Classes compared: ${group.scoredClasses.map((k) => CLASSES[k]).join(', ')}.`
        : '';
    lines.push(
      `${text.intro ? `${text.intro} ` : ''}${datasets.length} subjects (${first.dims.join(' x ')} voxels each, ` +
        `${first.repetitions} run(s) each); reference: ${group.referenceKind}.${compared}`,
      '',
    );
    if (results.length > 0) {
      const file = `segmentation-${group.family === 'slice' ? 'slices' : group.id}.svg`;
      const chart = subjectsChart(
        output,
        datasets,
        group.scoredClasses,
        file,
        `Mean Dice per subject: ${group.name}`,
      );
      charts.push(chart);
      lines.push(`![Mean Dice, ${group.name}](${chart.file})`, '', resultTable(output, results, true), '');
    }
  }
  const notes = notesFor(output, group.subjects);
  if (notes.length > 0) lines.push(...notes, '');
  return lines;
}

/** The phantoms' details: one chart and one table for all of them (each its own group). */
function phantomDetails(
  output: SegmentationOutput,
  groups: SegmentationGroup[],
  charts: ReportChart[],
): string[] {
  const ids = groups.flatMap((g) => g.subjects);
  const datasets = output.datasets.filter((d) => ids.includes(d.id));
  const results = output.results.filter((r) => ids.includes(r.dataset));
  const text = output.groups
    ? 'generatePhantom (96 x 96 x 72 voxels of 1.5 mm unless named, partial-volume voxels, Gaussian noise 5 % of the ' +
      'WM intensity, multiplicative bias field of amplitude 20 %), each with one artefact or variation (the cases ' +
      'of reference-cases.ts), against its ground truth.'
    : 'generatePhantom (96 x 96 x 72, 1.5 mm, partial-volume voxels, Gaussian noise as a fraction of the WM ' +
      'intensity, multiplicative bias field of the given amplitude), against its ground truth. Groups: noise / bias.';
  const lines = ['### Synthetic phantoms', '', text, ''];
  if (results.length > 0) {
    const chart = subjectsChart(
      output,
      datasets,
      [0, 1, 2],
      'segmentation-phantoms.svg',
      'Mean Dice: synthetic phantoms',
    );
    charts.push(chart);
    lines.push(`![Mean Dice, Synthetic phantoms](${chart.file})`, '', resultTable(output, results, true), '');
  }
  const notes = notesFor(output, ids);
  if (notes.length > 0) lines.push(...notes, '');
  return lines;
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
  const groups = segmentationGroups(output);
  const lines = [
    heading,
    '',
    'Dice per class inside the reference mask (reference > 0), every contestant on exactly the same voxels. ' +
      "mixseg: segment() with its defaults (no option but the mask, and imageType 't2' on the T2 dataset); " +
      'scikit-learn is the plain mixture (full covariance, k-means start); dipy is ' +
      `TissueClassifierHMRF (beta 0.1). Times are segment seconds (fit and labels, files excluded), ${runsText(output)}; ` +
      `ratios mixseg / peer are paired ` +
      `within a repetition. Run took ${formatNumber(output.totalSeconds / 60, 2)} min.`,
    '',
  ];
  if (!output.peers.sklearn.available)
    lines.push(`**scikit-learn skipped:** ${output.peers.sklearn.note}`, '');
  if (!output.peers.dipy.available) lines.push(`**dipy skipped:** ${output.peers.dipy.note}`, '');
  lines.push(
    '### Across datasets',
    '',
    renderCrossDatasetTable(output),
    '',
    'n: subjects in the dataset. Dice: the mean over the subjects, and with several subjects the worst subject ' +
      'in brackets (per class); in bold the best of the three on each class compared (only methods with a result ' +
      'on every subject compete). s, MiB: segment seconds and peak RSS per volume, the median over the subjects ' +
      '("k of n": a method had results on k subjects only). IBSR compares GM and WM only: its raters label ' +
      "sulcal CSF as GM. The details of every dataset, with mixseg's other configurations, follow.",
    '',
  );
  for (const skipped of output.skippedDatasets) lines.push(`- ${skipped.name}: not run (${skipped.reason})`);
  if (output.skippedDatasets.length > 0) lines.push('');
  for (const group of groups.filter((g) => g.family === 'volume'))
    lines.push(...groupDetails(output, group, charts));
  for (const group of groups.filter((g) => g.family === 'slice')) {
    lines.push(
      ...groupDetails(output, group, charts, {
        title: '2-D slices (PNG)',
        intro: 'Axial slices of SRI24 and MNI152 2 mm as 16-bit PNG, against their label PNGs.',
      }),
    );
  }
  const phantoms = groups.filter((g) => g.family === 'phantom');
  if (phantoms.length > 0) lines.push(...phantomDetails(output, phantoms, charts));
  lines.push(
    'Notes:',
    '',
    ...Object.entries(output.methodology).map(([key, text]) => `- ${key}: ${text}`),
    '',
  );
  return { markdown: lines.join('\n'), charts, headline: headline(output) };
}
