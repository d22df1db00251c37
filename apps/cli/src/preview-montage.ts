/**
 * The preview's slices: rows of axial, coronal and sagittal slices through the labelled region, in
 * the anatomical frame (see preview-frame.ts) and the neurological convention (the patient's left
 * on the picture's left, anterior up in axial slices, superior up in coronal and sagittal ones,
 * anterior on the left in sagittal ones), every plane at the same millimetre scale. The image is
 * drawn in grey, bilinearly interpolated, and each class as its outline: the pixels of a class that
 * touch a class listed before it or the background, in the class's colour, so the anatomy under the
 * labels stays visible. Also the bias field's three central slices for the legend's row.
 */
import type { AnatomicalFrame } from './preview-frame.ts';
import type { TextItem } from './preview-text.ts';

/** An RGB picture being painted: 3 bytes per pixel, rows top to bottom. */
export interface Canvas {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export type Plane = 'axial' | 'coronal' | 'sagittal';

/** The frame axes of a plane's slices and the letters at its sides. */
const PLANES: Record<
  Plane,
  {
    normal: number;
    horizontal: number;
    vertical: number;
    /** Frame indices grow to the picture's left (anterior on the left in sagittal slices). */
    flipHorizontal: boolean;
    letters: { left: string; right: string; top: string; bottom: string };
  }
> = {
  axial: { normal: 2, horizontal: 0, vertical: 1, flipHorizontal: false, letters: lettersOf('LRAP') },
  coronal: { normal: 1, horizontal: 0, vertical: 2, flipHorizontal: false, letters: lettersOf('LRSI') },
  sagittal: { normal: 0, horizontal: 1, vertical: 2, flipHorizontal: true, letters: lettersOf('APSI') },
};

function lettersOf(codes: string) {
  return { left: codes[0]!, right: codes[1]!, top: codes[2]!, bottom: codes[3]! };
}

/** Slices per plane at most. */
const SLICES_PER_PLANE = 3;
/** Image shown around the labelled region, in mm. */
const CROP_MARGIN_MM = 4;
/** Black between tiles, in pixels. */
const GAP = 4;

/** A box of frame voxels, inclusive bounds per axis (R, A, S). */
export interface Box {
  lo: [number, number, number];
  hi: [number, number, number];
}

/** One slice drawn at a place in the picture. */
export interface Tile {
  plane: Plane;
  /** Frame index along the plane's normal. */
  slice: number;
  left: number;
  top: number;
  width: number;
  height: number;
  /** Pixels per mm. */
  scale: number;
  crop: Box;
}

/** The bounding box of the labelled voxels in the frame, or the whole volume when none is labelled. */
export function labelledBox(labels: Uint8Array, frame: AnatomicalFrame, nx: number, ny: number): Box {
  const lo = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const hi = [-1, -1, -1];
  const nz = labels.length / (nx * ny);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (labels[v] === 0) continue;
        if (i < lo[0]!) lo[0] = i;
        if (i > hi[0]!) hi[0] = i;
        if (j < lo[1]!) lo[1] = j;
        if (j > hi[1]!) hi[1] = j;
        if (k < lo[2]!) lo[2] = k;
        if (k > hi[2]!) hi[2] = k;
      }
    }
  }
  const box: Box = { lo: [0, 0, 0], hi: [frame.dims[0] - 1, frame.dims[1] - 1, frame.dims[2] - 1] };
  if (hi[0]! < 0) return box;
  frame.axes.forEach(({ stored, flip }, w) => {
    const last = frame.dims[w]! - 1;
    box.lo[w] = flip ? last - hi[stored]! : lo[stored]!;
    box.hi[w] = flip ? last - lo[stored]! : hi[stored]!;
  });
  return box;
}

/** The labelled box grown by the margin, within the volume. */
function cropOf(box: Box, frame: AnatomicalFrame): Box {
  const margin = (w: number) => Math.ceil(CROP_MARGIN_MM / frame.spacing[w]!);
  return {
    lo: box.lo.map((lo, w) => Math.max(0, lo - margin(w))) as Box['lo'],
    hi: box.hi.map((hi, w) => Math.min(frame.dims[w]! - 1, hi + margin(w))) as Box['hi'],
  };
}

