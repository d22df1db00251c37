/**
 * The mixseg results folder, read from its listing and small text files (no DOM, no NiiVue):
 * which subjects it holds and where each one's files are, the label table (`dseg.tsv`), the JSON
 * sidecar (`S_dseg.json`) and the study summary (`summary.tsv`).
 *
 * For an input stem S the CLI writes `S_dseg.nii.gz` (labels), `S_label-<ABBR>_probseg.nii.gz` per
 * class, `S_dseg.json`, optionally `S_desc-biasfield.nii.gz` (the bias field) and
 * `S_desc-restore.nii.gz` (the bias-corrected image), and, once per folder, `dseg.tsv` and
 * `summary.tsv`. The image itself is found from the sidecar's `Sources` (by base name, inside the
 * folder), as `S.nii.gz` / `S.nii`, or else the bias-corrected image.
 */
import {
  type GaussianMixture,
  type PartialVolumeMixture,
  parseGaussianMixture,
  validatePartialVolumeMixture,
} from '@mixseg/core';

/** One row of a label table. */
export interface LabelEntry {
  /** The voxel value (0 to 65535; need not be consecutive). */
  index: number;
  name: string;
  abbreviation: string;
  /** [r, g, b], each 0 to 255. */
  colour: [number, number, number];
}

/** One class of the sidecar's `Classes`. */
export interface SidecarClass {
  index: number;
  name: string;
  abbreviation: string;
  voxels: number;
  volumeMl: number;
  meanIntensity: (number | null)[];
}

/** What the viewer uses from `S_dseg.json`. */
export interface Sidecar {
  inputs: string[];
  options: Record<string, unknown>;
  /** The fitted model (components in label order), or undefined when absent or invalid. */
  model: GaussianMixture | undefined;
  /** Why `model` is undefined, when it is. */
  modelProblem: string | undefined;
  /** The partial-volume mixture (one channel, the default), when the sidecar has a valid one. */
  partialVolume: PartialVolumeMixture | undefined;
  logLikelihood: { mixture: number[]; spatial: number[] };
  iterations: unknown;
  converged: unknown;
  stopReason: unknown;
  classes: SidecarClass[];
  software: string;
}

/** The files of one subject, as paths relative to the folder. */
export interface SubjectFiles {
  subject: string;
  stem: string;
  dseg: string;
  sidecar: string | undefined;
  image: string | undefined;
  /** Probability map per class abbreviation, in the order found. */
  probseg: { abbreviation: string; path: string }[];
  labelTable: string | undefined;
  /** The saved bias field (`S_desc-biasfield[1][_T1w].nii.gz`; corrected = image / field), if any. */
  biasField: string | undefined;
  /** The bias-corrected image (`S_desc-restore[1][_T1w].nii.gz`), if any. */
  restored: string | undefined;
}

/** Colours for labels that a table does not colour: FSLeyes-like, distinct on a grey image. */
export const DEFAULT_COLOURS: readonly [number, number, number][] = [
  [47, 128, 237],
  [39, 174, 96],
  [242, 201, 76],
  [235, 87, 87],
  [155, 81, 224],
  [45, 196, 210],
  [242, 153, 74],
  [219, 112, 199],
];

/** The colour of the n-th label (0-based) when no table gives one. */
export function defaultColour(n: number): [number, number, number] {
  return [...DEFAULT_COLOURS[n % DEFAULT_COLOURS.length]!] as [number, number, number];
}

/** Splits TSV text into a header and rows (blank lines dropped; `\r\n` accepted). */
export function parseTsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
  const header = (lines.shift() ?? '').split('\t').map((cell) => cell.trim());
  return { header, rows: lines.map((line) => line.split('\t')) };
}

/**
 * Parses a BIDS-style `dseg.tsv` (`index`, `name`, optional `abbreviation` and `color` as
 * `#rrggbb`). Rows without a valid index are skipped; a missing or invalid colour gets a default.
 *
 * @throws {Error} naming the file when there is no `index` or `name` column.
 */
