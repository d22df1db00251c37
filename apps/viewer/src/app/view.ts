/**
 * Draws the state: NiiVue's layers, the legend and colour bar, the probability map chooser, the
 * readout and the charts. Whatever changes the state calls one of these afterwards.
 */
import type { NVImage } from '@niivue/niivue';
import { updateHistogram } from './charts.ts';
import { byId, element } from './dom.ts';
import {
  applyLabelDisplay,
  type LabelDisplay,
  labelImageOf,
  nvImageOf,
  probabilityColormap,
  probabilityImageOf,
  refreshOverlays,
  setVolumes,
} from './layers.ts';
import { renderColourbar, renderLegend } from './legend.ts';
import { updateReadout } from './readout.ts';
import { shownProbability, type Viewer } from './state.ts';

/** The label display chosen in the Display panel. */
export function labelDisplay(): LabelDisplay {
  return {
    opacity: Number(byId('label-opacity', HTMLInputElement).value),
    outline: byId('label-outline', HTMLInputElement).checked,
  };
}

/** Puts the state's layers into NiiVue (one refresh) and redraws everything that describes them. */
export async function showLayers(viewer: Viewer): Promise<void> {
  const { nv, state } = viewer;
  const images: NVImage[] = [];
  if (state.image) images.push(await nvImageOf(state.image));
  if (state.labels) images.push(await labelImageOf(state.labels));
  const colormap = probabilityColormap(nv, state.table);
  const probability = shownProbability(state);
  if (probability) images.push(await probabilityImageOf(probability.layer(), colormap));
  applyLabelDisplay(nv, state, labelDisplay());
  setVolumes(nv, images);
  renderLegend(state, (label, shown) => toggleLabel(viewer, label, shown));
  renderColourbar(nv, state, colormap);
  updateProbabilityOptions(viewer);
  updateHistogram(state);
  updateReadout(state, images.length > 0 ? nv.frac2mm(nv.scene.crosshairPos) : undefined);
}

/** Redraws the label overlay after a change of opacity, outline or hidden classes (the image is not touched). */
export function refreshLabels(viewer: Viewer): void {
  applyLabelDisplay(viewer.nv, viewer.state, labelDisplay());
  refreshOverlays(viewer.nv);
}

function toggleLabel(viewer: Viewer, label: number, shown: boolean): void {
  if (shown) viewer.state.hidden.delete(label);
  else viewer.state.hidden.add(label);
  refreshLabels(viewer);
}

/** Shows the probability map of a class ('' for none). */
export async function showProbability(viewer: Viewer, abbreviation: string): Promise<void> {
  viewer.state.probabilityShown = abbreviation;
  await showLayers(viewer);
}

/** Shows the next probability map (after the last: none). */
export async function cycleProbability(viewer: Viewer): Promise<void> {
  const names = ['', ...viewer.state.probabilities.map((entry) => entry.abbreviation)];
  const shown = shownProbability(viewer.state)?.abbreviation ?? '';
  await showProbability(viewer, names[(names.indexOf(shown) + 1) % names.length]!);
}

/** The probability map chooser: none, then each class's map. */
export function updateProbabilityOptions(viewer: Viewer): void {
  const select = byId('probability-select', HTMLSelectElement);
  select.replaceChildren(
    element('option', { value: '' }, 'none'),
    ...viewer.state.probabilities.map((entry) =>
      element('option', { value: entry.abbreviation }, `P(${entry.abbreviation})`),
    ),
  );
  select.value = shownProbability(viewer.state)?.abbreviation ?? '';
}
