/**
 * The viewer page: NiiVue shows the image, the label overlay and a probability map; everything
 * else (legend, readout, histogram, review, in-browser segmentation) is plain DOM and 2-D canvas,
 * fed by the viewer's own parsed volumes (@mixseg/imaging's parseNifti), so the numbers shown are
 * the file's voxel values in the file's voxel order.
 *
 * Sources, in order: URL parameters (`image`, `labels`, `probseg` (repeatable), `lut`, `sidecar`,
 * `view`), else the results folder served by `mixseg view` (`api/folder`, `data/...`); then files
 * dropped on the page or opened with the pickers.
 */
import type { GaussianMixture, PartialVolumeMixture } from '@mixseg/core';
import { classProbabilityImage, encodeNifti1, labelMapImage, parseNifti, type Volume } from '@mixseg/imaging';
import { Niivue, NVImage, SLICE_TYPE } from '@niivue/niivue';
import type { ReviewMark, ReviewStatus } from '../shared/review-file.ts';
import { byId, element } from './dom.ts';
import { voxelIndexAt } from './geometry.ts';
import {
  componentCount,
  computeHistogram,
  drawHistogram,
  drawTrace,
  type Histogram,
  type Rgb,
} from './histogram.ts';
import {
  defaultColour,
  defaultLabelTable,
  findSubjects,
  formatHexColour,
  type LabelEntry,
  parseLabelTable,
  parseSidecar,
  parseSummary,
  type Sidecar,
  type SubjectFiles,
  subjectFiles,
} from './results-folder.ts';
import type { BrowserSegmentOptions, SegmentMessage } from './segment-protocol.ts';

/** An image the page holds: its bytes (for NiiVue and the worker), parsed volume, and NiiVue image. */
interface Layer {
  name: string;
  bytes: Uint8Array;
  volume: Volume;
  nvImage?: NVImage;
}

/** A class probability map: a layer, or values from an in-browser segmentation (made a layer on demand). */
interface ProbabilityLayer {
  abbreviation: string;
  valueAt: (voxel: number) => number;
  layer: () => Layer;
}

type VoxelArray = { length: number; [index: number]: number; set(values: ArrayLike<number>): void };

const state = {
  image: undefined as Layer | undefined,
  labels: undefined as Layer | undefined,
  /** The label volume's voxels as loaded (hidden classes are zeroed in NiiVue's copy). */
  labelOriginal: undefined as ArrayLike<number> | undefined,
  labelCounts: new Map<number, number>(),
  table: [] as LabelEntry[],
  tableFromFile: undefined as LabelEntry[] | undefined,
  hidden: new Set<number>(),
  probabilities: [] as ProbabilityLayer[],
  sidecar: undefined as Sidecar | undefined,
  /** The curves drawn on the histogram: the partial-volume model when there is one. */
  model: undefined as GaussianMixture | PartialVolumeMixture | undefined,
  modelNote: '',
  trace: { mixture: [] as number[], spatial: [] as number[] },
  histogram: undefined as Histogram | undefined,
  folderFiles: undefined as string[] | undefined,
  subjects: [] as SubjectFiles[],
  subjectIndex: -1,
  marks: new Map<string, ReviewMark>(),
  segmentation: undefined as { labels: Uint8Array; stem: string } | undefined,
  lastMm: undefined as ArrayLike<number> | undefined,
};

const statusLine = byId('status', HTMLSpanElement);
const canvas = byId('gl', HTMLCanvasElement);
const nv = new Niivue({
  backColor: [0.07, 0.075, 0.094, 1],
  crosshairColor: [1, 0.85, 0.2, 0.8],
  crosshairWidth: 0.3,
  crosshairWidthUnit: 'percent',
  dragAndDropEnabled: false,
  // True voxels by default (as FSLeyes): a thin label ring keeps its exact colour.
  isNearestInterpolation: true,
  show3Dcrosshair: true,
  isColorbar: false,
  multiplanarForceRender: false,
});

function setStatus(text: string, isError = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
  statusLine.title = text;
}

