/**
 * 2-D raster images out through sharp: label maps as greyscale PNGs holding the raw values, and
 * overlays of labels on a slice for people to look at. Orientation as raster-reader.ts: y points
 * up, so the top row of the picture is the last y row of the volume, and a label map written here
 * reads back voxel for voxel.
 */
import sharp, { type Sharp } from 'sharp';
import { percentile } from '../percentile.ts';
import type { Volume } from '../types.ts';
import { ImageFileError } from '../types.ts';
import { writeFileAtomic } from './atomic-write.ts';

/** An RGB colour, each component 0..255. */
export type RgbColour = readonly [number, number, number];

/**
 * The default overlay colours, indexed by label, from Paul Tol's colour-blind-safe "bright"
 * scheme: 1 (CSF) blue, 2 (GM) green, 3 (WM) yellow, then red, purple, cyan and grey. Entry 0 is
 * unused (label 0 is never tinted). Labels above 7 reuse 1..7 in turn. (Okabe-Ito's blue and
 * bluish green were tried first: blended over dark CSF and mid-grey GM they look alike.)
 */
export const DEFAULT_LABEL_COLOURS: readonly RgbColour[] = [
  [0, 0, 0],
  [68, 119, 170],
  [34, 136, 51],
  [204, 187, 68],
  [238, 102, 119],
  [170, 51, 119],
  [102, 204, 238],
  [187, 187, 187],
];

/** Options of {@link writeOverlayPng}. */
export interface OverlayOptions {
  /** z index of the slice shown, for a 3-D image. Default: the middle slice, floor(nz / 2). */
  slice?: number;
  /** Weight of a label's colour against the grey image, 0..1. Default 0.5. */
  opacity?: number;
  /**
   * Colour of each label, indexed by label value; entry 0 is ignored (label 0 is never tinted).
   * Must have an entry for every label present. Default {@link DEFAULT_LABEL_COLOURS}, cycled.
   */
  colours?: readonly RgbColour[];
  /**
   * Image values mapped to black and white, `[low, high]` with low < high.
   * Default: the 1st and 99th percentiles of the image's nonzero finite voxels (all slices).
   */
  window?: readonly [number, number];
}

/** Shape of a 2-D label image: `[width, height, 1]`, or anything with such `dims` (a Volume). */
export type RasterShape =
  | readonly [number, number, number]
  | { readonly dims: readonly [number, number, number] };

/**
 * Writes class labels as a single-channel greyscale PNG holding the raw values: 8-bit when every
 * label is <= 255, otherwise 16-bit. Orientation as {@link readImage}: voxel (x, y) goes to
 * `png[row = height - 1 - y, col = x]`, so `readImage` gives the labels back unchanged. The file
 * is written atomically (temporary file, then rename) and the bytes depend only on the input.
 *
 * @param path - PNG file to write (replaced if it exists).
 * @param labels - length width * height, x fastest.
 * @param shape - `[width, height, 1]`, or a Volume-like `{ dims }` with dims[2] = 1.
 * @throws {RangeError} when the shape is not 2-D or does not match `labels.length`.
 * @throws {ImageFileError} when the file cannot be encoded or written.
 */
export async function writeLabelPng(
  path: string,
  labels: Uint8Array | Uint16Array,
  shape: RasterShape,
): Promise<void> {
  if (!(labels instanceof Uint8Array || labels instanceof Uint16Array)) {
    throw new TypeError(`labels: expected a Uint8Array or Uint16Array, got ${describeValue(labels)}`);
  }
  const dims = 'dims' in shape ? shape.dims : shape;
  const [width, height, depth] = dims;
  if (!isPositiveInteger(width) || !isPositiveInteger(height) || depth !== 1) {
    throw new RangeError(
      `shape: expected [width, height, 1] with positive integer sizes, got [${dims.join(', ')}]`,
    );
  }
  if (labels.length !== width * height) {
    throw new RangeError(
      `labels: expected width * height = ${width} * ${height} = ${width * height} values, got ${labels.length}`,
    );
  }
  let maxLabel = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > maxLabel) maxLabel = labels[i]!;
  const pixels = maxLabel <= 255 ? new Uint8Array(labels.length) : new Uint16Array(labels.length);
  for (let y = 0; y < height; y++) {
    pixels.set(labels.subarray(y * width, (y + 1) * width), (height - 1 - y) * width);
  }
  // Without toColourspace, sharp would write one channel as three (RGB).
  const encoder = sharp(pixels, { raw: { width, height, channels: 1 } }).toColourspace(
    pixels instanceof Uint16Array ? 'grey16' : 'b-w',
  );
  await writePng(path, encoder);
}

/**
 * Writes an RGB PNG of one slice of a greyscale image with the labels alpha-blended in, for people
 * to look at: label 0 shows the grey image alone (r = g = b), label k > 0 shows
 * `(1 - opacity) * grey + opacity * colours[k]`. The grey level is the image value mapped linearly
 * from `window` to 0..255 and clipped; non-finite values are black. Orientation as
 * {@link writeLabelPng} (y up). Written atomically; the bytes depend only on the inputs.
 *
 * @param path - PNG file to write (replaced if it exists).
 * @param image - 2-D or 3-D volume, dims [nx, ny, nz].
 * @param labels - one label per voxel of `image`, length nx * ny * nz, x fastest.
 * @param options - see {@link OverlayOptions}.
 * @throws {RangeError} for mismatched lengths, a slice out of range, an opacity outside 0..1, a
 *   window with low >= high, or a label without a colour in `options.colours`.
 * @throws {ImageFileError} when the file cannot be encoded or written.
 */
