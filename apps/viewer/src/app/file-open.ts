/**
 * Opening files without a results folder: files dropped on the page or chosen with the pickers,
 * and URL parameters (`image`, `labels`, `probseg` (repeatable), `lut`, `sidecar`, `biasfield`).
 * Every NIfTI file is parsed once, in a parse worker.
 */
import { byId } from './dom.ts';
import { loadNifti } from './nifti-client.ts';
import { renderReview } from './review.ts';
import {
  addProbabilityLayer,
  baseName,
  clearSubject,
  probabilityAbbreviation,
  rebuildTable,
  setImage,
  setLabels,
  setLabelTable,
  setSidecarText,
  type Viewer,
} from './state.ts';
import { setPageState, setStatus, showViewError, showViewMessage } from './status.ts';
import type { Layer } from './types.ts';
import { showLayers } from './view.ts';

/** What a NIfTI file is taken for. */
export type FileRole = 'image' | 'labels' | 'probseg';

const BIAS_FIELD = /_desc-biasfield\d*(_[A-Za-z0-9]+)?\.nii(\.gz)?$/i;
const RESTORED = /_desc-restore\d*(_[A-Za-z0-9]+)?\.nii(\.gz)?$/i;

async function fileLayer(file: File): Promise<Layer> {
  const { volume, file: nifti } = await loadNifti(
    { bytes: new Uint8Array(await file.arrayBuffer()) },
    file.name,
  );
  return { name: file.name, volume, file: nifti };
}

/**
 * Opens dropped or picked files: tables and sidecars by extension, NIfTI files by name
 * (`_dseg`, `_probseg`, `_desc-biasfield`), by `role`, or else as the image (an 8-bit volume
 * dropped beside an open image is taken for a label map).
 */
export async function openFiles(viewer: Viewer, files: File[], role?: FileRole): Promise<void> {
  const { state, study } = viewer;
  showViewMessage(`Opening ${files.map((file) => file.name).join(', ')}…`, 'loading');
  const images: { file: File; layer: Layer }[] = [];
  for (const file of files) {
    const name = file.name;
    if (/\.tsv$/i.test(name)) setLabelTable(state, await file.text(), name);
    else if (/\.json$/i.test(name)) setSidecarText(state, await file.text(), name);
    else images.push({ file, layer: await fileLayer(file) });
  }
  const messages: string[] = [];
  for (const { file, layer } of images) {
    const isLabelFile =
      /_dseg\.nii(\.gz)?$/i.test(file.name) ||
      (layer.volume.source.datatype === 'uint8' && state.image !== undefined);
    if (role === 'probseg' || /_probseg\.nii(\.gz)?$/i.test(file.name)) {
      addProbabilityLayer(state, layer, probabilityAbbreviation(file.name));
    } else if (!role && BIAS_FIELD.test(file.name)) state.biasField = layer;
    else if (role === 'labels' || isLabelFile) setLabels(state, layer);
    else if (role === 'image' || !state.image) {
      // A new image closes what belonged to the previous one, unless it came in the same drop.
      const companions = images.some(
        (entry) => entry !== images[0] && /_(dseg|probseg)\.nii/i.test(entry.file.name),
      );
      if (!companions) {
        const keepSidecar = files.some((entry) => /\.json$/i.test(entry.name));
        const { sidecar, model, modelIsCorrected, modelNote, trace, tableFromFile } = state;
        clearSubject(state);
        state.tableFromFile = tableFromFile;
        if (keepSidecar) Object.assign(state, { sidecar, model, modelIsCorrected, modelNote, trace });
        rebuildTable(state);
      }
      const closed = setImage(state, layer, RESTORED.test(file.name));
      if (closed) messages.push(closed);
    } else setLabels(state, layer);
  }
  // what is on screen is no longer a subject of the folder: review marks wait for one
  study.displayed = undefined;
  if (study.subjects.length > 0) renderReview(study);
  byId('subject-title', HTMLSpanElement).textContent = state.image?.name ?? state.labels?.name ?? '';
  await showLayers(viewer);
  showViewMessage(undefined);
  if (messages.length > 0) setStatus(messages.join(' · '), true);
  else setStatus(`Opened ${files.map((file) => file.name).join(', ')}`);
  setPageState('loaded', state.image?.name ?? state.labels?.name ?? '');
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok)
    throw new Error(`${baseName(url)}: the server answered ${response.status} ${response.statusText}`);
  return response.text();
}

async function urlLayer(url: string): Promise<Layer> {
  const name = baseName(url);
  const { volume, file } = await loadNifti({ url }, name);
  return { name, volume, file };
}

/** Opens the files named by URL parameters; false when there are none. */
export async function openFromParameters(viewer: Viewer): Promise<boolean> {
  const { state } = viewer;
  const parameters = new URLSearchParams(location.search);
  const image = parameters.get('image');
  const labels = parameters.get('labels');
  if (!image && !labels) return false;
  const names = [image, labels].filter((url): url is string => Boolean(url)).map(baseName);
  showViewMessage(`Opening ${names.join(' and ')}…`, 'loading');
  const lut = parameters.get('lut');
  const sidecar = parameters.get('sidecar');
  const field = parameters.get('biasfield');
  const probseg = parameters.getAll('probseg');
  // fetched and parsed in parallel, in the parse workers
  const [imageLayer, labelLayer, fieldLayer, ...maps] = await Promise.all([
    image ? urlLayer(image) : undefined,
    labels ? urlLayer(labels) : undefined,
    field ? urlLayer(field) : undefined,
    ...probseg.map(urlLayer),
  ]);
  if (sidecar) setSidecarText(state, await fetchText(sidecar), baseName(sidecar));
  if (lut) setLabelTable(state, await fetchText(lut), baseName(lut));
  if (imageLayer) setImage(state, imageLayer, RESTORED.test(imageLayer.name));
  if (labelLayer) setLabels(state, labelLayer);
  state.biasField = fieldLayer;
  maps.forEach((layer) => {
    if (layer) addProbabilityLayer(state, layer, probabilityAbbreviation(layer.name));
  });
  byId('subject-title', HTMLSpanElement).textContent = names[0] ?? '';
  await showLayers(viewer);
  showViewMessage(undefined);
  setStatus(`Opened ${names.join(' and ')}`);
  setPageState('loaded', names[0] ?? '');
  return true;
}

/** Opens the files of a file input when they change. */
export function wireFileInput(viewer: Viewer, id: string, role?: FileRole): void {
  const input = byId(id, HTMLInputElement);
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    if (files.length > 0) void openFiles(viewer, files, role).catch((error) => showViewError(error));
  });
}
