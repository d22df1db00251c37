/**
 * The viewer page: NiiVue shows the image, the label overlay and a probability map; everything
 * else (legend, readout, histogram, review, in-browser segmentation) is plain DOM and 2-D canvas,
 * fed by the page's own parsed volumes (@mixseg/imaging's parseNifti, run once per file in a parse
 * worker), so that the numbers shown are the file's voxel values in the file's voxel order.
 *
 * Sources, in order: URL parameters (`image`, `labels`, `probseg` (repeatable), `lut`, `sidecar`,
 * `biasfield`, `view`, `subject`), else the results folder served by `mixseg view` (`api/folder`,
 * `data/...`); then files dropped on the page or opened with the pickers.
 *
 * This file creates NiiVue and the state and wires the modules: state.ts (what is shown),
 * subject-loader.ts and study.ts (the results folder), view.ts with layers.ts, legend.ts,
 * readout.ts and charts.ts (drawing), review.ts, segmentation-client.ts, file-open.ts,
 * display-controls.ts and shortcuts.ts.
 */
import { DRAG_MODE, Niivue, SHOW_RENDER } from '@niivue/niivue';
import { drawCharts } from './charts.ts';
import {
  autoWindow,
  setRadiological,
  setView,
  syncWindow,
  toggleConvention,
  wireDisplayControls,
} from './display-controls.ts';
import { byId } from './dom.ts';
import { openFiles, openFromParameters, wireFileInput } from './file-open.ts';
import { updateReadout } from './readout.ts';
import { saveMark } from './review.ts';
import { downloadSegmentation, rerunOnOptionChange, runSegmentation } from './segmentation-client.ts';
import { renderHelp, type Shortcut, showHelp, wireShortcuts } from './shortcuts.ts';
import { createStudyState, createViewerState, type Viewer } from './state.ts';
import { setPageState, setStatus, showError, showViewError, showViewMessage } from './status.ts';
import { openFolder, openSubject, step } from './study.ts';
import { cycleProbability, refreshLabels, showProbability } from './view.ts';

const nv = new Niivue({
  backColor: [0.07, 0.075, 0.094, 1],
  crosshairColor: [1, 0.85, 0.2, 0.8],
  crosshairWidth: 0.3,
  crosshairWidthUnit: 'percent',
  dragAndDropEnabled: false,
  // True voxels by default (as FSLeyes): a thin label ring keeps its exact colour.
  isNearestInterpolation: true,
  // Clicks land on voxel centres, the positions the readout reports.
  isForceMouseClickToVoxelCenters: true,
  show3Dcrosshair: true,
  isColorbar: false,
  multiplanarForceRender: false,
  // Three planes, as FSLeyes's ortho view; the 3-D render is a view of its own.
  multiplanarShowRender: SHOW_RENDER.NEVER,
  // Left: crosshair; right: window/level; middle: pan.
  mouseEventConfig: {
    leftButton: { primary: DRAG_MODE.crosshair },
    rightButton: DRAG_MODE.windowing,
    centerButton: DRAG_MODE.pan,
  },
  // The page says what it is doing (over the view), and owns the keys.
  loadingText: '',
  clipPlaneHotKey: '',
  cycleClipPlaneHotKey: '',
  viewModeHotKey: '',
});

const viewer: Viewer = { nv, state: createViewerState(), study: createStudyState() };

const labelOpacity = byId('label-opacity', HTMLInputElement);
const labelOutline = byId('label-outline', HTMLInputElement);

function toggleOutline(): void {
  labelOutline.checked = !labelOutline.checked;
  refreshLabels(viewer);
}

