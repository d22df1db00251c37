/**
 * The cross-dataset accuracy table (report.md and README): one row per dataset, a group of subjects;
 * mixseg with its defaults, scikit-learn and dipy side by side: Dice per class as the mean over the
 * subjects and the worst subject, time and peak memory per volume, the best of the three in bold.
 */

import { markdownTable } from './markdown-table.ts';
import { formatNumber, median } from './measure.ts';
import type { DatasetFamily, SegmentationGroup } from './segmentation-datasets.ts';
import type {
  SegmentationNote,
  SegmentationOutput,
  SegmentationResult,
  SegmentationTool,
} from './segmentation-types.ts';
import { paletteColour } from './svg-style.ts';

/** The tissue classes, in the order of every Dice array. */
export const CLASSES = ['CSF', 'GM', 'WM'];

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
export function toolOf(contestant: string): SegmentationTool | undefined {
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
export function missingReason(
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
