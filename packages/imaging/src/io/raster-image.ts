/**
 * 2-D raster images (PNG, JPEG) in and out through sharp, keeping the stored sample values exactly.
 *
 * Orientation: a raster image is a volume of one slice whose y axis points up, so that a PNG slice
 * written from a NIfTI volume (as in `shared/data/png2d`) lines up with that volume:
 * `volume[x = col, y = height - 1 - row, z = 0] = png[row, col]`, i.e. the top row of the picture
 * is the last y row of the volume. Every reader and writer here uses the same convention, so a
 * label map written with {@link writeLabelPng} reads back voxel for voxel.
 *
 * sharp converts every image to 8-bit sRGB on output unless told otherwise, silently: a 16-bit
 * greyscale PNG read with `raw({ depth: 'ushort' })` alone comes back as 0..255 values in three
 * channels. The readers therefore ask for the image's own colour space (`b-w`, `grey16`, `srgb`,
 * `rgb16`), ignore embedded ICC profiles and EXIF orientation, and check the decoded size.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { percentile } from '../percentile.ts';
import { type DataType, ImageFileError, type NiftiGeometry, type Volume } from '../types.ts';
import { writeFileAtomic } from './atomic-write.ts';

/** Raster formats recognised by their first bytes. */
type RasterFormat = 'png' | 'jpeg';