function setPageState(key: string, value: string): void {
  document.body.dataset[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Loading

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.text();
}

function makeLayer(bytes: Uint8Array, name: string): Layer {
  return { name, bytes, volume: parseNifti(bytes, name) };
}

async function nvImageOf(layer: Layer, colormap = 'gray'): Promise<NVImage> {
  if (!layer.nvImage) {
    layer.nvImage = await NVImage.loadFromUrl({
      url: layer.bytes.slice().buffer as ArrayBuffer,
      name: layer.name.endsWith('.nii') || layer.name.endsWith('.nii.gz') ? layer.name : `${layer.name}.nii`,
      colormap,
    });
  }
  return layer.nvImage;
}

function sameGrid(a: Volume, b: Volume): boolean {
  return a.dims.every((size, axis) => size === b.dims[axis]);
}

function setImage(layer: Layer): void {
  state.image = layer;
  if (state.labels && !sameGrid(state.labels.volume, layer.volume)) {
    setStatus(
      `${layer.name} and the label map ${state.labels.name} are on different grids: label map closed`,
      true,
    );
    state.labels = undefined;
  }
}

function setLabels(layer: Layer): void {
  if (state.image && !sameGrid(state.image.volume, layer.volume)) {
    throw new Error(
      `${layer.name} is ${layer.volume.dims.join(' x ')} voxels but the image is ${state.image.volume.dims.join(' x ')}`,
    );
  }
  state.labels = layer;
  state.labelOriginal = undefined;
  const counts = new Map<number, number>();
  const data = layer.volume.data;
  for (let v = 0; v < data.length; v++) {
    const value = Math.round(data[v]!);
    if (value !== 0) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  state.labelCounts = counts;
  rebuildTable();
}

/** The label table: the file's entries for every label (present or not), plus defaults for labels it lacks. */
function rebuildTable(): void {
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

function setLabelTable(text: string, name: string): void {
  state.tableFromFile = parseLabelTable(text, name);
  rebuildTable();
}

function setSidecar(text: string, name: string): void {
  const sidecar = parseSidecar(text, name);
  state.sidecar = sidecar;
  state.model = sidecar.partialVolume ?? sidecar.model;
  state.trace = sidecar.logLikelihood;
  const preparation = sidecar.options['preparation'];
  state.modelNote = sidecar.modelProblem
    ? `No fitted curves: ${sidecar.modelProblem}`
    : preparation !== undefined && preparation !== 'none'
      ? `The model was fitted to ${String(preparation)}-prepared intensities; curves not drawn on raw intensities.`
      : '';
  if (state.modelNote.startsWith('The model')) state.model = undefined;
  rebuildTable();
}

function addProbabilityLayer(layer: Layer, abbreviation: string): void {
  state.probabilities = state.probabilities.filter((entry) => entry.abbreviation !== abbreviation);
  state.probabilities.push({
    abbreviation,
    valueAt: (voxel) => layer.volume.data[voxel] ?? Number.NaN,
    layer: () => layer,
  });
}

function probabilityAbbreviation(name: string): string {
  return /_label-([A-Za-z0-9]+)_probseg/.exec(name)?.[1] ?? name.replace(/\.nii(\.gz)?$/, '');
}

// ---------------------------------------------------------------------------------------------
// Display

const sliceTypes: Record<string, SLICE_TYPE> = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};

const opacityInput = byId('label-opacity', HTMLInputElement);
const outlineInput = byId('label-outline', HTMLInputElement);
const probabilitySelect = byId('probability-select', HTMLSelectElement);
const sliceTypeSelect = byId('slice-type', HTMLSelectElement);

/** Puts the layers into NiiVue in order: image, labels, probability map. */
async function showVolumes(): Promise<void> {
  for (const volume of [...nv.volumes].reverse()) nv.removeVolume(volume);
  const list: NVImage[] = [];
  if (state.image) list.push(await nvImageOf(state.image));
  if (state.labels) {
    const labelImage = await nvImageOf(state.labels);
    // a copy of the same type: label maps may be int16/int32 with labels above 255
    state.labelOriginal ??= (labelImage.img as unknown as { slice(): ArrayLike<number> }).slice();
    list.push(labelImage);
  }
  const probability = state.probabilities.find((entry) => entry.abbreviation === probabilitySelect.value);
  if (probability) {
    const probabilityImage = await nvImageOf(probability.layer(), 'viridis');
    probabilityImage.cal_min = 0.05;
    probabilityImage.cal_max = 1;
    list.push(probabilityImage);
  }
  for (const image of list) nv.addVolume(image);
  applyLabelDisplay();
  updateProbabilityOptions();
  renderLegend();
  updateHistogram();
  const centre = nv.frac2mm(nv.scene.crosshairPos);
  updateReadout(centre);
}

/** Applies the label colours, hidden classes, fill opacity and outline to the label overlay. */
function applyLabelDisplay(): void {
  const labelImage = state.labels?.nvImage;
  if (labelImage && state.labelOriginal) {
    const entries = state.table;
    labelImage.setColormapLabel({
      R: [0, ...entries.map((entry) => entry.colour[0])],
      G: [0, ...entries.map((entry) => entry.colour[1])],
      B: [0, ...entries.map((entry) => entry.colour[2])],
      A: [0, ...entries.map(() => 255)],
      I: [0, ...entries.map((entry) => entry.index)],
      labels: ['', ...entries.map((entry) => entry.name)],
    });
    // Hidden classes are removed from the data NiiVue draws (not just made transparent), so that
    // outline mode does not draw their borders either.
    const voxels = labelImage.img as unknown as VoxelArray;
    voxels.set(state.labelOriginal);
    if (state.hidden.size > 0) {
      for (let v = 0; v < voxels.length; v++) if (state.hidden.has(voxels[v]!)) voxels[v] = 0;
    }
    const index = nv.volumes.indexOf(labelImage);
    if (index >= 0) nv.setOpacity(index, Number(opacityInput.value));
  }
  nv.setAtlasOutline(outlineInput.checked ? 1 : 0);
  nv.updateGLVolume();
}

function updateProbabilityOptions(): void {
  const current = probabilitySelect.value;
  probabilitySelect.replaceChildren(
    element('option', { value: '' }, 'none'),
    ...state.probabilities.map((entry) =>
      element('option', { value: entry.abbreviation }, `P(${entry.abbreviation})`),
    ),
  );
  probabilitySelect.value = state.probabilities.some((entry) => entry.abbreviation === current)
    ? current
    : '';
}

function voxelMl(volume: Volume): number {
  const [sx, sy, sz] = volume.spacing;
  return (sx * sy * sz) / 1000;
}

function renderLegend(): void {
  const body = byId('legend', HTMLTableElement).tBodies[0]!;
  const millilitres = state.labels ? voxelMl(state.labels.volume) : 0;
  const rows = state.table.map((entry) => {
    const checkbox = element('input', {
      type: 'checkbox',
      checked: !state.hidden.has(entry.index),
      title: `Show or hide label ${entry.index}`,
    });
    checkbox.dataset['label'] = String(entry.index);
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) state.hidden.delete(entry.index);
      else state.hidden.add(entry.index);
      applyLabelDisplay();
    });
    const swatch = element('span', { class: 'swatch', title: formatHexColour(entry.colour) });
    swatch.style.background = formatHexColour(entry.colour);
    const count = state.labelCounts.get(entry.index) ?? 0;
    const row = element(
      'tr',
      {},
      element('td', {}, checkbox),
      element('td', {}, swatch),
      element('td', { class: 'name', title: `${entry.abbreviation} (label ${entry.index})` }, entry.name),
      element('td', { class: 'number' }, state.labels ? (count * millilitres).toFixed(2) : ''),
    );
    return row;
  });
  body.replaceChildren(...rows);
}

