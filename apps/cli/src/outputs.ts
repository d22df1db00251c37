/**
 * Output names and formats, following BIDS-Derivatives: for an input `sub-01_T1w.nii.gz`,
 * `sub-01_T1w_dseg.nii.gz` (labels), `sub-01_T1w_label-CSF_probseg.nii.gz` per class (posterior
 * probabilities), `sub-01_T1w_label-CSF_desc-pve_probseg.nii.gz` per class (partial-volume
 * fractions, as FSL FAST's _pve_0/1/2), and
 * `sub-01_T1w_dseg.json` (the sidecar: options, model, convergence, volumes, timings), optionally
 * `sub-01_T1w_desc-biasfield.nii.gz` (the estimated bias field), plus a
 * `dseg.tsv` lookup table and `summary.tsv` / `summary.json` in the output folder. The viewer reads
 * these files, so their names and keys are a contract.
 */

import { join } from 'node:path';
import { DEFAULT_LABEL_COLOURS } from '@mixseg/imaging/node';

/** One class of the lookup table. */
export interface ClassEntry {
  /** Label value in the dseg image (1..K). */
  index: number;
  name: string;
  /** Used in file names (`label-<abbreviation>`) and summary columns (`<abbreviation>_ml`). */
  abbreviation: string;
  /** `#rrggbb`, the colour previews and the viewer use. */
  color: string;
}

const THREE_TISSUES = [
  { name: 'cerebrospinal fluid', abbreviation: 'CSF' },
  { name: 'grey matter', abbreviation: 'GM' },
  { name: 'white matter', abbreviation: 'WM' },
] as const;

