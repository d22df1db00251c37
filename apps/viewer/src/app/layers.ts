/**
 * The layers NiiVue draws: the image, the label overlay and one probability map, made into NiiVue
 * images from the files the parse workers inflated (NiiVue reads the header and the voxel bytes,
 * nothing is inflated or parsed twice).
 *
 * NiiVue redraws every layer, and recomputes the image's gradient texture for its 3-D render, on
 * each `updateGLVolume()`: a second or more per 1 mm volume on a software renderer. So the volume
 * list is set in one call, and a change to the overlays (label colours, hidden classes, opacity,
 * outline) refreshes only the overlays, never the image.
 */
import { encodeNifti1 } from '@mixseg/imaging';
import { type Niivue, NVImage } from '@niivue/niivue';
import type { LabelEntry } from './results-folder.ts';
import { shownProbability, type ViewerState } from './state.ts';
import type { Layer } from './types.ts';

/** NiiVue's COLORMAP_TYPE.ZERO_TO_MAX_TRANSPARENT_BELOW_MIN: colours from 0, nothing below cal_min. */
const ZERO_TO_MAX_TRANSPARENT_BELOW_MIN = 1;
/** Probabilities below this are not drawn. */
export const PROBABILITY_FLOOR = 0.05;

/** NiiVue's label voxels as loaded (hidden classes are zeroed in NiiVue's own copy). */
const pristineLabels = new WeakMap<NVImage, ArrayLike<number>>();

type VoxelArray = { length: number; [index: number]: number; set(values: ArrayLike<number>): void };

/** NiiVue's image of a layer, made once (from its uncompressed file, which is then let go). */
export async function nvImageOf(layer: Layer, colormap = 'gray'): Promise<NVImage> {
  if (!layer.nvImage) {
    const file = layer.file ?? encodeVolume(layer);
    const buffer =
      file.byteOffset === 0 && file.byteLength === file.buffer.byteLength
        ? (file.buffer as ArrayBuffer)
        : (file.slice().buffer as ArrayBuffer);
    const isGzip = file[0] === 0x1f && file[1] === 0x8b;
    const name = layer.name.replace(/\.nii(\.gz)?$/i, '') + (isGzip ? '.nii.gz' : '.nii');
    layer.nvImage = await NVImage.loadFromUrl({ url: buffer, name, colormap });
    layer.file = undefined;
  }
  return layer.nvImage;
}

/** A NIfTI file of a layer's volume (float32), for layers made without one. */
function encodeVolume(layer: Layer): Uint8Array {
  const { volume } = layer;
  return encodeNifti1({
    data: volume.data,
    dims: volume.dims,
    datatype: 'float32',
    geometry: volume.geometry,
  });
}

/** NiiVue's label image of a layer, with a pristine copy of its voxels for hiding classes. */
export async function labelImageOf(layer: Layer): Promise<NVImage> {
  const image = await nvImageOf(layer);
  if (!pristineLabels.has(image)) {
    // a copy of the same type: label maps may be int16/int32 with labels above 255
    pristineLabels.set(image, (image.img as unknown as { slice(): ArrayLike<number> }).slice());
  }
  return image;
}

/** NiiVue's image of a probability map: 0 to 1 in `colormap`, transparent below the floor. */
export async function probabilityImageOf(layer: Layer, colormap: string): Promise<NVImage> {
  const image = await nvImageOf(layer, colormap);
  image.colormap = colormap;
  image.cal_min = PROBABILITY_FLOOR;
  image.cal_max = 1;
  image.colormapType = ZERO_TO_MAX_TRANSPARENT_BELOW_MIN;
  image.opacity = 1;
  return image;
}

/**
 * Sets NiiVue's volumes (image first, overlays in order) with one refresh: of the overlays only
 * when the image is the one already shown.
 */
export function setVolumes(nv: Niivue, images: NVImage[]): void {
  const sameImage = images.length > 0 && nv.back === images[0] && nv.volumes[0] === images[0];
  nv.volumes = images;
  nv.back = images[0] ?? null;
  nv.overlays = images.slice(1);
  if (sameImage) refreshOverlays(nv);
  else nv.updateGLVolume();
}

/** Redraws the overlays (every layer but the image) and the scene. */
export function refreshOverlays(nv: Niivue): void {
  nv.volumes.forEach((volume, index) => {
    if (index > 0) nv.refreshLayers(volume, index);
  });
  nv.drawScene();
}

/** How the label overlay is drawn. */
export interface LabelDisplay {
  /** Fill opacity, 0 to 1. */
  opacity: number;
  outline: boolean;
}

/**
 * Applies the label colours, hidden classes, fill opacity and outline to the label overlay (its
 * NiiVue image). While a probability map is shown the labels are hidden, so that no label colour
 * can be taken for a probability. Does not redraw: call {@link refreshOverlays}.
 */
export function applyLabelDisplay(nv: Niivue, state: ViewerState, display: LabelDisplay): void {
  const labelImage = state.labels?.nvImage;
  const pristine = labelImage ? pristineLabels.get(labelImage) : undefined;
  const mapShown = shownProbability(state) !== undefined;
  nv.opts.atlasOutline = display.outline && !mapShown ? 1 : 0;
  if (!labelImage || !pristine) return;
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
  voxels.set(pristine);
  if (state.hidden.size > 0) {
    for (let v = 0; v < voxels.length; v++) if (state.hidden.has(voxels[v]!)) voxels[v] = 0;
  }
  labelImage.opacity = mapShown ? 0 : display.opacity;
}

/** Perceptual colour maps a probability map may use, in order of preference. */
const PROBABILITY_COLORMAPS = ['viridis', 'inferno', 'plasma', 'cool', 'winter'];
/** Smallest RGB distance between a map's top colour and any label colour. */
const MIN_COLOUR_DISTANCE = 100;

/**
 * The colour map for probability maps: the first of viridis, inferno, plasma, cool and winter
 * whose top colour (probability 1) is far from every label colour (viridis's yellow is close to
 * the yellow labels of Tol's palette, which the CLI uses), else the one farthest from all.
 */
export function probabilityColormap(nv: Niivue, table: readonly LabelEntry[]): string {
  const available = new Set(nv.colormaps());
  let best = 'viridis';
  let bestDistance = -1;
  for (const name of PROBABILITY_COLORMAPS) {
    if (!available.has(name)) continue;
    const top = colormapColour(nv, name, 1);
    const distance = Math.min(
      Number.POSITIVE_INFINITY,
      ...table.map((entry) => Math.hypot(...entry.colour.map((value, c) => value - top[c]!))),
    );
    if (distance >= MIN_COLOUR_DISTANCE) return name;
    if (distance > bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/** The [r, g, b] of a NiiVue colour map at `fraction` (0 to 1) of its range. */
export function colormapColour(nv: Niivue, name: string, fraction: number): [number, number, number] {
  const lut = nv.colormap(name);
  const i = Math.round(Math.min(1, Math.max(0, fraction)) * 255) * 4;
  return [lut[i]!, lut[i + 1]!, lut[i + 2]!];
}
