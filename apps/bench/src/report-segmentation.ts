/**
 * The report's accuracy section. It opens with the cross-dataset table (one row per dataset, a
 * group of subjects; mixseg with its defaults, scikit-learn and dipy side by side: Dice per class
 * as the mean over the subjects and the worst subject, time and peak memory per volume, the best
 * of the three in bold), then the details of every dataset: Dice per class per method as grouped
 * bars and tables (Dice, time, memory, paired time ratios), and the notes of every peer that did
 * not run. Results written before datasets had groups are read too: every dataset is then its own
 * group, the PNG slices one.
 *
 * Only types are imported from segmentation.ts, which imports this module's values.
 */
import { groupedBarChartSvg } from './bar-chart.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber, median } from './measure.ts';
import type {
  SegmentationNote,
  SegmentationOutput,
  SegmentationResult,
  SegmentationTool,
} from './segmentation.ts';
import type { DatasetFamily, SegmentationDataset, SegmentationGroup } from './segmentation-datasets.ts';
import { paletteColour } from './svg-style.ts';
import type { HeadlineRow, ReportChart, ReportSection } from './types.ts';

const CLASSES = ['CSF', 'GM', 'WM'];

/** segment() with its defaults: the configuration a user gets. */
export const DEFAULT_CONTESTANT = 'mixseg defaults';

/** What the default configuration was called in results written before `mixseg defaults`. */
const LEGACY_DEFAULT_CONTESTANTS = ['mixseg ppf (default)'];

/** Whether a contestant is mixseg with its defaults (under its current or an earlier name). */
export function isDefaultContestant(contestant: string): boolean {
  return contestant === DEFAULT_CONTESTANT || LEGACY_DEFAULT_CONTESTANTS.includes(contestant);
}

/** The columns of the cross-dataset table, in order. */
export const CROSS_DATASET_METHODS: readonly SegmentationTool[] = ['mixseg', 'sklearn', 'dipy'];

const METHOD_LABELS: Record<SegmentationTool, string> = {
  mixseg: 'mixseg',
  sklearn: 'scikit-learn',
  dipy: 'dipy',
};

/** Who a contestant (or a note's contestant) is: mixseg configurations, scikit-learn, dipy. */
function toolOf(contestant: string): SegmentationTool | undefined {
  if (contestant.startsWith('mixseg')) return 'mixseg';
  if (contestant.startsWith('scikit-learn')) return 'sklearn';
  if (contestant.startsWith('dipy')) return 'dipy';
  return undefined;
}

/** Colours by method, the same in every chart. */
export function methodColour(contestant: string, index: number): string {
  const fixed: Record<string, number> = { 'mixseg none': 0, 'mixseg mrf': 3, 'mixseg atlas': 6 };
  if (isDefaultContestant(contestant)) return paletteColour(4);
  const tool = toolOf(contestant);
  if (tool === 'sklearn') return paletteColour(1);
  if (tool === 'dipy') return paletteColour(2);
  return paletteColour(fixed[contestant] ?? 5 + (index % 5));
}

/** What the cross-dataset table is computed from (a {@link SegmentationOutput} will do). */
export type CrossDatasetInput = Pick<SegmentationOutput, 'datasets' | 'results' | 'notes'> & {
  groups?: SegmentationGroup[];
};

/** One method on one dataset of the cross-dataset table. */
export interface CrossDatasetCell {
  contestant: string;
  /** Subjects with a result (the row's `subjects` when none failed). */
  subjects: number;
  /** Dice of CSF, GM, WM: the mean over the subjects. */
  meanDice: number[];
  /** Dice of CSF, GM, WM: the lowest over the subjects, and which subject (dataset id) it was. */
  worstDice: number[];
  worstSubject: string[];
  /** Segment seconds and peak RSS (MiB) per volume: the median over the subjects. */
  segmentSeconds: number;
  peakMiB: number;
}

/** One dataset (row) of the cross-dataset table. */
export interface CrossDatasetRow {
  group: string;
  name: string;
  family: DatasetFamily;
  /** The classes (0 CSF, 1 GM, 2 WM) compared (IBSR: GM and WM). */
  scoredClasses: number[];
  /** Subjects in the group. */
  subjects: number;
  /** Per method: its numbers, or why there are none ("not run (--dipy)", "n/a (one channel only)"...). */
  mixseg: CrossDatasetCell | string;
  sklearn: CrossDatasetCell | string;
  dipy: CrossDatasetCell | string;
}

/**
 * The groups of a run: those it wrote, or for results written before groups existed, every dataset
 * its own group (all classes compared) and the PNG slices one group.
 */
export function segmentationGroups(
  output: Pick<CrossDatasetInput, 'datasets' | 'groups'>,
): SegmentationGroup[] {
  if (output.groups) return output.groups;
  const groups: SegmentationGroup[] = [];
  for (const dataset of output.datasets) {
    const id = dataset.group ?? (dataset.family === 'slice' ? 'png' : dataset.id);
    const existing = groups.find((g) => g.id === id);
    if (existing) existing.subjects.push(dataset.id);
    else {
      groups.push({
        id,
        name: id === 'png' ? 'PNG slices (T1, 16-bit)' : dataset.name,
        family: dataset.family,
        scoredClasses: [0, 1, 2],
        referenceKind: dataset.referenceKind,
        subjects: [dataset.id],
      });
    }
  }
  return groups;
}

/**
 * The numbers of one contestant over some subjects: Dice per class as the mean and the worst
 * subject, time and memory as the median over the subjects. Undefined when none has a result.
 */