/** Colour of label k as #rrggbb: DEFAULT_LABEL_COLOURS, cycled past its end as the overlays do. */
export function labelColour(label: number): string {
  const nCycled = DEFAULT_LABEL_COLOURS.length - 1;
  const [r, g, b] = DEFAULT_LABEL_COLOURS[((label - 1) % nCycled) + 1]!;
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** The classes of a K-class run: CSF, GM, WM for K = 3 (ordered by T1 intensity), else class1..classK. */
export function classTable(nClasses: number): ClassEntry[] {
  return Array.from({ length: nClasses }, (_, k) => {
    const named =
      nClasses === 3 ? THREE_TISSUES[k]! : { name: `class${k + 1}`, abbreviation: `class${k + 1}` };
    return { index: k + 1, ...named, color: labelColour(k + 1) };
  });
}

/** `dseg.tsv`: `index\tname\tabbreviation\tcolor`, one row per class. */
export function dsegTsv(classes: readonly ClassEntry[]): string {
  const rows = classes.map((c) => [c.index, c.name, c.abbreviation, c.color].join('\t'));
  return `${['index\tname\tabbreviation\tcolor', ...rows].join('\n')}\n`;
}

/** Which optional outputs a run writes. */
export interface OutputFlags {
  probabilities: boolean;
  saveModel: boolean;
  preview: boolean;
  saveBiasField: boolean;
}

/** The files of one subject. */
export interface SubjectOutputs {
  dseg: string;
  probseg: string[];
  /** Partial-volume fraction maps, one per class (with the probabilities). */
  pve: string[];
  model: string | undefined;
  preview: string | undefined;
  /** The bias field of each channel (empty unless asked for). */
  biasField: string[];
  /** Written last: its presence marks the subject complete. */
  sidecar: string;
  /** Every file above, the sidecar last. */
  all: string[];
}

export function subjectOutputs(
  outDir: string,
  stem: string,
  classes: readonly ClassEntry[],
  flags: OutputFlags,
  nChannels = 1,
): SubjectOutputs {
  const at = (suffix: string) => join(outDir, `${stem}_${suffix}`);
  const dseg = at('dseg.nii.gz');
  const probseg = flags.probabilities ? classes.map((c) => at(`label-${c.abbreviation}_probseg.nii.gz`)) : [];
  const pve = flags.probabilities
    ? classes.map((c) => at(`label-${c.abbreviation}_desc-pve_probseg.nii.gz`))
    : [];
  const model = flags.saveModel ? at('model.json') : undefined;
  const preview = flags.preview ? at('preview.png') : undefined;
  // one channel: desc-biasfield; several: desc-biasfield1, desc-biasfield2... (channel order, from 1)
  const biasField = flags.saveBiasField
    ? Array.from({ length: nChannels }, (_, c) => at(`desc-biasfield${nChannels > 1 ? c + 1 : ''}.nii.gz`))
    : [];
  const sidecar = at('dseg.json');
  const all = [
    dseg,
    ...probseg,
    ...pve,
    ...(model ? [model] : []),
    ...(preview ? [preview] : []),
    ...biasField,
    sidecar,
  ];
  return { dseg, probseg, pve, model, preview, biasField, sidecar, all };
}

/**
 * A hidden temporary file of one of the subject's outputs (imaging's `temporaryPathFor` names
 * them `.<name>.tmp-<pid>-<random>`), left by an interrupted run.
 */
export function isTemporaryOutputOf(fileName: string, stem: string): boolean {
  if (!fileName.startsWith(`.${stem}_`) || !fileName.includes('.tmp-')) return false;
  const rest = fileName.slice(stem.length + 2, fileName.indexOf('.tmp-'));
  return /^(dseg\.nii\.gz|dseg\.json|label-[A-Za-z0-9]+(_desc-pve)?_probseg\.nii\.gz|model\.json|preview\.png|desc-biasfield\d*\.nii\.gz)$/.test(
    rest,
  );
}

/** Status of one subject in the summary. */
export type SubjectStatus = 'done' | 'skipped' | 'failed';

/** One row of `summary.tsv` / `summary.json`. */
export interface SummaryRow {
  subject: string;
  status: SubjectStatus;
  /** Channel files (and the mask, if any) as given. */
  inputs: string[];
  /** The label map, null when failed. */
  dseg: string | null;
  /** Class volume in mL by abbreviation, in class order. */
  volumesMl: Record<string, number | null>;
  /** Partial-volume-weighted class volume in mL (the sum of the fractions), by abbreviation. */
  partialVolumesMl: Record<string, number | null>;
  /** EM iterations, both stages together. */
  iterations: number | null;
  converged: boolean | null;
  /** Wall time of this subject (read, segment, write); for a skipped subject, the earlier run's. */
  seconds: number | null;
  /** What went wrong, naming the file, when failed. */
  error: string | null;
  /** The segmentation's warnings (spikes, outliers, a result contradicting the image type), when done. */
  warnings?: string[];
}

/** A row as JSON: the TSV's columns, `<ABBR>_ml` per class. */
export function summaryRecord(row: SummaryRow): Record<string, unknown> {
  const volumes = Object.fromEntries(Object.entries(row.volumesMl).map(([abbr, ml]) => [`${abbr}_ml`, ml]));
  const partial = Object.fromEntries(
    Object.entries(row.partialVolumesMl).map(([abbr, ml]) => [`${abbr}_pve_ml`, ml]),
  );
  return {
    subject: row.subject,
    status: row.status,
    inputs: row.inputs,
    dseg: row.dseg,
    ...volumes,
    ...partial,
    iterations: row.iterations,
    converged: row.converged,
    seconds: row.seconds,
    error: row.error,
  };
}

/**
 * `summary.tsv`: subject, status, inputs, dseg, `<ABBR>_ml`..., `<ABBR>_pve_ml`..., iterations,
 * converged, seconds, error; `n/a` for none.
 */
export function summaryTsv(rows: readonly SummaryRow[], classes: readonly ClassEntry[]): string {
  const header = [
    'subject',
    'status',
    'inputs',
    'dseg',
    ...classes.map((c) => `${c.abbreviation}_ml`),
    ...classes.map((c) => `${c.abbreviation}_pve_ml`),
    'iterations',
    'converged',
    'seconds',
    'error',
  ];
  const field = (value: unknown): string => {
    if (value === null || value === undefined) return 'n/a';
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
    // tabs and newlines would break the table
    return String(value).replace(/[\t\r\n]+/g, ' ');
  };
  const lines = rows.map((row) =>
    [
      row.subject,
      row.status,
      row.inputs.join(','),
      row.dseg,
      ...classes.map((c) => row.volumesMl[c.abbreviation] ?? null),
      ...classes.map((c) => row.partialVolumesMl[c.abbreviation] ?? null),
      row.iterations,
      row.converged,
      row.seconds,
      row.error,
    ]
      .map(field)
      .join('\t'),
  );
  return `${[header.join('\t'), ...lines].join('\n')}\n`;
}