/** The keyboard shortcuts (the help overlay is made from this table). */
const shortcuts: Shortcut[] = [
  {
    keys: ['j'],
    label: 'j',
    description: 'next subject',
    action: () => void step(viewer, 1),
    needsStudy: true,
  },
  {
    keys: ['k'],
    label: 'k',
    description: 'previous subject',
    action: () => void step(viewer, -1),
    needsStudy: true,
  },
  {
    keys: ['p'],
    label: 'p',
    description: 'mark the subject on screen as passed',
    action: () => void saveMark(viewer.study, { status: 'pass' }).catch(showError),
    needsStudy: true,
  },
  {
    keys: ['f'],
    label: 'f',
    description: 'mark the subject on screen as failed',
    action: () => void saveMark(viewer.study, { status: 'fail' }).catch(showError),
    needsStudy: true,
  },
  { keys: ['o'], label: 'o', description: 'label outlines on or off', action: toggleOutline },
  {
    keys: ['m'],
    label: 'm',
    description: 'next probability map (labels hidden while one is shown), then none',
    action: () => void cycleProbability(viewer).catch(showError),
  },
  {
    keys: ['r'],
    label: 'r',
    description: 'radiological or neurological left-right convention',
    action: () => toggleConvention(viewer),
  },
  { keys: ['w'], label: 'w', description: 'reset the intensity window', action: () => autoWindow(viewer) },
  { keys: ['?', 'h'], label: '? or h', description: 'this help (Esc closes it)', action: () => showHelp() },
];

function wire(): void {
  wireFileInput(viewer, 'open-image', 'image');
  wireFileInput(viewer, 'open-labels', 'labels');
  wireFileInput(viewer, 'open-probseg', 'probseg');
  wireFileInput(viewer, 'open-text');
  wireDisplayControls(viewer);
  labelOpacity.addEventListener('input', () => refreshLabels(viewer));
  labelOutline.addEventListener('change', () => refreshLabels(viewer));
  const probabilitySelect = byId('probability-select', HTMLSelectElement);
  probabilitySelect.addEventListener('change', () => {
    void showProbability(viewer, probabilitySelect.value).catch(showError);
  });
  byId('previous-subject', HTMLButtonElement).addEventListener('click', () => void step(viewer, -1));
  byId('next-subject', HTMLButtonElement).addEventListener('click', () => void step(viewer, 1));
  byId('subject-select', HTMLSelectElement).addEventListener('change', (event) => {
    void openSubject(viewer, Number((event.target as HTMLSelectElement).value)).catch(showError);
  });
  byId('mark-pass', HTMLButtonElement).addEventListener('click', () => {
    void saveMark(viewer.study, { status: 'pass' }).catch(showError);
  });
  byId('mark-fail', HTMLButtonElement).addEventListener('click', () => {
    void saveMark(viewer.study, { status: 'fail' }).catch(showError);
  });
  byId('review-note', HTMLTextAreaElement).addEventListener('change', () => {
    void saveMark(viewer.study).catch(showError);
  });
  byId('segment-run', HTMLButtonElement).addEventListener('click', () => runSegmentation(viewer));
  byId('segment-download', HTMLButtonElement).addEventListener('click', () => downloadSegmentation(viewer));
  rerunOnOptionChange(viewer);
  renderHelp(shortcuts);
  wireShortcuts(shortcuts, () => viewer.study.subjects.length > 0);
  byId('help-button', HTMLButtonElement).addEventListener('click', () => showHelp());
  byId('help-close', HTMLButtonElement).addEventListener('click', () => showHelp(false));
  const message = byId('view-message', HTMLDivElement);
  message.addEventListener('click', () => {
    if (message.className !== 'loading') showViewMessage(undefined);
  });
  wireDragAndDrop();
  window.addEventListener('resize', () => drawCharts(viewer.state));
}

function wireDragAndDrop(): void {
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
    if (files.length > 0) void openFiles(viewer, files).catch((error) => showViewError(error));
  });
}

async function start(): Promise<void> {
  wire();
  await nv.attachToCanvas(byId('gl', HTMLCanvasElement));
  const parameters = new URLSearchParams(location.search);
  setView(viewer, parameters.get('view') ?? 'multiplanar');
  setRadiological(viewer, parameters.get('convention') === 'radiological');
  nv.onLocationChange = (location) => updateReadout(viewer.state, (location as { mm: ArrayLike<number> }).mm);
  nv.onImageLoaded = () => syncWindow(viewer);
  nv.onMouseUp = () => syncWindow(viewer);
  nv.onVolumeUpdated = () => syncWindow(viewer);
  drawCharts(viewer.state);
  try {
    if (!(await openFromParameters(viewer)) && !(await openFolder(viewer))) {
      const text = 'Drop an image (and its label map) on the view, or open files on the left.';
      setStatus(text);
      showViewMessage(text, 'info');
    }
  } catch (error) {
    showViewError(error);
  }
  setPageState('ready', 'true');
}

void start();