function componentColours(): Rgb[] {
  const k = state.model ? componentCount(state.model) : 0;
  return Array.from(
    { length: k },
    (_, n) => state.table.find((entry) => entry.index === n + 1)?.colour ?? defaultColour(n),
  );
}

function updateHistogram(): void {
  const image = state.image?.volume;
  if (image) {
    const labels = state.labels?.volume;
    const mask = labels && sameGrid(labels, image) ? labels.data : undefined;
    state.histogram = computeHistogram(image.data, mask ?? image.data);
  } else state.histogram = undefined;
  drawCharts();
}

function drawCharts(): void {
  drawHistogram(
    byId('histogram', HTMLCanvasElement),
    state.histogram,
    state.model,
    componentColours(),
    state.modelNote,
  );
  drawTrace(byId('trace', HTMLCanvasElement), state.trace.mixture, state.trace.spatial);
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

function updateReadout(mm: ArrayLike<number>): void {
  state.lastMm = mm;
  const items: [string, string][] = [];
  const reference = state.image?.volume ?? state.labels?.volume;
  if (reference) {
    const voxel = voxelIndexAt(reference, mm);
    const [nx, ny] = reference.dims;
    const where =
      voxel < 0
        ? 'outside'
        : `${voxel % nx}, ${Math.floor(voxel / nx) % ny}, ${Math.floor(voxel / (nx * ny))}`;
    items.push(['Voxel', where]);
    items.push([
      'World (mm)',
      Array.from(mm, (value) => value.toFixed(1))
        .slice(0, 3)
        .join(', '),
    ]);
    if (voxel >= 0 && state.image) items.push(['Intensity', formatNumber(state.image.volume.data[voxel]!)]);
    if (voxel >= 0 && state.labels) {
      const value = Math.round(state.labels.volume.data[voxel]!);
      const entry = state.table.find((candidate) => candidate.index === value);
      items.push(['Label', value === 0 ? '0 (background)' : `${entry?.name ?? 'unnamed'} (${value})`]);
    }
    if (voxel >= 0) {
      for (const probability of state.probabilities) {
        items.push([`P(${probability.abbreviation})`, probability.valueAt(voxel).toFixed(3)]);
      }
    }
  }
  const list = byId('readout', HTMLDListElement);
  list.replaceChildren(
    ...items.flatMap(([term, value]) => [element('dt', {}, term), element('dd', {}, value)]),
  );
}

// ---------------------------------------------------------------------------------------------
// Opening files (pickers and drag-and-drop)

async function openFiles(files: File[], role?: 'image' | 'labels' | 'probseg'): Promise<void> {
  const images: { file: File; bytes: Uint8Array }[] = [];
  for (const file of files) {
    const name = file.name;
    if (/\.tsv$/i.test(name)) setLabelTable(await file.text(), name);
    else if (/\.json$/i.test(name)) setSidecar(await file.text(), name);
    else images.push({ file, bytes: new Uint8Array(await file.arrayBuffer()) });
  }
  for (const { file, bytes } of images) {
    const layer = makeLayer(bytes, file.name);
    // a label map by its name, or an 8-bit volume dropped beside an open image
    const isLabelFile =
      /_dseg\.nii(\.gz)?$/i.test(file.name) ||
      (layer.volume.source.datatype === 'uint8' && state.image !== undefined);
    if (role === 'probseg' || /_probseg\.nii(\.gz)?$/i.test(file.name)) {
      addProbabilityLayer(layer, probabilityAbbreviation(file.name));
    } else if (role === 'labels' || isLabelFile) setLabels(layer);
    else if (role === 'image' || !state.image) {
      // A new image closes what belonged to the previous one, unless it came in the same drop.
      if (!images.some((entry) => entry !== images[0] && /_(dseg|probseg)\.nii/i.test(entry.file.name))) {
        Object.assign(state, {
          labels: undefined,
          probabilities: [],
          labelCounts: new Map(),
          segmentation: undefined,
        });
        if (!files.some((entry) => /\.json$/i.test(entry.name))) {
          Object.assign(state, {
            sidecar: undefined,
            model: undefined,
            modelNote: '',
            trace: { mixture: [], spatial: [] },
          });
        }
        rebuildTable();
      }
      setImage(layer);
    } else setLabels(layer);
  }
  byId('subject-title', HTMLSpanElement).textContent = state.image?.name ?? state.labels?.name ?? '';
  await showVolumes();
  setStatus(`Opened ${files.map((file) => file.name).join(', ')}`);
}

function wireFileInput(id: string, role?: 'image' | 'labels' | 'probseg'): void {
  const input = byId(id, HTMLInputElement);
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    if (files.length > 0) void openFiles(files, role).catch(showError);
  });
}