/** Extent of a box along a frame axis, in mm. */
function extentMm(box: Box, frame: AnatomicalFrame, axis: number): number {
  return (box.hi[axis]! - box.lo[axis]! + 1) * frame.spacing[axis]!;
}

/** The largest scale (pixels per mm) at which every plane's slice of `box` fits width x height. */
function fitScale(frame: AnatomicalFrame, box: Box, planes: Plane[], width: number, height: number): number {
  return Math.min(
    ...planes.map((plane) =>
      Math.min(
        width / extentMm(box, frame, PLANES[plane].horizontal),
        height / extentMm(box, frame, PLANES[plane].vertical),
      ),
    ),
  );
}

/** Evenly spaced slices through [lo, hi]: the quarter, middle and three-quarter positions. */
function slicesThrough(lo: number, hi: number, count: number): number[] {
  const slices = Array.from({ length: count }, (_, i) =>
    Math.round(lo + ((i + 1) * (hi - lo)) / (count + 1)),
  );
  return [...new Set(slices)];
}

/** The planes a volume has (a 2-D image: the one its slice lies in), in the order drawn. */
export function planesOf(frame: AnatomicalFrame): Plane[] {
  return (['axial', 'coronal', 'sagittal'] as const).filter((plane) => {
    const { horizontal, vertical } = PLANES[plane];
    return frame.dims[horizontal]! > 1 && frame.dims[vertical]! > 1;
  });
}

/** A row of the montage: one plane's slices, with the caption band above them. */
export interface MontageRow {
  plane: Plane;
  /** Top of the caption band and of the tiles, in pixels of the picture. */
  captionTop: number;
  tilesTop: number;
  height: number;
  tiles: Tile[];
}

/** Height of the caption band above each row of tiles. */
export const CAPTION_HEIGHT = 18;

/**
 * Places the tiles: one row per plane, up to three slices each through the labelled region, in
 * cells of width / columns pixels, every plane at the same scale (pixels per mm), no tile taller
 * than 1.25 cells (600 pixels at most).
 */
export function montageLayout(
  frame: AnatomicalFrame,
  labelled: Box,
  width: number,
  top: number,
): { rows: MontageRow[]; height: number } {
  const crop = cropOf(labelled, frame);
  const planes = planesOf(frame);
  const slices = new Map(
    planes.map((plane) => {
      const { normal } = PLANES[plane];
      return [plane, slicesThrough(labelled.lo[normal]!, labelled.hi[normal]!, SLICES_PER_PLANE)];
    }),
  );
  const columns = Math.max(1, ...planes.map((plane) => slices.get(plane)!.length));
  const cell = Math.floor(width / columns);
  const scale = fitScale(frame, crop, planes, cell - GAP, Math.min(600, 1.25 * cell));
  const rows: MontageRow[] = [];
  let y = top;
  for (const plane of planes) {
    const { horizontal, vertical } = PLANES[plane];
    const tileWidth = Math.max(1, Math.round(scale * extentMm(crop, frame, horizontal)));
    const tileHeight = Math.max(1, Math.round(scale * extentMm(crop, frame, vertical)));
    const row: MontageRow = {
      plane,
      captionTop: y,
      tilesTop: y + CAPTION_HEIGHT,
      height: CAPTION_HEIGHT + tileHeight + GAP,
      tiles: [],
    };
    const planeSlices = slices.get(plane)!;
    // the row's tiles centred as a group
    const rowLeft = Math.floor((width - planeSlices.length * cell) / 2);
    planeSlices.forEach((slice, c) => {
      row.tiles.push({
        plane,
        slice,
        left: rowLeft + c * cell + Math.floor((cell - tileWidth) / 2),
        top: row.tilesTop + Math.floor(GAP / 2),
        width: tileWidth,
        height: tileHeight,
        scale,
        crop,
      });
    });
    rows.push(row);
    y += row.height;
  }
  return { rows, height: y - top };
}