export async function writeOverlayPng(
  path: string,
  image: Pick<Volume, 'data' | 'dims'>,
  labels: Uint8Array | Uint16Array,
  options: OverlayOptions = {},
): Promise<void> {
  const [nx, ny, nz] = image.dims;
  const nVoxels = nx * ny * nz;
  if (image.data.length !== nVoxels) {
    throw new RangeError(
      `image: dims [${image.dims.join(', ')}] need ${nVoxels} values, got ${image.data.length}`,
    );
  }
  if (labels.length !== nVoxels) {
    throw new RangeError(`labels: expected one per image voxel (${nVoxels}), got ${labels.length}`);
  }
  const resolved = resolveOverlayOptions(options, image, labels);
  const { opacity, colours } = resolved;
  const [low, high] = resolved.window;
  const greyScale = 255 / (high - low);
  const sliceOffset = resolved.slice * nx * ny;
  const rgb = new Uint8Array(nx * ny * 3);
  for (let y = 0; y < ny; y++) {
    const row = ny - 1 - y;
    for (let x = 0; x < nx; x++) {
      const voxel = sliceOffset + x + nx * y;
      const value = image.data[voxel]!;
      // NaN fails both comparisons and is drawn black.
      const grey = value >= high ? 255 : value > low ? (value - low) * greyScale : 0;
      const pixel = (row * nx + x) * 3;
      const label = labels[voxel]!;
      if (label === 0 || opacity === 0) {
        const level = Math.round(grey);
        rgb[pixel] = level;
        rgb[pixel + 1] = level;
        rgb[pixel + 2] = level;
      } else {
        const colour = colours[label]!;
        rgb[pixel] = Math.round((1 - opacity) * grey + opacity * colour[0]);
        rgb[pixel + 1] = Math.round((1 - opacity) * grey + opacity * colour[1]);
        rgb[pixel + 2] = Math.round((1 - opacity) * grey + opacity * colour[2]);
      }
    }
  }
  await writePng(path, sharp(rgb, { raw: { width: nx, height: ny, channels: 3 } }).toColourspace('srgb'));
}

interface ResolvedOverlayOptions {
  slice: number;
  opacity: number;
  /** One colour per label value up to the largest present. */
  colours: RgbColour[];
  window: [number, number];
}

function resolveOverlayOptions(
  options: OverlayOptions,
  image: Pick<Volume, 'data' | 'dims'>,
  labels: Uint8Array | Uint16Array,
): ResolvedOverlayOptions {
  const nz = image.dims[2];
  const slice = options.slice ?? Math.floor(nz / 2);
  if (!Number.isInteger(slice) || slice < 0 || slice >= nz) {
    throw new RangeError(`slice: expected an integer in 0..${nz - 1}, got ${slice}`);
  }
  const opacity = options.opacity ?? 0.5;
  if (!(opacity >= 0 && opacity <= 1)) {
    throw new RangeError(`opacity: expected a number in 0..1, got ${opacity}`);
  }
  let maxLabel = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > maxLabel) maxLabel = labels[i]!;
  const colours: RgbColour[] = [];
  for (let label = 0; label <= maxLabel; label++) {
    let colour: RgbColour | undefined;
    if (options.colours === undefined) {
      const nCycled = DEFAULT_LABEL_COLOURS.length - 1;
      colour = DEFAULT_LABEL_COLOURS[label === 0 ? 0 : ((label - 1) % nCycled) + 1];
    } else {
      colour = options.colours[label];
      if (colour === undefined && label > 0) {
        throw new RangeError(
          `colours: expected a colour for every label up to ${maxLabel}, got ${options.colours.length} entries`,
        );
      }
      colour ??= [0, 0, 0];
    }
    if (
      colour === undefined ||
      colour.length !== 3 ||
      !colour.every((component) => Number.isFinite(component) && component >= 0 && component <= 255)
    ) {
      throw new RangeError(
        `colours[${label}]: expected [r, g, b] with components in 0..255, got ${describeValue(colour)}`,
      );
    }
    colours.push(colour);
  }
  const window = options.window ?? defaultWindow(image.data);
  const [low, high] = window;
  if (window.length !== 2 || !Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new RangeError(`window: expected [low, high] finite with low < high, got [${window.join(', ')}]`);
  }
  return { slice, opacity, colours, window: [low, high] };
}

/**
 * The 1st and 99th percentiles (linear interpolation between order statistics, as numpy's
 * default) of the nonzero finite values; [0, 1] when there are none, and widened to [p, p + 1]
 * when both percentiles are equal.
 */
function defaultWindow(data: ArrayLike<number>): [number, number] {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && Number.isFinite(data[i])) count++;
  if (count === 0) return [0, 1];
  const values = new Float64Array(count);
  let next = 0;
  for (let i = 0; i < data.length; i++)
    if (data[i] !== 0 && Number.isFinite(data[i])) values[next++] = data[i]!;
  values.sort();
  const low = percentile(values, 1);
  const high = percentile(values, 99);
  return high > low ? [low, high] : [low, low + 1];
}

/** Encodes to PNG in memory (no metadata, so the bytes depend only on the pixels), then writes atomically. */
async function writePng(path: string, encoder: Sharp): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await encoder.png({ compressionLevel: 9, adaptiveFiltering: false, palette: false }).toBuffer();
  } catch (error) {
    throw new ImageFileError(path, `cannot encode PNG: ${(error as Error).message}`, { cause: error });
  }
  await writeFileAtomic(path, bytes);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return value.constructor?.name ?? typeof value;
}