export function summariseSubjects(
  results: readonly SegmentationResult[],
  subjects: readonly string[],
  contestant: (result: SegmentationResult) => boolean,
): CrossDatasetCell | undefined {
  const found = subjects
    .map((id) => results.find((r) => r.dataset === id && contestant(r)))
    .filter((r): r is SegmentationResult => r !== undefined);
  if (found.length === 0) return undefined;
  const worst = CLASSES.map((_, k) =>
    found.reduce((lowest, r) => (r.dice[k]! < lowest.dice[k]! ? r : lowest), found[0]!),
  );
  return {
    contestant: found[0]!.contestant,
    subjects: found.length,
    meanDice: CLASSES.map((_, k) => found.reduce((sum, r) => sum + r.dice[k]!, 0) / found.length),
    worstDice: worst.map((r, k) => r.dice[k]!),
    worstSubject: worst.map((r) => r.dataset),
    segmentSeconds: median(found.map((r) => r.segmentSeconds)),
    peakMiB: median(found.map((r) => r.peakMiB)),
  };
}

/** Why a contestant has no result on some datasets, in a few words, from the run's notes. */
function missingReason(
  notes: readonly SegmentationNote[],
  subjects: readonly string[],
  contestant: (name: string) => boolean,
): string {
  const note = notes.find((n) => subjects.includes(n.dataset) && contestant(n.contestant))?.note;
  if (note === undefined) return 'not run';
  if (note.startsWith('not applicable')) return 'n/a (one channel only)';
  if (note.startsWith('not run')) return 'not run (--dipy)';
  if (note.startsWith('failed')) return 'failed';
  return 'skipped';
}

/** Which results are a method's column: mixseg's defaults, or the peer. */
function methodPredicate(method: SegmentationTool): (contestant: string) => boolean {
  return method === 'mixseg' ? isDefaultContestant : (name) => toolOf(name) === method;
}

/** The cross-dataset table's numbers: one row per group, one cell (or reason) per method. */
export function crossDatasetRows(output: CrossDatasetInput): CrossDatasetRow[] {
  return segmentationGroups(output).map((group) => {
    const row = {
      group: group.id,
      name: group.name,
      family: group.family,
      scoredClasses: group.scoredClasses,
      subjects: group.subjects.length,
    };
    const [mixseg, sklearn, dipy] = CROSS_DATASET_METHODS.map((method) => {
      const isMethod = methodPredicate(method);
      return (
        summariseSubjects(output.results, group.subjects, (r) => isMethod(r.contestant)) ??
        missingReason(output.notes, group.subjects, isMethod)
      );
    });
    return { ...row, mixseg: mixseg!, sklearn: sklearn!, dipy: dipy! };
  });
}

/** Dice as in the README: three decimals without the leading zero. */
function formatDice(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3).replace(/^0\./, '.') : 'n/a';
}

/**
 * Which methods are bold in each class of a row: the best mean Dice (at the three decimals shown),
 * among the methods with a result on every subject, for the compared classes, when at least two
 * methods have one.
 */
export function bestMethods(row: CrossDatasetRow): Set<SegmentationTool>[] {
  return CLASSES.map((_, k) => {
    const best = new Set<SegmentationTool>();
    if (!row.scoredClasses.includes(k)) return best;
    const scores = CROSS_DATASET_METHODS.flatMap((method) => {
      const cell = row[method];
      if (typeof cell === 'string' || cell.subjects < row.subjects) return [];
      const score = Number(cell.meanDice[k]!.toFixed(3));
      return Number.isFinite(score) ? [{ method, score }] : [];
    });
    if (scores.length < 2) return best;
    const top = Math.max(...scores.map((s) => s.score));
    for (const s of scores) if (s.score === top) best.add(s.method);
    return best;
  });
}

/**
 * The cross-dataset table as markdown: one row per dataset; for mixseg with its defaults,
 * scikit-learn and dipy, Dice of CSF, GM, WM (the mean over the subjects, the worst subject in
 * brackets when there are several; the best of the three in bold, on the classes compared) and
 * segment seconds and peak MiB per volume (medians over the subjects).
 */
export function renderCrossDatasetTable(output: CrossDatasetInput): string {
  const rows = crossDatasetRows(output);
  const headers = [
    'dataset',
    'n',
    ...CROSS_DATASET_METHODS.flatMap((method) => [
      ...CLASSES.map((c) => `${METHOD_LABELS[method]} ${c}`),
      `${METHOD_LABELS[method]} s, MiB`,
    ]),
  ];
  const body = rows.map((row) => {
    const best = bestMethods(row);
    const compared =
      row.scoredClasses.length < CLASSES.length
        ? ` (${row.scoredClasses.map((k) => CLASSES[k]).join(', ')} compared)`
        : '';
    return [
      `${row.name}${compared}`,
      String(row.subjects),
      ...CROSS_DATASET_METHODS.flatMap((method) => {
        const cell = row[method];
        if (typeof cell === 'string') return [cell, '', '', ''];
        const dice = CLASSES.map((_, k) => {
          const mean = formatDice(cell.meanDice[k]!);
          const shown = best[k]!.has(method) ? `**${mean}**` : mean;
          return row.subjects > 1 ? `${shown} (${formatDice(cell.worstDice[k]!)})` : shown;
        });
        const partial = cell.subjects < row.subjects ? `; ${cell.subjects} of ${row.subjects}` : '';
        return [
          ...dice,
          `${formatNumber(cell.segmentSeconds, 2)}, ${formatNumber(cell.peakMiB, 2)}${partial}`,
        ];
      }),
    ];
  });
  return markdownTable(headers, body, new Set(headers.map((_, i) => i).filter((i) => i >= 1)));
}

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