/** Decoded samples of one image, interleaved, before orientation. */
interface DecodedRaster {
  format: RasterFormat;
  datatype: DataType;
  width: number;
  height: number;
  /** Colour channels (1 grey, 3 RGB), alpha excluded. */
  nColourChannels: number;
  /** Channels per pixel in `samples` (colour channels plus alpha, if any). */
  stride: number;
  /** Stored sample values, row-major from the top row, `stride` values per pixel. */
  samples: Uint8Array | Uint16Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

/** ITU-R BT.601 luma weights for R, G, B. */
const LUMINANCE_WEIGHTS = [0.299, 0.587, 0.114] as const;

/**
 * Reads a PNG or JPEG as one greyscale volume of dims `[width, height, 1]`.
 *
 * A greyscale image gives its stored values: 0..255 for 8-bit, 0..65535 for 16-bit PNG (not
 * rescaled), 0..2^b - 1 for a 1-, 2- or 4-bit greyscale PNG (the sample values, undoing the
 * decoder's expansion to 8 bits). A colour image gives its luminance, ITU-R BT.601:
 * `0.299 R + 0.587 G + 0.114 B`, computed in floating point from the decoded channel values (so
 * not rounded to integers). An alpha channel is ignored, as are embedded ICC profiles and EXIF
 * orientation: the values are the decoded samples as stored.
 *
 * Voxel order: `data[x + width * y]` holds `image[row = height - 1 - y, col = x]` (y points up,
 * matching PNG slices of NIfTI volumes). Geometry: 1 mm voxels, identity affine, sform code 2
 * (aligned) with identity rows, qform code 0, so a result written as NIfTI is well formed.
 *
 * The format is detected from the file's first bytes, not its name.
 *
 * @param path - PNG or JPEG file.
 * @returns `data` Float32Array of length width * height.
 * @throws {ImageFileError} when the file is missing, unreadable, empty, not a PNG or JPEG, cannot
 *   be decoded (corrupt or truncated; the decoder's message is in the reason), is CMYK, or exceeds
 *   sharp's default pixel limit (268402689 pixels, 0x3FFF x 0x3FFF).
 */
export async function readImage(path: string): Promise<Volume> {
  const raster = await decodeRaster(path);
  const { width, height, nColourChannels, stride, samples } = raster;
  const data = new Float32Array(width * height);
  if (nColourChannels === 1) {
    for (let row = 0; row < height; row++) {
      const rowStart = row * width;
      const volumeRowStart = (height - 1 - row) * width;
      for (let col = 0; col < width; col++) {
        data[volumeRowStart + col] = samples[(rowStart + col) * stride]!;
      }
    }
  } else {
    const [wr, wg, wb] = LUMINANCE_WEIGHTS;
    for (let row = 0; row < height; row++) {
      const rowStart = row * width;
      const volumeRowStart = (height - 1 - row) * width;
      for (let col = 0; col < width; col++) {
        const pixel = (rowStart + col) * stride;
        data[volumeRowStart + col] =
          wr * samples[pixel]! + wg * samples[pixel + 1]! + wb * samples[pixel + 2]!;
      }
    }
  }
  return rasterVolume(data, width, height, path, raster.format, raster.datatype);
}

/**
 * Reads a PNG or JPEG as one volume per colour channel: `[R, G, B]` for a colour image, `[grey]`
 * for a greyscale one; alpha is excluded. Values, voxel order and geometry are as in
 * {@link readImage} (each volume has dims `[width, height, 1]` and its own Float32Array).
 *
 * @throws {ImageFileError} as {@link readImage}.
 */
export async function readImageChannels(path: string): Promise<Volume[]> {
  const raster = await decodeRaster(path);
  const { width, height, nColourChannels, stride, samples } = raster;
  const volumes: Volume[] = [];
  for (let channel = 0; channel < nColourChannels; channel++) {
    const data = new Float32Array(width * height);
    for (let row = 0; row < height; row++) {
      const rowStart = row * width;
      const volumeRowStart = (height - 1 - row) * width;
      for (let col = 0; col < width; col++) {
        data[volumeRowStart + col] = samples[(rowStart + col) * stride + channel]!;
      }
    }
    volumes.push(rasterVolume(data, width, height, path, raster.format, raster.datatype));
  }
  return volumes;
}

/** Reads, recognises and decodes a PNG or JPEG into its stored samples. */
async function decodeRaster(path: string): Promise<DecodedRaster> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ImageFileError(path, describeReadError(error), { cause: error });
  }
  const format = detectRasterFormat(path, bytes);
  const formatName = format.toUpperCase();
  try {
    // ignoreIcc: keep the stored values instead of converting them to sRGB through a profile.
    // failOn and limitInputPixels keep sharp's defaults ('warning', 0x3FFF x 0x3FFF pixels).
    const metadata = await sharp(bytes, { ignoreIcc: true }).metadata();
    if (metadata.space === 'cmyk') {
      throw new ImageFileError(path, `a CMYK ${formatName} is not supported: save it as RGB or greyscale`);
    }
    const is16Bit = metadata.depth === 'ushort';
    if (!is16Bit && metadata.depth !== 'uchar') {
      throw new ImageFileError(path, `unsupported ${formatName} sample type '${metadata.depth}'`);
    }
    const nColourChannels = metadata.channels - (metadata.hasAlpha ? 1 : 0);
    if (nColourChannels !== 1 && nColourChannels !== 3) {
      throw new ImageFileError(path, `unsupported ${formatName} with ${metadata.channels} channels`);
    }
    // Asking for the image's own colour space is what stops sharp converting it to 8-bit sRGB.
    const colourspace = nColourChannels === 1 ? (is16Bit ? 'grey16' : 'b-w') : is16Bit ? 'rgb16' : 'srgb';
    const decoded = sharp(bytes, { ignoreIcc: true }).toColourspace(colourspace);
    const { data, info } = await decoded
      .raw({ depth: is16Bit ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels: stride } = info;
    const bytesPerSample = is16Bit ? 2 : 1;
    // sharp drops the alpha of an 8-bit greyscale image on raw output, hence stride may be 1.
    if (stride < nColourChannels || data.length !== width * height * stride * bytesPerSample) {
      throw new ImageFileError(
        path,
        `decoded ${data.length} bytes, expected ${width} x ${height} x ${stride} samples of ${bytesPerSample} byte(s)`,
      );
    }
    // Native byte order, as sharp writes it; a copy only if the buffer is not 2-byte aligned.
    const samples = !is16Bit
      ? new Uint8Array(data.buffer, data.byteOffset, data.length)
      : data.byteOffset % 2 === 0
        ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
        : new Uint16Array(Uint8Array.from(data).buffer);
    const bitsPerSample = metadata.bitsPerSample ?? 8;
    if (nColourChannels === 1 && !metadata.isPalette && bitsPerSample < 8) {
      // libpng expands 1-, 2- and 4-bit grey to 8 bits by v * 255 / (2^b - 1); undo it exactly.
      const expansion = 255 / (2 ** bitsPerSample - 1);
      for (let i = 0; i < samples.length; i += stride) samples[i] = samples[i]! / expansion;
    }
    return {
      format,
      datatype: is16Bit ? 'uint16' : 'uint8',
      width,
      height,
      nColourChannels,
      stride,
      samples,
    };
  } catch (error) {
    if (error instanceof ImageFileError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ImageFileError(path, `cannot decode ${formatName}: ${message.trim()}`, { cause: error });
  }
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not an image file';
  if (code === 'EACCES') return 'permission denied';
  return `cannot read: ${(error as Error).message}`;
}

/** Recognises PNG and JPEG by their signatures; anything else is an ImageFileError. */
function detectRasterFormat(path: string, bytes: Uint8Array): RasterFormat {
  if (bytes.length === 0) throw new ImageFileError(path, 'empty file (0 bytes), not an image');
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, JPEG_SIGNATURE)) return 'jpeg';
  const head = Array.from(bytes.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  const hint = bytes[0] === 0x1f && bytes[1] === 0x8b ? ', gzip data: a .nii.gz volume?' : '';
  throw new ImageFileError(path, `not a PNG or JPEG file (first bytes ${head}${hint})`);
}

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
}

/** The plain 1 mm geometry of a raster image: identity sform (code 2, aligned), no qform. */
function rasterGeometry(): NiftiGeometry {
  return {
    qformCode: 0,
    sformCode: 2,
    quaternion: [0, 0, 0],
    qoffset: [0, 0, 0],
    pixdim: [1, 1, 1, 1, 0, 0, 0, 0],
    srow: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ],
    xyztUnits: 2, // NIFTI_UNITS_MM
  };
}

function rasterVolume(
  data: Float32Array,
  width: number,
  height: number,
  path: string,
  format: RasterFormat,
  datatype: DataType,
): Volume {
  return {
    data,
    dims: [width, height, 1],
    spacing: [1, 1, 1],
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
    geometry: rasterGeometry(),
    source: { path, format, datatype, nVolumes: 1, volumeIndex: 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

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
