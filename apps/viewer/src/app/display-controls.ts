/**
 * The display controls: the view (multiplanar, one plane, 3-D render), smoothing, the left-right
 * convention (neurological: the subject's left on the screen's left; radiological: on the right;
 * the one in use is written over the view) and the image's intensity window (min and max, kept in
 * step with NiiVue's right-drag windowing).
 */
import { SLICE_TYPE } from '@niivue/niivue';
import { byId } from './dom.ts';
import type { Viewer } from './state.ts';

/** The views of the View menu and the `view` URL parameter. */
export const SLICE_TYPES: Record<string, SLICE_TYPE> = {
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  render: SLICE_TYPE.RENDER,
};

/** Sets the view by name (multiplanar when unknown). */
export function setView(viewer: Viewer, name: string): void {
  const select = byId('slice-type', HTMLSelectElement);
  select.value = name in SLICE_TYPES ? name : 'multiplanar';
  viewer.nv.setSliceType(SLICE_TYPES[select.value]!);
}

/** Shows the subject's left on the screen's right (radiological) or left (neurological). */
export function setRadiological(viewer: Viewer, radiological: boolean): void {
  byId('convention', HTMLSelectElement).value = radiological ? 'radiological' : 'neurological';
  viewer.nv.setRadiologicalConvention(radiological);
  const badge = byId('convention-badge', HTMLDivElement);
  badge.textContent = radiological
    ? 'Radiological: subject’s left on screen right'
    : 'Neurological: subject’s left on screen left';
  badge.dataset['convention'] = radiological ? 'radiological' : 'neurological';
}

/** Switches between the radiological and neurological conventions. */
export function toggleConvention(viewer: Viewer): void {
  setRadiological(viewer, !viewer.nv.opts.isRadiologicalConvention);
}

/** Fills the window inputs from the image shown (empty without one). */
export function syncWindow(viewer: Viewer): void {
  const image = viewer.nv.back;
  const min = byId('window-min', HTMLInputElement);
  const max = byId('window-max', HTMLInputElement);
  min.value = image ? formatWindow(image.cal_min ?? 0) : '';
  max.value = image ? formatWindow(image.cal_max ?? 0) : '';
  for (const input of [min, max, byId('window-auto', HTMLButtonElement)]) input.disabled = !image;
}

function formatWindow(value: number): string {
  return String(Number(value.toPrecision(5)));
}

/** Sets the image's intensity window (values at or below min black, at or above max white). */
export function setWindow(viewer: Viewer, min: number, max: number): void {
  const image = viewer.nv.back;
  if (!image || !Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) {
    syncWindow(viewer);
    return;
  }
  image.cal_min = min;
  image.cal_max = max;
  viewer.nv.updateGLVolume();
  syncWindow(viewer);
}

/** Resets the window to the image's robust range (NiiVue's 2nd to 98th percentile). */
export function autoWindow(viewer: Viewer): void {
  const image = viewer.nv.back;
  if (image)
    setWindow(viewer, image.robust_min ?? image.global_min ?? 0, image.robust_max ?? image.global_max ?? 1);
}

/** Wires the Display panel's view, smoothing, convention and window controls. */
export function wireDisplayControls(viewer: Viewer): void {
  const { nv } = viewer;
  const sliceType = byId('slice-type', HTMLSelectElement);
  sliceType.addEventListener('change', () => setView(viewer, sliceType.value));
  const smooth = byId('smooth-display', HTMLInputElement);
  smooth.addEventListener('change', () => nv.setInterpolation(!smooth.checked));
  const convention = byId('convention', HTMLSelectElement);
  convention.addEventListener('change', () => setRadiological(viewer, convention.value === 'radiological'));
  const min = byId('window-min', HTMLInputElement);
  const max = byId('window-max', HTMLInputElement);
  const apply = () => setWindow(viewer, Number(min.value), Number(max.value));
  min.addEventListener('change', apply);
  max.addEventListener('change', apply);
  byId('window-auto', HTMLButtonElement).addEventListener('click', () => autoWindow(viewer));
  // NiiVue's right-drag windowing changes the image's window: keep the inputs in step
  nv.onIntensityChange = () => syncWindow(viewer);
}