function showError(error: unknown): void {
  setStatus((error as Error).message ?? String(error), true);
  setPageState('error', (error as Error).message ?? String(error));
}

// ---------------------------------------------------------------------------------------------
// Results folder and study review

async function openFolder(): Promise<boolean> {
  let listing: { name: string; files: { path: string }[] };
  try {
    const response = await fetch('api/folder');
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return false;
    listing = await response.json();
  } catch {
    return false;
  }
  const files = listing.files.map((entry) => entry.path);
  state.folderFiles = files;
  const summary = files.includes('summary.tsv')
    ? parseSummary(await fetchText('data/summary.tsv'))
    : undefined;
  state.subjects = findSubjects(files, summary);
  try {
    const marks = (await (await fetch('api/review')).json()).marks as ReviewMark[];
    state.marks = new Map(marks.map((mark) => [mark.subject, mark]));
  } catch {
    state.marks = new Map();
  }
  const subjectSelect = byId('subject-select', HTMLSelectElement);
  subjectSelect.replaceChildren(
    ...state.subjects.map((subject, index) => element('option', { value: index }, subject.subject)),
  );
  byId('review-panel', HTMLElement).hidden = state.subjects.length === 0;
  setStatus(`${listing.name}: ${state.subjects.length} subject${state.subjects.length === 1 ? '' : 's'}`);
  if (state.subjects.length === 0) return true;
  const wanted = new URLSearchParams(location.search).get('subject');
  const index = Math.max(
    0,
    state.subjects.findIndex((subject) => subject.subject === wanted),
  );
  await openSubject(index);
  return true;
}

