/**
 * The page's state: what is shown (image, labels, probability maps, sidecar, label table) and the
 * study under review (subjects, marks, which subject is drawn). The functions here change the
 * state only; drawing it is view.ts's job.
 */
import { sameGrid, type Volume } from '@mixseg/imaging';
import type { ReviewMark } from '@mixseg/server/shared';
import type { Niivue } from '@niivue/niivue';
import { modelIsBiasCorrected } from './intensity-units.ts';
import {
  defaultColour,
  defaultLabelTable,
  type LabelEntry,
  parseLabelTable,
  parseSidecar,
  type Sidecar,
  type SubjectFiles,
} from './results-folder.ts';
import type { Layer, Model, ProbabilityLayer } from './types.ts';

/** What is on screen. */
export interface ViewerState {
  image: Layer | undefined;
  /** The image shown is the bias-corrected one (a desc-restore file). */
  imageIsCorrected: boolean;
  labels: Layer | undefined;
  /** Voxels per label value (0 left out). */
  labelCounts: Map<number, number>;
  table: LabelEntry[];
  tableFromFile: LabelEntry[] | undefined;
  /** Label values hidden by the legend's check boxes. */
  hidden: Set<number>;
  probabilities: ProbabilityLayer[];
  /** The abbreviation of the probability map shown, '' for none. */
  probabilityShown: string;
  /** The saved bias field and bias-corrected image beside the image, for the histogram. */
  biasField: Layer | undefined;
  restored: Layer | undefined;
  /** A bias field or corrected image is still loading. */
  correctionLoading: boolean;
  sidecar: Sidecar | undefined;
  model: Model | undefined;
  /** The model is in bias-corrected intensity units. */
  modelIsCorrected: boolean;
  modelNote: string;
  trace: { mixture: number[]; spatial: number[] };
  /** A segmentation made in the browser (labels 1..K per voxel). */
  segmentation: { labels: Uint8Array; stem: string } | undefined;
  /** The crosshair's last world position (mm). */
  lastMm: ArrayLike<number> | undefined;
}

/** The results folder under review. */
export interface StudyState {
  subjects: SubjectFiles[];
  /** The subject chosen: being loaded or drawn; -1 before any. */
  index: number;
  /**
   * The subject whose images are drawn, the one review marks apply to; undefined while another
   * is loading, or when something else (a dropped file, a browser segmentation) is on screen.
   */
  displayed: string | undefined;
  marks: Map<string, ReviewMark>;
}

/** The page: NiiVue and the two states. Functions take it as their first argument. */
export interface Viewer {
  nv: Niivue;
  state: ViewerState;
  study: StudyState;
}

export function createViewerState(): ViewerState {
  return {
    image: undefined,
    imageIsCorrected: false,
    labels: undefined,
    labelCounts: new Map(),
    table: [],
    tableFromFile: undefined,
    hidden: new Set(),
    probabilities: [],
    probabilityShown: '',
    biasField: undefined,
    restored: undefined,
    correctionLoading: false,
    sidecar: undefined,
    model: undefined,
    modelIsCorrected: false,
    modelNote: '',
    trace: { mixture: [], spatial: [] },
    segmentation: undefined,
    lastMm: undefined,
  };
}

export function createStudyState(): StudyState {
  return { subjects: [], index: -1, displayed: undefined, marks: new Map() };
}

/** Forgets the subject shown (keeps display preferences: hidden labels, the probability map chosen). */
export function clearSubject(state: ViewerState): void {
  const { hidden, probabilityShown, lastMm } = state;
  Object.assign(state, createViewerState(), { hidden, probabilityShown, lastMm });
}

/** Sets the image; a label map on another grid is closed (returns a message saying so). */
export function setImage(state: ViewerState, layer: Layer, isCorrected = false): string | undefined {
  state.image = layer;
  state.imageIsCorrected = isCorrected;
  for (const key of ['biasField', 'restored'] as const) {
    const other = state[key];
    if (other && !sameGrid(other.volume, layer.volume)) state[key] = undefined;
  }
  if (state.labels && !sameGrid(state.labels.volume, layer.volume)) {
    const message = `${layer.name} and the label map ${state.labels.name} are on different grids: label map closed`;
    state.labels = undefined;
    state.labelCounts = new Map();
    rebuildTable(state);
    return message;
  }
  return undefined;
}

