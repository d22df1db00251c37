/**
 * 2-D raster images (PNG, JPEG) in through sharp, keeping the stored sample values exactly.
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
import sharp from 'sharp';
import { type DataType, ImageFileError, type NiftiGeometry, type Volume } from '../types.ts';

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