function dataUrl(path: string): string {
  return `data/${path.split('/').map(encodeURIComponent).join('/')}`;
}

async function openSubject(index: number): Promise<void> {
  if (index < 0 || index >= state.subjects.length) return;
  setPageState('loaded', '');
  state.subjectIndex = index;
  let subject = state.subjects[index]!;
  byId('subject-select', HTMLSelectElement).value = String(index);
  byId('subject-title', HTMLSpanElement).textContent = subject.subject;
  const url = new URL(location.href);
  url.searchParams.set('subject', subject.subject);
  history.replaceState(null, '', url);
  renderReview();
  Object.assign(state, {
    image: undefined,
    labels: undefined,
    probabilities: [],
    sidecar: undefined,
    model: undefined,
    modelNote: '',
    trace: { mixture: [], spatial: [] },
    tableFromFile: undefined,
    labelCounts: new Map(),
    segmentation: undefined,
  });
  if (subject.dseg === '') {
    await showVolumes();
    setStatus(`${subject.subject}: no label map in the folder (see summary.tsv's status)`, true);
    setPageState('loaded', subject.subject);
    return;
  }
  setStatus(`Loading ${subject.subject}…`);
  if (subject.sidecar) {
    setSidecar(await fetchText(dataUrl(subject.sidecar)), subject.sidecar);
    subject = subjectFiles(state.folderFiles ?? [], subject.dseg, subject.subject, state.sidecar?.inputs);
  }
  if (subject.labelTable) setLabelTable(await fetchText(dataUrl(subject.labelTable)), subject.labelTable);
  const [image, labels, ...probabilities] = await Promise.all([
    subject.image ? fetchBytes(dataUrl(subject.image)) : Promise.resolve(undefined),
    fetchBytes(dataUrl(subject.dseg)),
    ...subject.probseg.map((entry) => fetchBytes(dataUrl(entry.path))),
  ]);
  if (index !== state.subjectIndex) return; // another subject was chosen meanwhile
  if (image && subject.image) setImage(makeLayer(image, baseName(subject.image)));
  setLabels(makeLayer(labels!, baseName(subject.dseg)));
  subject.probseg.forEach((entry, n) => {
    addProbabilityLayer(makeLayer(probabilities[n]!, baseName(entry.path)), entry.abbreviation);
  });
  await showVolumes();
  const missing = subject.image ? '' : ' (image not found in the folder: labels only)';
  setStatus(`${subject.subject}: ${subject.dseg}${missing}`);
  setPageState('loaded', subject.subject);
}