/**
 * For each pixel of a tile, the frame voxel coordinates it samples (continuous: voxel centres at
 * integers) along the plane's horizontal and vertical axes.
 */
function tileCoordinates(tile: Tile, frame: AnatomicalFrame) {
  const { horizontal, vertical, flipHorizontal } = PLANES[tile.plane];
  const perVoxelH = tile.scale * frame.spacing[horizontal]!;
  const perVoxelV = tile.scale * frame.spacing[vertical]!;
  const along = new Float64Array(tile.width);
  for (let px = 0; px < tile.width; px++) {
    const offset = (px + 0.5) / perVoxelH;
    along[px] = flipHorizontal
      ? tile.crop.hi[horizontal]! + 0.5 - offset
      : tile.crop.lo[horizontal]! - 0.5 + offset;
  }
  const down = new Float64Array(tile.height);
  // superior / anterior up: the top row is the box's high end
  for (let py = 0; py < tile.height; py++) down[py] = tile.crop.hi[vertical]! + 0.5 - (py + 0.5) / perVoxelV;
  return { horizontal, vertical, along, down };
}

/** The stored voxel index of frame position `position`. */
function indexOf(frame: AnatomicalFrame, position: readonly number[]): number {
  return (
    frame.offset +
    position[0]! * frame.strides[0] +
    position[1]! * frame.strides[1] +
    position[2]! * frame.strides[2]
  );
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * Paints a tile: the image in grey (bilinear, `window` to 0..255) and each label's outline in its
 * class colour (`colours[label - 1]`).
 */
export function paintTile(
  canvas: Canvas,
  tile: Tile,
  frame: AnatomicalFrame,
  data: ArrayLike<number>,
  labels: Uint8Array,
  window: readonly [number, number],
  colours: readonly (readonly [number, number, number])[],
): void {
  const { horizontal, vertical, along, down } = tileCoordinates(tile, frame);
  const { normal } = PLANES[tile.plane];
  const position = [0, 0, 0];
  position[normal] = tile.slice;
  const lastH = frame.dims[horizontal]! - 1;
  const lastV = frame.dims[vertical]! - 1;
  const [low, high] = window;
  const tileLabels = new Uint8Array(tile.width * tile.height);
  const value = (h: number, v: number) => {
    position[horizontal] = h;
    position[vertical] = v;
    const x = data[indexOf(frame, position)]!;
    return Number.isFinite(x) ? x : low;
  };
  for (let py = 0; py < tile.height; py++) {
    const cv = clamp(down[py]!, 0, lastV);
    const v0 = Math.floor(cv);
    const v1 = Math.min(v0 + 1, lastV);
    const tv = cv - v0;
    for (let px = 0; px < tile.width; px++) {
      const ch = clamp(along[px]!, 0, lastH);
      const h0 = Math.floor(ch);
      const h1 = Math.min(h0 + 1, lastH);
      const th = ch - h0;
      const interpolated =
        (1 - tv) * ((1 - th) * value(h0, v0) + th * value(h1, v0)) +
        tv * ((1 - th) * value(h0, v1) + th * value(h1, v1));
      const grey = Math.round(clamp(((interpolated - low) * 255) / (high - low), 0, 255));
      const pixel = ((tile.top + py) * canvas.width + tile.left + px) * 3;
      canvas.pixels[pixel] = grey;
      canvas.pixels[pixel + 1] = grey;
      canvas.pixels[pixel + 2] = grey;
      position[horizontal] = Math.round(ch);
      position[vertical] = Math.round(cv);
      tileLabels[py * tile.width + px] = labels[indexOf(frame, position)]!;
    }
  }
  // a class's outline: its pixels next to a smaller label (a class before it, or the background)
  for (let py = 0; py < tile.height; py++) {
    for (let px = 0; px < tile.width; px++) {
      const at = py * tile.width + px;
      const label = tileLabels[at]!;
      if (label === 0) continue;
      const edge =
        (px > 0 && tileLabels[at - 1]! < label) ||
        (px + 1 < tile.width && tileLabels[at + 1]! < label) ||
        (py > 0 && tileLabels[at - tile.width]! < label) ||
        (py + 1 < tile.height && tileLabels[at + tile.width]! < label);
      const colour = colours[label - 1];
      if (!edge || !colour) continue;
      const pixel = ((tile.top + py) * canvas.width + tile.left + px) * 3;
      canvas.pixels[pixel] = colour[0];
      canvas.pixels[pixel + 1] = colour[1];
      canvas.pixels[pixel + 2] = colour[2];
    }
  }
}

/** The letters at a tile's four sides, white with a dark halo; none on a tile too small for them. */
export function tileLetters(tile: Tile): TextItem[] {
  if (tile.width < 40 || tile.height < 40) return [];
  const { letters } = PLANES[tile.plane];
  const size = 12;
  const middle = tile.top + tile.height / 2 + size * 0.35;
  const common = { size, bold: true, fill: '#ffffff', halo: true };
  return [
    { ...common, text: letters.left, x: tile.left + 4, y: middle },
    { ...common, text: letters.right, x: tile.left + tile.width - 4, y: middle, anchor: 'end' },
    {
      ...common,
      text: letters.top,
      x: tile.left + tile.width / 2,
      y: tile.top + 4 + size * 0.93,
      anchor: 'middle',
    },
    {
      ...common,
      text: letters.bottom,
      x: tile.left + tile.width / 2,
      y: tile.top + tile.height - 5,
      anchor: 'middle',
    },
  ];
}

/** The frame axis along a plane's normal. */
export function normalAxis(plane: Plane): number {
  return PLANES[plane].normal;
}

/**
 * Paints the central slice of each plane with `colour(value)` for the voxels where `inside` holds
 * and leaves the rest as it is; the tiles share one scale fitting `cellWidth` x `cellHeight` cells.
 */
export function paintCentralSlices(
  canvas: Canvas,
  frame: AnatomicalFrame,
  labelled: Box,
  area: { left: number; top: number; cellWidth: number; cellHeight: number },
  field: ArrayLike<number>,
  inside: (stored: number) => boolean,
  colour: (value: number) => readonly [number, number, number],
): Tile[] {
  const planes = planesOf(frame);
  const scale = fitScale(frame, labelled, planes, area.cellWidth - GAP, area.cellHeight - GAP);
  return planes.map((plane, c) => {
    const { horizontal, vertical, normal } = PLANES[plane];
    const width = Math.max(1, Math.round(scale * extentMm(labelled, frame, horizontal)));
    const height = Math.max(1, Math.round(scale * extentMm(labelled, frame, vertical)));
    const tile: Tile = {
      plane,
      slice: Math.round((labelled.lo[normal]! + labelled.hi[normal]!) / 2),
      left: area.left + c * area.cellWidth + Math.floor((area.cellWidth - width) / 2),
      top: area.top + Math.floor((area.cellHeight - height) / 2),
      width,
      height,
      scale,
      crop: labelled,
    };
    const coordinates = tileCoordinates(tile, frame);
    const position = [0, 0, 0];
    position[normal] = tile.slice;
    for (let py = 0; py < height; py++) {
      position[coordinates.vertical] = clamp(Math.round(coordinates.down[py]!), 0, frame.dims[vertical]! - 1);
      for (let px = 0; px < width; px++) {
        position[coordinates.horizontal] = clamp(
          Math.round(coordinates.along[px]!),
          0,
          frame.dims[horizontal]! - 1,
        );
        const stored = indexOf(frame, position);
        if (!inside(stored)) continue;
        const [r, g, b] = colour(field[stored]!);
        const pixel = ((tile.top + py) * canvas.width + tile.left + px) * 3;
        canvas.pixels[pixel] = r;
        canvas.pixels[pixel + 1] = g;
        canvas.pixels[pixel + 2] = b;
      }
    }
    return tile;
  });
}