export function parseLabelTable(text: string, path = 'dseg.tsv'): LabelEntry[] {
  const { header, rows } = parseTsv(text);
  const indexColumn = header.indexOf('index');
  const nameColumn = header.indexOf('name');
  if (indexColumn < 0 || nameColumn < 0) {
    throw new Error(`${path}: needs "index" and "name" columns, got ${JSON.stringify(header.join(' '))}`);
  }
  const abbreviationColumn = header.indexOf('abbreviation');
  const colourColumn = header.indexOf('color');
  const entries: LabelEntry[] = [];
  for (const row of rows) {
    const indexText = (row[indexColumn] ?? '').trim();
    const index = Number(indexText);
    if (!/^\d+$/.test(indexText) || index > 65535) continue;
    const name = row[nameColumn] ?? '';
    entries.push({
      index,
      name,
      abbreviation: abbreviationColumn >= 0 ? (row[abbreviationColumn] ?? '') : name,
      colour: parseHexColour(row[colourColumn] ?? '') ?? defaultColour(entries.length),
    });
  }
  return entries.sort((a, b) => a.index - b.index);
}

/** `#rrggbb` (or `rrggbb`) to [r, g, b]; undefined when not of that form. */
export function parseHexColour(text: string): [number, number, number] | undefined {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text.trim());
  if (!match) return undefined;
  return [Number.parseInt(match[1]!, 16), Number.parseInt(match[2]!, 16), Number.parseInt(match[3]!, 16)];
}

