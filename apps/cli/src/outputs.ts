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
import type { OutputFlags } from './settings.ts';

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
export type { OutputFlags } from './settings.ts';

/**
 * Where a subject's outputs go and how they are named. A flat layout (any input) puts
 * `<stem>_dseg.nii.gz`... in the output folder; a BIDS layout (an input inside a BIDS dataset,
 * `<root>/sub-01[/ses-x]/anat/sub-01[_ses-x]..._T1w.nii.gz` with `<root>/dataset_description.json`)
 * mirrors the dataset: `<out>/sub-01[/ses-x]/anat/sub-01[_ses-x]..._dseg.nii.gz`, the entities of
 * the input without its suffix.
 */
export interface SubjectLayout {
  /** Folder of the outputs, relative to the output folder ('' for the output folder itself). */
  folder: string;
  /** Output names start with it. */
  stem: string;
  /** The input's suffix (`T1w`) in a BIDS layout: derived images of it keep it. */
  suffix: string | undefined;
  /** The BIDS dataset the input belongs to, when it does. */
  /**
   * The BIDS dataset the input belongs to: its root, the input's path in it, and the name under
   * which the output folder's dataset_description.json links it (`raw`, `raw2`...).
   */
  bids: { root: string; relativePath: string; link?: string } | undefined;
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
  /** The bias-corrected image of each channel (empty unless asked for). */
  restored: string[];
  /** Written last: its presence marks the subject complete. */
  sidecar: string;
  /** Every file above, the sidecar last. */
  all: string[];
}

export function subjectOutputs(
  outDir: string,
  layout: string | Pick<SubjectLayout, 'folder' | 'stem' | 'suffix'>,
  classes: readonly ClassEntry[],
  flags: OutputFlags,
  nChannels = 1,
): SubjectOutputs {
  const { folder, stem, suffix } =
    typeof layout === 'string' ? { folder: '', stem: layout, suffix: undefined } : layout;
  const at = (name: string) => join(outDir, folder, `${stem}_${name}`);
  // a derived image of the input: `desc-x_T1w` in a BIDS layout, `desc-x` after a flat stem
  const derived = (desc: string) => at(`desc-${desc}${suffix ? `_${suffix}` : ''}.nii.gz`);
  const dseg = at('dseg.nii.gz');
  const probseg = flags.probabilities ? classes.map((c) => at(`label-${c.abbreviation}_probseg.nii.gz`)) : [];
  const pve = flags.probabilities
    ? classes.map((c) => at(`label-${c.abbreviation}_desc-pve_probseg.nii.gz`))
    : [];
  const model = flags.saveModel ? at('model.json') : undefined;
  const preview = flags.preview ? at('preview.png') : undefined;
  // one channel: desc-biasfield; several: desc-biasfield1, desc-biasfield2... (channel order, from 1)
  const numbered = (desc: string) =>
    Array.from({ length: nChannels }, (_, c) => derived(`${desc}${nChannels > 1 ? c + 1 : ''}`));
  const biasField = flags.saveBiasField ? numbered('biasfield') : [];
  const restored = flags.saveRestored ? numbered('restore') : [];
  const sidecar = at('dseg.json');
  const all = [
    dseg,
    ...probseg,
    ...pve,
    ...(model ? [model] : []),
    ...(preview ? [preview] : []),
    ...biasField,
    ...restored,
    sidecar,
  ];
  return { dseg, probseg, pve, model, preview, biasField, restored, sidecar, all };
}

/** `sub-01_ses-1_acq-mp_T1w` -> its entities and suffix, or undefined when it is not a BIDS name. */
export function bidsName(stem: string): { entities: string[]; suffix: string } | undefined {
  const parts = stem.split('_');
  if (parts.length < 2 || !/^sub-[A-Za-z0-9]+$/.test(parts[0]!)) return undefined;
  const suffix = parts[parts.length - 1]!;
  const entities = parts.slice(0, -1);
  if (!/^[A-Za-z0-9]+$/.test(suffix) || !entities.every((e) => /^[a-z]+-[A-Za-z0-9]+$/.test(e)))
    return undefined;
  return { entities, suffix };
}

/**
 * A hidden temporary file of one of the subject's outputs (imaging's `temporaryPathFor` names
 * them `.<name>.tmp-<pid>-<random>`), left by an interrupted run.
 */
export function isTemporaryOutputOf(fileName: string, stem: string): boolean {
  if (!fileName.startsWith(`.${stem}_`) || !fileName.includes('.tmp-')) return false;
  const rest = fileName.slice(stem.length + 2, fileName.indexOf('.tmp-'));
  return /^(dseg\.nii\.gz|dseg\.json|label-[A-Za-z0-9]+(_desc-pve)?_probseg\.nii\.gz|model\.json|preview\.png|desc-(biasfield|restore)\d*(_[A-Za-z0-9]+)?\.nii\.gz)$/.test(
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
  /**
   * Failed because outputs of other options are there (no --overwrite): those results are
   * untouched, so the folder's summary keeps their row.
   */
  refused?: boolean;
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
