/**
 * The readout at the crosshair: voxel indices, the voxel centre's world coordinates, the image's
 * value (and the bias-corrected value when a field or corrected image is loaded), the label and
 * each class probability, read from the page's own volumes in the file's voxel order.
 */
import { byId, element } from './dom.ts';
import { voxelAt, voxelCentre } from './geometry.ts';
import type { ViewerState } from './state.ts';

/** A number for people: integers as they are, others to 4 significant digits (1 decimal from 100). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

/** The readout's rows for world position `mm`. */
export function readoutItems(state: ViewerState, mm: ArrayLike<number>): [string, string][] {
  const items: [string, string][] = [];
  const reference = state.image?.volume ?? state.labels?.volume;
  if (!reference) return items;
  const [ijk, inside] = voxelAt(reference, mm);
  if (!inside) {
    items.push(['Voxel', 'outside the image']);
    return items;
  }
  const [nx, ny] = reference.dims;
  const voxel = ijk[0] + nx * (ijk[1] + ny * ijk[2]);
  items.push(['Voxel', ijk.join(', ')]);
  items.push([
    'World (mm)',
    voxelCentre(reference, ijk)
      .map((value) => value.toFixed(1).replace(/^-0\.0$/, '0.0'))
      .join(', '),
  ]);
  if (state.image) {
    const value = state.image.volume.data[voxel]!;
    items.push([state.imageIsCorrected ? 'Intensity (corrected)' : 'Intensity', formatNumber(value)]);
    const field = state.biasField?.volume.data[voxel];
    const restored = state.restored?.volume.data[voxel];
    if (!state.imageIsCorrected && (field !== undefined || restored !== undefined)) {
      const corrected = restored ?? (field! > 0 ? value / field! : value);
      items.push(['Corrected', formatNumber(corrected)]);
    }
  }
  if (state.labels) {
    const value = Math.round(state.labels.volume.data[voxel]!);
    const entry = state.table.find((candidate) => candidate.index === value);
    items.push(['Label', value === 0 ? '0 (background)' : `${entry?.name ?? 'unnamed'} (${value})`]);
  }
  for (const probability of state.probabilities) {
    items.push([`P(${probability.abbreviation})`, probability.valueAt(voxel).toFixed(3)]);
  }
  return items;
}

/** Shows the readout for world position `mm` (remembered for redraws). */
export function updateReadout(state: ViewerState, mm: ArrayLike<number> | undefined): void {
  state.lastMm = mm;
  const items = mm ? readoutItems(state, mm) : [];
  byId('readout', HTMLDListElement).replaceChildren(
    ...items.flatMap(([term, value]) => [element('dt', {}, term), element('dd', {}, value)]),
  );
}