/** [r, g, b] to `#rrggbb`. */
export function formatHexColour([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((value) => (value ?? 0).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A label table for labels with no `dseg.tsv`: names from the sidecar's classes when given, else
 * "label N", default colours.
 */
export function defaultLabelTable(
  labels: readonly number[],
  classes: readonly SidecarClass[] = [],
): LabelEntry[] {
  return [...labels]
    .filter((label) => label > 0)
    .sort((a, b) => a - b)
    .map((index, n) => {
      const known = classes.find((entry) => entry.index === index);
      return {
        index,
        name: known?.name ?? `label ${index}`,
        abbreviation: known?.abbreviation ?? String(index),
        colour: defaultColour(n),
      };
    });
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

/**
 * Reads what the viewer needs from a sidecar's JSON text. Missing keys give empty values; an
 * invalid `Model` is reported in `modelProblem` rather than thrown (the rest is still useful).
 *
 * @throws {Error} naming the file when the text is not a JSON object.
 */
export function parseSidecar(text: string, path = 'dseg.json'): Sidecar {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: expected a JSON object`);
  }
  const record = value as Record<string, unknown>;
  let model: GaussianMixture | undefined;
  let modelProblem: string | undefined;
  if (record['Model'] === undefined) modelProblem = 'the sidecar has no Model';
  else {
    try {
      model = parseGaussianMixture(record['Model'] as object);
    } catch (error) {
      modelProblem = (error as Error).message;
    }
  }
  let partialVolume: PartialVolumeMixture | undefined;
  try {
    const candidate = record['PartialVolumeModel'];
    if (candidate !== null && candidate !== undefined) {
      validatePartialVolumeMixture(candidate);
      partialVolume = candidate;
    }
  } catch {
    partialVolume = undefined; // the Gaussian model is drawn instead
  }
  const logLikelihood = (record['LogLikelihood'] ?? {}) as Record<string, unknown>;
  const classes = Array.isArray(record['Classes']) ? (record['Classes'] as Record<string, unknown>[]) : [];
  return {
    // `Sources` (relative paths or BIDS URIs `bids:raw:sub-01/anat/...`); `Inputs` in older sidecars
    inputs: (Array.isArray(record['Sources'])
      ? (record['Sources'] as unknown[])
      : Array.isArray(record['Inputs'])
        ? (record['Inputs'] as unknown[])
        : []
    )
      .filter((v): v is string => typeof v === 'string')
      .map((source) => source.replace(/^bids:[^:]*:/, '')),
    options:
      record['Options'] !== null && typeof record['Options'] === 'object'
        ? (record['Options'] as Record<string, unknown>)
        : {},
    model,
    modelProblem,
    partialVolume,
    logLikelihood: { mixture: numbers(logLikelihood['Mixture']), spatial: numbers(logLikelihood['Spatial']) },
    iterations: record['Iterations'],
    converged: record['Converged'],
    stopReason: record['StopReason'],
    software: typeof record['Software'] === 'string' ? record['Software'] : '',
    classes: classes
      .filter((entry) => entry !== null && typeof entry === 'object' && typeof entry['Index'] === 'number')
      .map((entry) => ({
        index: entry['Index'] as number,
        name: String(entry['Name'] ?? ''),
        abbreviation: String(entry['Abbreviation'] ?? ''),
        voxels: Number(entry['Voxels'] ?? Number.NaN),
        volumeMl: Number(entry['VolumeMl'] ?? Number.NaN),
        meanIntensity: numbers(entry['MeanIntensity']),
      })),
  };
}

/** One subject row of `summary.tsv`: every column by name. */
export type SummaryRow = Record<string, string>;

/** Parses `summary.tsv`; rows without a subject are skipped. */
export function parseSummary(text: string): SummaryRow[] {
  const { header, rows } = parseTsv(text);
  return rows
    .map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])))
    .filter((row) => (row['subject'] ?? '') !== '');
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}

const DSEG_SUFFIX = '_dseg.nii.gz';
const DSEG_SUFFIX_PLAIN = '_dseg.nii';

/** The stem S of `S_dseg.nii.gz` / `S_dseg.nii`, or undefined. */
export function dsegStem(path: string): string | undefined {
  const name = baseName(path);
  if (name.endsWith(DSEG_SUFFIX)) return name.slice(0, -DSEG_SUFFIX.length);
  if (name.endsWith(DSEG_SUFFIX_PLAIN)) return name.slice(0, -DSEG_SUFFIX_PLAIN.length);
  return undefined;
}

/**
 * Finds a subject's files in the folder listing, given its label map's path. `inputs` (the
 * sidecar's Inputs) name the image; only a file of that base name inside the folder is used.
 */
export function subjectFiles(
  files: readonly string[],
  dseg: string,
  subject?: string,
  inputs: readonly string[] = [],
): SubjectFiles {
  const present = new Set(files);
  const directory = directoryOf(dseg);
  const stem = dsegStem(dseg) ?? baseName(dseg).replace(/\.nii(\.gz)?$/, '');
  const sidecar = `${directory}${stem}_dseg.json`;
  const findByName = (name: string): string | undefined =>
    present.has(`${directory}${name}`)
      ? `${directory}${name}`
      : files.find((file) => baseName(file) === name);
  let image: string | undefined;
  for (const input of inputs) {
    image = findByName(baseName(input));
    if (image) break;
  }
  image ??= findByName(`${stem}.nii.gz`) ?? findByName(`${stem}.nii`);
  // the outputs of --save-restored (`S_desc-restore[_T1w].nii.gz`) and --save-bias-field; with several
  // channels they are numbered from 1, and the first channel is the one the histogram shows
  const derived = (desc: string) => {
    const pattern = new RegExp(`^${escapeRegExp(stem)}_desc-${desc}1?(_[A-Za-z0-9]+)?\\.nii(\\.gz)?$`);
    return files.find((file) => directoryOf(file) === directory && pattern.test(baseName(file)));
  };
  const restored = derived('restore');
  image ??= restored;
  const probsegPattern = new RegExp(`^${escapeRegExp(stem)}_label-([A-Za-z0-9]+)_probseg\\.nii(\\.gz)?$`);
  const probseg = files
    .filter((file) => directoryOf(file) === directory)
    .map((file) => ({ match: probsegPattern.exec(baseName(file)), path: file }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ abbreviation: entry.match![1]!, path: entry.path }));
  const labelTable = [`${directory}${stem}_dseg.tsv`, `${directory}dseg.tsv`, 'dseg.tsv'].find((path) =>
    present.has(path),
  );
  return {
    subject: subject ?? stem,
    stem,
    dseg,
    sidecar: present.has(sidecar) ? sidecar : undefined,
    image,
    probseg,
    labelTable,
    biasField: derived('biasfield'),
    restored,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The subjects of a folder: from `summary.tsv` when present (its `dseg` column, matched by path
 * relative to the folder or else by base name; rows whose label map is missing are kept, with
 * `dseg` empty, so the review can still mark them), otherwise every `*_dseg.nii.gz` in the folder.
 */
export function findSubjects(files: readonly string[], summary: SummaryRow[] | undefined): SubjectFiles[] {
  if (summary) {
    return summary.map((row) => {
      const wanted = row['dseg'] ?? '';
      const dseg =
        files.find((file) => file === wanted) ??
        (wanted === '' ? undefined : files.find((file) => baseName(file) === baseName(wanted)));
      if (dseg === undefined) {
        return {
          subject: row['subject']!,
          stem: row['subject']!,
          dseg: '',
          sidecar: undefined,
          image: undefined,
          probseg: [],
          labelTable: undefined,
          biasField: undefined,
          restored: undefined,
        };
      }
      return subjectFiles(files, dseg, row['subject']);
    });
  }
  return files.filter((file) => dsegStem(file) !== undefined).map((file) => subjectFiles(files, file));
}