function renderReview(): void {
  const subject = state.subjects[state.subjectIndex];
  const mark = subject ? state.marks.get(subject.subject) : undefined;
  byId('mark-pass', HTMLButtonElement).classList.toggle('active', mark?.status === 'pass');
  byId('mark-fail', HTMLButtonElement).classList.toggle('active', mark?.status === 'fail');
  const note = byId('review-note', HTMLTextAreaElement);
  if (document.activeElement !== note) note.value = mark?.note ?? '';
  byId('review-state', HTMLSpanElement).textContent = mark?.status
    ? `${mark.status === 'pass' ? 'passed' : 'failed'} ${mark.time ? new Date(mark.time).toLocaleString() : ''}`
    : 'not reviewed';
  const values = [...state.marks.values()].filter((entry) =>
    state.subjects.some((s) => s.subject === entry.subject),
  );
  const passed = values.filter((entry) => entry.status === 'pass').length;
  const failed = values.filter((entry) => entry.status === 'fail').length;
  byId('review-progress', HTMLParagraphElement).textContent =
    `Subject ${state.subjectIndex + 1} of ${state.subjects.length} · reviewed ${passed + failed} (${passed} pass, ${failed} fail)`;
  const select = byId('subject-select', HTMLSelectElement);
  state.subjects.forEach((entry, n) => {
    const option = select.options[n];
    const status = state.marks.get(entry.subject)?.status;
    if (option)
      option.textContent = `${status === 'pass' ? '✓ ' : status === 'fail' ? '✗ ' : ''}${entry.subject}`;
  });
}

async function saveMark(status?: ReviewStatus): Promise<void> {
  const subject = state.subjects[state.subjectIndex];
  if (!subject) return;
  const previous = state.marks.get(subject.subject);
  const body = {
    subject: subject.subject,
    status: status ?? previous?.status ?? '',
    note: byId('review-note', HTMLTextAreaElement).value,
  };
  const response = await fetch('api/review', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`saving the review mark failed: ${answer.error ?? response.status}`);
  state.marks = new Map((answer.marks as ReviewMark[]).map((mark) => [mark.subject, mark]));
  renderReview();
  setStatus(`Saved ${subject.subject}: ${body.status || 'no decision'}${body.note ? ' with a note' : ''}`);
  setPageState('saved', `${subject.subject}:${body.status}`);
}

// ---------------------------------------------------------------------------------------------
// Segmentation in a Web Worker

let worker: Worker | undefined;
let runNumber = 0;

function segmentOptions(): BrowserSegmentOptions {
  return {
    nClasses: Number(byId('segment-classes', HTMLInputElement).value),
    prior: byId('segment-prior', HTMLSelectElement).value as BrowserSegmentOptions['prior'],
    beta: Number(byId('segment-beta', HTMLInputElement).value),
  };
}

function runSegmentation(): void {
  const image = state.image;
  const progress = byId('segment-progress', HTMLProgressElement);
  const stateText = byId('segment-state', HTMLParagraphElement);
  if (!image) {
    stateText.textContent = 'Open or drop an image first.';
    return;
  }
  const options = segmentOptions();
  if (!Number.isInteger(options.nClasses) || options.nClasses < 2 || options.nClasses > 8) {
    stateText.textContent = 'Classes must be a whole number from 2 to 8.';
    return;
  }
  if (!Number.isFinite(options.beta) || options.beta < 0) {
    stateText.textContent = 'Beta must be a number of 0 or more.';
    return;
  }
  worker?.terminate();
  worker = new Worker(new URL('./segment-worker.ts', import.meta.url), { type: 'module' });
  const run = ++runNumber;
  setPageState('segment', 'running');
  progress.hidden = false;
  progress.removeAttribute('value');
  stateText.textContent = 'Starting…';
  const trace = { mixture: [] as number[], spatial: [] as number[] };
  worker.onmessage = (event: MessageEvent<SegmentMessage>) => {
    if (run !== runNumber) return;
    const message = event.data;
    switch (message.type) {
      case 'progress': {
        trace[message.stage].push(message.meanLogLikelihood);
        const stage = message.stage === 'mixture' ? 'Gaussian mixture' : `spatial prior (${options.prior})`;
        stateText.textContent = `${stage}: iteration ${message.iteration}, mean log-likelihood ${message.meanLogLikelihood.toFixed(4)}`;
        break;
      }
      case 'done':
        progress.hidden = true;
        void showSegmentation(image, message, options).catch(showError);
        break;
      case 'error':
        progress.hidden = true;
        stateText.textContent = `Segmentation failed: ${message.message}`;
        setPageState('segment', 'error');
        break;
      default: {
        const unreachable: never = message;
        throw new TypeError(`unknown worker message ${JSON.stringify(unreachable)}`);
      }
    }
  };
  worker.onerror = (event) => {
    progress.hidden = true;
    stateText.textContent = `Segmentation failed: ${event.message}`;
    setPageState('segment', 'error');
  };
  const bytes = image.bytes.slice();
  worker.postMessage({ bytes: bytes.buffer, name: image.name, options }, [bytes.buffer]);
}

