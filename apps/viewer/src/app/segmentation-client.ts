/**
 * Segmentation in the browser: the image shown goes to a Web Worker (segment-worker.ts) that runs
 * @mixseg/imaging's segment(); its label map and probability maps replace the ones shown, and the
 * label map can be downloaded as NIfTI.
 */
import {
  classProbabilityImage,
  encodeNifti1,
  labelMapImage,
  type NiftiImage,
  type Volume,
} from '@mixseg/imaging';
import { byId, element } from './dom.ts';
import { defaultColour } from './results-folder.ts';
import { renderReview } from './review.ts';
import type { BrowserSegmentOptions, SegmentMessage, SegmentRequest } from './segment-protocol.ts';
import { setLabels, type Viewer } from './state.ts';
import { setPageState, setStatus, showError } from './status.ts';
import type { Layer } from './types.ts';
import { showLayers } from './view.ts';

let worker: Worker | undefined;
let runNumber = 0;

function segmentOptions(): BrowserSegmentOptions {
  return {
    nClasses: Number(byId('segment-classes', HTMLInputElement).value),
    prior: byId('segment-prior', HTMLSelectElement).value as BrowserSegmentOptions['prior'],
    beta: Number(byId('segment-beta', HTMLInputElement).value),
  };
}

/** Segments the image shown with the options of the panel (stopping a run still going). */
export function runSegmentation(viewer: Viewer): void {
  const image = viewer.state.image;
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
  worker.onmessage = (event: MessageEvent<SegmentMessage>) => {
    if (run !== runNumber) return;
    const message = event.data;
    switch (message.type) {
      case 'progress': {
        const stage = message.stage === 'mixture' ? 'Gaussian mixture' : `spatial prior (${options.prior})`;
        stateText.textContent = `${stage}: iteration ${message.iteration}, mean log-likelihood ${message.meanLogLikelihood.toFixed(4)}`;
        break;
      }
      case 'done':
        progress.hidden = true;
        void showSegmentation(viewer, image, message, options).catch(showError);
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
  // the volume is copied into the worker: the page keeps its own
  const request: SegmentRequest = { image: image.volume, name: image.name, options };
  worker.postMessage(request);
}

/** A layer made in the page: its volume on the reference's grid, and its NIfTI file for NiiVue. */
function layerFromImage(image: NiftiImage, reference: Volume, name: string): Layer {
  const volume: Volume = {
    ...reference,
    data: image.data instanceof Float32Array ? image.data : Float32Array.from(image.data),
    source: { ...reference.source, path: name, datatype: image.datatype },
  };
  return { name, volume, file: encodeNifti1(image) };
}

async function showSegmentation(
  viewer: Viewer,
  image: Layer,
  result: Extract<SegmentMessage, { type: 'done' }>,
  options: BrowserSegmentOptions,
): Promise<void> {
  const { state, study } = viewer;
  if (state.image !== image) return;
  const stem = image.name.replace(/\.nii(\.gz)?$/i, '');
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
  state.restored = undefined;
  state.biasField = result.biasField
    ? { name: `${stem}_desc-biasfield.nii`, volume: { ...image.volume, data: result.biasField } }
    : undefined;
  setLabels(
    state,
    layerFromImage(labelMapImage(result.labels, image.volume), image.volume, `${stem}_dseg.nii`),
  );
  state.probabilities = [];
  const probabilities = result.probabilities;
  if (probabilities) {
    result.classNames.forEach((name, k) => {
      let layer: Layer | undefined;
      state.probabilities.push({
        abbreviation: name,
        valueAt: (voxel) => probabilities[voxel * K + k] ?? Number.NaN,
        layer: () => {
          layer ??= layerFromImage(
            classProbabilityImage(probabilities, K, k, image.volume),
            image.volume,
            `${stem}_label-${name}_probseg.nii`,
          );
          return layer;
        },
      });
    });
  }
  state.model = result.model;
  state.modelIsCorrected = result.modelIsCorrected;
  state.modelNote = '';
  state.trace = { mixture: result.mixtureTrace, spatial: result.spatialTrace };
  // the labels on screen are no longer the folder's: review marks wait for a subject to be chosen
  study.displayed = undefined;
  renderReview(study);
  await showLayers(viewer);
  byId('segment-download', HTMLButtonElement).disabled = false;
  const volumes = result.statistics
    .map((entry) => `${entry.name} ${entry.volumeMl.toFixed(1)} mL`)
    .join(', ');
  byId('segment-state', HTMLParagraphElement).textContent =
    `Done in ${result.seconds.toFixed(1)} s (${result.converged ? 'converged' : `stopped: ${result.stopReason}`}): ${volumes}.`;
  setStatus(`Segmented ${image.name}: ${K} classes, prior ${options.prior}, beta ${options.beta}`);
  setPageState('segment', 'done');
}

/** Downloads the browser's label map as `<stem>_dseg.nii`. */
export function downloadSegmentation(viewer: Viewer): void {
  const { image, segmentation } = viewer.state;
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

/** Re-runs the segmentation when an option changes after a first run. */
export function rerunOnOptionChange(viewer: Viewer): void {
  for (const id of ['segment-classes', 'segment-prior', 'segment-beta']) {
    byId(id, HTMLElement).addEventListener('change', () => {
      if (id === 'segment-prior') {
        byId('segment-beta', HTMLInputElement).value =
          byId('segment-prior', HTMLSelectElement).value === 'mrf' ? '0.3' : '1';
      }
      if (viewer.state.segmentation) runSegmentation(viewer);
    });
  }
}
