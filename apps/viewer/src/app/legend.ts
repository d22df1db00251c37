/**
 * The legend: one row per label (show/hide, colour, name, volume in mL), and the colour bar of the
 * probability map shown, over the view (its colours read from NiiVue's colour map, so the bar and
 * the map cannot disagree).
 */
import { voxelVolumeMl } from '@mixseg/imaging';
import type { Niivue } from '@niivue/niivue';
import { byId, element } from './dom.ts';
import { PROBABILITY_FLOOR } from './layers.ts';
import { formatHexColour } from './results-folder.ts';
import { shownProbability, type ViewerState } from './state.ts';

/** Renders the label table; `onToggle(label, shown)` runs when a check box changes. */
export function renderLegend(state: ViewerState, onToggle: (label: number, shown: boolean) => void): void {
  const body = byId('legend', HTMLTableElement).tBodies[0]!;
  const millilitres = state.labels ? voxelVolumeMl(state.labels.volume) : 0;
  const rows = state.table.map((entry) => {
    const checkbox = element('input', {
      type: 'checkbox',
      checked: !state.hidden.has(entry.index),
      title: `Show or hide label ${entry.index}`,
    });
    checkbox.dataset['label'] = String(entry.index);
    checkbox.addEventListener('change', () => onToggle(entry.index, checkbox.checked));
    const swatch = element('span', { class: 'swatch', title: formatHexColour(entry.colour) });
    swatch.style.background = formatHexColour(entry.colour);
    const count = state.labelCounts.get(entry.index) ?? 0;
    return element(
      'tr',
      {},
      element('td', {}, checkbox),
      element('td', {}, swatch),
      element('td', { class: 'name', title: `${entry.abbreviation} (label ${entry.index})` }, entry.name),
      element('td', { class: 'number' }, state.labels ? (count * millilitres).toFixed(2) : ''),
    );
  });
  body.replaceChildren(...rows);
  byId('labels-hidden-note', HTMLParagraphElement).hidden = shownProbability(state) === undefined;
}

/** Tick values of the colour bar. */
const COLOURBAR_TICKS = [0, 0.25, 0.5, 0.75, 1];

/** Shows the colour bar of the probability map shown (or hides it), in `colormap`'s colours. */
export function renderColourbar(nv: Niivue, state: ViewerState, colormap: string): void {
  const box = byId('colourbar', HTMLDivElement);
  const shown = shownProbability(state);
  box.hidden = shown === undefined;
  if (!shown) return;
  byId('colourbar-title', HTMLSpanElement).textContent =
    `P(${shown.abbreviation}) · below ${PROBABILITY_FLOOR} not drawn · labels hidden`;
  const canvas = byId('colourbar-canvas', HTMLCanvasElement);
  const width = Math.max(64, canvas.clientWidth);
  const height = Math.max(8, canvas.clientHeight);
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const lut = nv.colormap(colormap);
  for (let x = 0; x < width; x++) {
    const value = x / (width - 1);
    const i = Math.round(value * 255) * 4;
    // below the floor nothing is drawn on the image: the bar shows the view's background there
    context.fillStyle =
      value < PROBABILITY_FLOOR ? '#121318' : `rgb(${lut[i]}, ${lut[i + 1]}, ${lut[i + 2]})`;
    context.fillRect(x, 0, 1, height);
  }
  canvas.dataset['colormap'] = colormap;
  byId('colourbar-ticks', HTMLDivElement).replaceChildren(
    ...COLOURBAR_TICKS.map((tick) => {
      const label = element('span', {}, String(tick));
      label.style.left = `${tick * 100}%`;
      return label;
    }),
  );
}