async function showSegmentation(
  image: Layer,
  result: Extract<SegmentMessage, { type: 'done' }>,
  options: BrowserSegmentOptions,
): Promise<void> {
  if (state.image !== image) return;
  const stem = image.name.replace(/\.nii(\.gz)?$/i, '');
  const labelBytes = encodeNifti1(labelMapImage(result.labels, image.volume));
  state.segmentation = { labels: result.labels, stem };
  const K = options.nClasses;
  const fileTable = state.tableFromFile;
  if (!fileTable || fileTable.length !== K) {
    state.tableFromFile = result.classNames.map((name, k) => ({
      index: k + 1,
      name,
      abbreviation: name,
      colour: defaultColour(k),
    }));
  }
  state.sidecar = undefined;
  setLabels(makeLayer(labelBytes, `${stem}_dseg.nii`));
  state.probabilities = [];
  const probabilities = result.probabilities;
  if (probabilities) {
    result.classNames.forEach((name, k) => {
      let layer: Layer | undefined;
      state.probabilities.push({
        abbreviation: name,
        valueAt: (voxel) => probabilities[voxel * K + k] ?? Number.NaN,
        layer: () => {
          layer ??= makeLayer(
            encodeNifti1(classProbabilityImage(probabilities, K, k, image.volume)),
            `${stem}_label-${name}_probseg.nii`,
          );
          return layer;
        },
      });
    });
  }
  state.model = result.model;
  state.modelNote = '';
  state.trace = { mixture: result.mixtureTrace, spatial: result.spatialTrace };
  await showVolumes();
  byId('segment-download', HTMLButtonElement).disabled = false;
  const volumes = result.statistics
    .map((entry) => `${entry.name} ${entry.volumeMl.toFixed(1)} mL`)
    .join(', ');
  byId('segment-state', HTMLParagraphElement).textContent =
    `Done in ${result.seconds.toFixed(1)} s (${result.converged ? 'converged' : `stopped: ${result.stopReason}`}): ${volumes}.`;
  setStatus(`Segmented ${image.name}: ${K} classes, prior ${options.prior}, beta ${options.beta}`);
  setPageState('segment', 'done');
}