/**
 * Sets the label map and counts its labels.
 *
 * @throws {Error} naming both files when the label map is not on the image's grid.
 */
export function setLabels(state: ViewerState, layer: Layer): void {
  if (state.image && !sameGrid(state.image.volume, layer.volume)) {
    throw new Error(
      `${layer.name} is ${layer.volume.dims.join(' x ')} voxels but the image ${state.image.name} is ${state.image.volume.dims.join(' x ')} (or another affine): not on the same grid`,
    );
  }
  state.labels = layer;
  state.labelCounts = countLabels(layer.volume);
  rebuildTable(state);
}

function countLabels(volume: Volume): Map<number, number> {
  const counts = new Map<number, number>();
  const data = volume.data;
  for (let v = 0; v < data.length; v++) {
    const value = Math.round(data[v]!);
    if (value !== 0) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

/** The label table: the file's entries for every label (present or not), plus defaults for labels it lacks. */
export function rebuildTable(state: ViewerState): void {
  const present = [...state.labelCounts.keys()].sort((a, b) => a - b);
  const fromFile = state.tableFromFile ?? [];
  const known = new Set(fromFile.map((entry) => entry.index));
  const missing = defaultLabelTable(
    present.filter((value) => !known.has(value)),
    state.sidecar?.classes ?? [],
  ).map((entry, n) => ({
    ...entry,
    colour: fromFile.length === 0 ? entry.colour : defaultColour(fromFile.length + n),
  }));
  state.table = [...fromFile.filter((entry) => entry.index > 0), ...missing].sort(
    (a, b) => a.index - b.index,
  );
}

/** Reads a label table (dseg.tsv). @throws {Error} naming the file when it is not one. */
export function setLabelTable(state: ViewerState, text: string, name: string): void {
  state.tableFromFile = parseLabelTable(text, name);
  rebuildTable(state);
}

/** Reads a sidecar: its model (drawn on the histogram unless fitted to prepared intensities) and trace. */
export function setSidecar(state: ViewerState, sidecar: Sidecar): void {
  state.sidecar = sidecar;
  state.model = sidecar.partialVolume ?? sidecar.model;
  state.modelIsCorrected = modelIsBiasCorrected(sidecar.options);
  state.trace = sidecar.logLikelihood;
  const preparation = sidecar.options['preparation'];
  if (sidecar.modelProblem) state.modelNote = `No fitted curves: ${sidecar.modelProblem}`;
  else if (preparation !== undefined && preparation !== 'none') {
    state.modelNote = `The model was fitted to ${String(preparation)}-prepared intensities: curves not drawn.`;
    state.model = undefined;
  } else state.modelNote = '';
  rebuildTable(state);
}

/** Parses and sets a sidecar's text. @throws {Error} naming the file when it is not a JSON object. */
export function setSidecarText(state: ViewerState, text: string, name: string): void {
  setSidecar(state, parseSidecar(text, name));
}

/** Adds (or replaces) the probability map of a class. */
export function addProbabilityLayer(state: ViewerState, layer: Layer, abbreviation: string): void {
  state.probabilities = state.probabilities.filter((entry) => entry.abbreviation !== abbreviation);
  state.probabilities.push({
    abbreviation,
    valueAt: (voxel) => layer.volume.data[voxel] ?? Number.NaN,
    layer: () => layer,
  });
}

/** The probability map shown: the one chosen, when this subject has it. */
export function shownProbability(state: ViewerState): ProbabilityLayer | undefined {
  return state.probabilities.find((entry) => entry.abbreviation === state.probabilityShown);
}

/** The class abbreviation of `S_label-<ABBR>_probseg.nii.gz`, else the name without its extension. */
export function probabilityAbbreviation(name: string): string {
  return /_label-([A-Za-z0-9]+)_probseg/.exec(name)?.[1] ?? name.replace(/\.nii(\.gz)?$/, '');
}

/** The base name of a path or URL. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