function downloadSegmentation(): void {
  const image = state.image;
  const segmentation = state.segmentation;
  if (!image || !segmentation) return;
  const bytes = encodeNifti1(labelMapImage(segmentation.labels, image.volume));
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const link = element('a', { href: url, download: `${segmentation.stem}_dseg.nii` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------------------------------------
// URL parameters

async function openFromParameters(): Promise<boolean> {
  const parameters = new URLSearchParams(location.search);
  const image = parameters.get('image');
  const labels = parameters.get('labels');
  if (!image && !labels) return false;
  const lut = parameters.get('lut');
  const sidecar = parameters.get('sidecar');
  if (sidecar) setSidecar(await fetchText(sidecar), baseName(sidecar));
  if (lut) setLabelTable(await fetchText(lut), baseName(lut));
  if (image) setImage(makeLayer(await fetchBytes(image), baseName(image)));
  if (labels) setLabels(makeLayer(await fetchBytes(labels), baseName(labels)));
  for (const url of parameters.getAll('probseg')) {
    addProbabilityLayer(
      makeLayer(await fetchBytes(url), baseName(url)),
      probabilityAbbreviation(baseName(url)),
    );
  }
  byId('subject-title', HTMLSpanElement).textContent = baseName(image ?? labels ?? '');
  await showVolumes();
  setStatus(
    `Opened ${[image, labels]
      .filter(Boolean)
      .map((url) => baseName(url!))
      .join(' and ')}`,
  );
  setPageState('loaded', baseName(image ?? labels ?? ''));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Wiring

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLInputElement && !['checkbox', 'range', 'file'].includes(target.type))
  );
}

function wire(): void {
  wireFileInput('open-image', 'image');
  wireFileInput('open-labels', 'labels');
  wireFileInput('open-probseg', 'probseg');
  wireFileInput('open-text');
  opacityInput.addEventListener('input', applyLabelDisplay);
  outlineInput.addEventListener('change', applyLabelDisplay);
  probabilitySelect.addEventListener('change', () => void showVolumes().catch(showError));
  sliceTypeSelect.addEventListener('change', () => nv.setSliceType(sliceTypes[sliceTypeSelect.value]!));
  const smooth = byId('smooth-display', HTMLInputElement);
  smooth.addEventListener('change', () => nv.setInterpolation(!smooth.checked));
  byId('previous-subject', HTMLButtonElement).addEventListener('click', () => void step(-1));
  byId('next-subject', HTMLButtonElement).addEventListener('click', () => void step(1));
  byId('subject-select', HTMLSelectElement).addEventListener('change', (event) => {
    void openSubject(Number((event.target as HTMLSelectElement).value)).catch(showError);
  });
  byId('mark-pass', HTMLButtonElement).addEventListener(
    'click',
    () => void saveMark('pass').catch(showError),
  );
  byId('mark-fail', HTMLButtonElement).addEventListener(
    'click',
    () => void saveMark('fail').catch(showError),
  );
  byId('review-note', HTMLTextAreaElement).addEventListener('change', () => void saveMark().catch(showError));
  byId('segment-run', HTMLButtonElement).addEventListener('click', runSegmentation);
  byId('segment-download', HTMLButtonElement).addEventListener('click', downloadSegmentation);
  for (const id of ['segment-classes', 'segment-prior', 'segment-beta']) {
    byId(id, HTMLElement).addEventListener('change', () => {
      if (id === 'segment-prior') {
        byId('segment-beta', HTMLInputElement).value =
          byId('segment-prior', HTMLSelectElement).value === 'mrf' ? '0.3' : '1';
      }
      if (state.segmentation) runSegmentation();
    });
  }
  document.addEventListener('keydown', (event) => {
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const actions: Record<string, () => void> = {
      j: () => void step(1),
      k: () => void step(-1),
      p: () => void saveMark('pass').catch(showError),
      f: () => void saveMark('fail').catch(showError),
      o: () => {
        outlineInput.checked = !outlineInput.checked;
        applyLabelDisplay();
      },
    };
    const action = actions[event.key];
    if (action && (state.subjects.length > 0 || event.key === 'o')) {
      event.preventDefault();
      action();
    }
  });
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) void openFiles(files).catch(showError);
  });
  window.addEventListener('resize', drawCharts);
}

async function step(delta: number): Promise<void> {
  if (state.subjects.length === 0) return;
  const note = byId('review-note', HTMLTextAreaElement);
  const subject = state.subjects[state.subjectIndex];
  if (subject && note.value !== (state.marks.get(subject.subject)?.note ?? ''))
    await saveMark().catch(showError);
  const next = Math.min(state.subjects.length - 1, Math.max(0, state.subjectIndex + delta));
  if (next !== state.subjectIndex) await openSubject(next).catch(showError);
}

async function start(): Promise<void> {
  wire();
  await nv.attachToCanvas(canvas);
  const view = new URLSearchParams(location.search).get('view') ?? 'multiplanar';
  sliceTypeSelect.value = view in sliceTypes ? view : 'multiplanar';
  nv.setSliceType(sliceTypes[sliceTypeSelect.value]!);
  nv.onLocationChange = (location) => updateReadout((location as { mm: ArrayLike<number> }).mm);
  drawCharts();
  try {
    if (!(await openFromParameters()) && !(await openFolder())) {
      setStatus('Drop an image (and its label map) on the view, or open files on the left.');
    }
  } catch (error) {
    showError(error);
  }
  setPageState('ready', 'true');
}

void start();
