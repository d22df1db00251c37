import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type OutputInfo } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage, readImageChannels } from '../../src/io/raster-reader.ts';
import { DEFAULT_LABEL_COLOURS, writeLabelPng, writeOverlayPng } from '../../src/io/raster-writer.ts';
import { ImageFileError, type Volume } from '../../src/types.ts';

const sharedData = fileURLToPath(new URL('../../../../../shared/data/', import.meta.url));
const hasSharedData = existsSync(join(sharedData, 'png2d'));
const sharedDataNote = hasSharedData ? '' : ` (skipped: ${sharedData} is absent)`;

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'mixseg-'));
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

/** A fresh, empty sub-folder of the test's temporary folder. */
function freshFolder(name: string): string {
  const path = join(folder, name);
  mkdirSync(path);
  return path;
}

/**
 * Encodes a PNG by hand (no sharp), so that readers are checked against bytes whose sample values
 * are known: one IDAT, filter type 0 on every row. `samples` are row-major from the top row.
 */
function encodePng(
  width: number,
  height: number,
  bitDepth: 1 | 2 | 4 | 8 | 16,
  colourType: 0 | 2 | 4 | 6,
  samples: ArrayLike<number>,
): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType];
  const rowBits = width * channels * bitDepth;
  const rowBytes = Math.ceil(rowBits / 8);
  const rows = Buffer.alloc(height * (rowBytes + 1));
  for (let row = 0; row < height; row++) {
    const start = row * (rowBytes + 1) + 1;
    for (let i = 0; i < width * channels; i++) {
      const value = samples[row * width * channels + i]!;
      if (bitDepth === 16) {
        rows.writeUInt16BE(value, start + 2 * i);
      } else if (bitDepth === 8) {
        rows[start + i] = value;
      } else {
        const bit = i * bitDepth;
        rows[start + (bit >> 3)]! |= value << (8 - bitDepth - (bit & 7));
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = bitDepth;
  header[9] = colourType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}

/** The value at png[row, col] of a one-slice volume, by the documented convention. */
function atPixel(volume: Volume, row: number, col: number): number {
  const [width, height] = volume.dims;
  return volume.data[col + width * (height - 1 - row)]!;
}

/** Deterministic pseudo-random integers in 0..n-1 (a small LCG; seeded, no Math.random). */
function randomIntegers(count: number, n: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  });
}

async function decodeRaw(path: string): Promise<{ data: Buffer; info: OutputInfo }> {
  return sharp(path).raw().toBuffer({ resolveWithObject: true });
}

async function expectImageFileError(promise: Promise<unknown>, path: string, reason: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ImageFileError);
  const { message } = error as ImageFileError;
  expect(message).toContain(path);
  expect(message).toMatch(reason);
  expect((error as ImageFileError).path).toBe(path);
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < a.length; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= a.length;
  meanB /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

describe('readImage', () => {
  it('puts png[row 0, col 0] at volume (x = 0, y = height - 1) and every pixel at (col, height - 1 - row)', async () => {
    const width = 5;
    const height = 3;
    const pixels = new Uint8Array(width * height);
    for (let i = 0; i < pixels.length; i++) pixels[i] = 10 + i; // row-major from the top row
    pixels[0] = 250;
    const path = join(folder, 'orientation.png');
    await sharp(pixels, { raw: { width, height, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(path);

    const volume = await readImage(path);
    expect(volume.dims).toEqual([width, height, 1]);
    expect(volume.data[0 + width * (height - 1)]).toBe(250);
    expect(volume.data[0]).toBe(10 + (height - 1) * width); // bottom-left pixel
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        expect(volume.data[col + width * (height - 1 - row)]).toBe(pixels[row * width + col]);
      }
    }
  });

  it('returns a 1 mm volume with identity affine, sform code 2, qform code 0 and the source described', async () => {
    const path = join(folder, 'geometry.png');
    writeFileSync(path, encodePng(3, 2, 8, 0, [0, 1, 2, 3, 4, 5]));
    const volume = await readImage(path);
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(volume.spacing).toEqual([1, 1, 1]);
    expect(volume.affine).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect(volume.geometry).toEqual({
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
      xyztUnits: 2,
    });
    expect(volume.source).toEqual({ path, format: 'png', datatype: 'uint8', nVolumes: 1, volumeIndex: 0 });
  });

  it('keeps 16-bit greyscale values as 0..65535 without rescaling', async () => {
    const values = [0, 1, 255, 256, 4660, 32768, 65534, 65535];
    const path = join(folder, 'grey16.png');
    writeFileSync(path, encodePng(4, 2, 16, 0, values));
    const volume = await readImage(path);
    expect(volume.source.datatype).toBe('uint16');
    for (let i = 0; i < values.length; i++) expect(atPixel(volume, Math.floor(i / 4), i % 4)).toBe(values[i]);
  });

  it('gives the stored sample values of a 2-bit greyscale PNG, not their 8-bit expansion', async () => {
    const values = [0, 1, 2, 3, 3, 2, 1, 0, 1];
    const path = join(folder, 'grey2.png');
    writeFileSync(path, encodePng(3, 3, 2, 0, values));
    const volume = await readImage(path);
    for (let i = 0; i < values.length; i++) expect(atPixel(volume, Math.floor(i / 3), i % 3)).toBe(values[i]);
  });

  it('ignores the alpha channel of 8-bit and 16-bit greyscale images', async () => {
    const grey = [7, 200, 13, 0];
    const alpha = [255, 0, 128, 3];
    const interleaved = grey.flatMap((value, i) => [value, alpha[i]!]);
    const path8 = join(folder, 'grey-alpha8.png');
    writeFileSync(path8, encodePng(2, 2, 8, 4, interleaved));
    const path16 = join(folder, 'grey-alpha16.png');
    writeFileSync(
      path16,
      encodePng(
        2,
        2,
        16,
        4,
        interleaved.map((value) => value * 257),
      ),
    );

    const volume8 = await readImage(path8);
    const volume16 = await readImage(path16);
    const channels16 = await readImageChannels(path16);
    expect(channels16).toHaveLength(1);
    for (let i = 0; i < grey.length; i++) {
      expect(atPixel(volume8, Math.floor(i / 2), i % 2)).toBe(grey[i]);
      expect(atPixel(volume16, Math.floor(i / 2), i % 2)).toBe(grey[i]! * 257);
      expect(atPixel(channels16[0]!, Math.floor(i / 2), i % 2)).toBe(grey[i]! * 257);
    }
  });

  it('reads a colour image as the BT.601 luminance 0.299 r + 0.587 g + 0.114 b, in floating point', async () => {
    const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 31, 1, 2, 3, 200, 100, 50];
    const path = join(folder, 'colour.png');
    await sharp(new Uint8Array(rgb), { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toFile(path);
    const volume = await readImage(path);
    expect(volume.dims).toEqual([3, 2, 1]);
    expect(volume.source.datatype).toBe('uint8');
    for (let pixel = 0; pixel < 6; pixel++) {
      const [r, g, b] = rgb.slice(pixel * 3, pixel * 3 + 3) as [number, number, number];
      const expected = Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
      expect(atPixel(volume, Math.floor(pixel / 3), pixel % 3)).toBe(expected);
    }
    expect(atPixel(volume, 1, 1)).not.toBe(Math.round(atPixel(volume, 1, 1))); // 2.0 -> 1.995..., not rounded
  });

  it('reads a colour image as three channel volumes holding the raw values', async () => {
    const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 31, 1, 2, 3, 200, 100, 50];
    const path = join(folder, 'channels.png');
    await sharp(new Uint8Array(rgb), { raw: { width: 3, height: 2, channels: 3 } })
      .png()
      .toFile(path);
    const channels = await readImageChannels(path);
    expect(channels).toHaveLength(3);
    for (const [channel, volume] of channels.entries()) {
      expect(volume.dims).toEqual([3, 2, 1]);
      for (let pixel = 0; pixel < 6; pixel++) {
        expect(atPixel(volume, Math.floor(pixel / 3), pixel % 3)).toBe(rgb[pixel * 3 + channel]);
      }
    }
    expect(channels[0]!.data).not.toBe(channels[1]!.data);
  });

  it('ignores the alpha of an RGBA image, even where alpha is 0', async () => {
    const rgb = [255, 0, 0, 0, 255, 0, 10, 20, 31, 200, 100, 50];
    const alpha = [255, 0, 128, 1];
    const rgba = alpha.flatMap((a, pixel) => [...rgb.slice(pixel * 3, pixel * 3 + 3), a]);
    const rgbPath = join(folder, 'opaque.png');
    const rgbaPath = join(folder, 'alpha.png');
    await sharp(new Uint8Array(rgb), { raw: { width: 2, height: 2, channels: 3 } })
      .png()
      .toFile(rgbPath);
    await sharp(new Uint8Array(rgba), { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toFile(rgbaPath);
    expect((await sharp(rgbaPath).metadata()).channels).toBe(4);

    expect(Array.from((await readImage(rgbaPath)).data)).toEqual(Array.from((await readImage(rgbPath)).data));
    const channels = await readImageChannels(rgbaPath);
    expect(channels).toHaveLength(3);
    for (const [channel, volume] of channels.entries()) {
      for (let pixel = 0; pixel < 4; pixel++) {
        expect(atPixel(volume, Math.floor(pixel / 2), pixel % 2)).toBe(rgb[pixel * 3 + channel]);
      }
    }
  });

  it('keeps 16-bit colour values as 0..65535', async () => {
    const rgb = [256, 8192, 65534, 0, 1, 65535];
    const path = join(folder, 'rgb16.png');
    writeFileSync(path, encodePng(2, 1, 16, 2, rgb));
    const channels = await readImageChannels(path);
    expect(channels.map((volume) => Array.from(volume.data))).toEqual([
      [256, 0],
      [8192, 1],
      [65534, 65535],
    ]);
    expect(channels[0]!.source.datatype).toBe('uint16');
    expect((await readImage(path)).data[0]).toBe(Math.fround(0.299 * 256 + 0.587 * 8192 + 0.114 * 65534));
  });

  it('reads a JPEG and detects the format from the first bytes, not the file name', async () => {
    const pixels = new Uint8Array(16 * 8).map((_, i) => (i * 2) % 256);
    const jpegNamedPng = join(folder, 'really-a-jpeg.png');
    const pngNamedJpeg = join(folder, 'really-a-png.jpg');
    const jpegBytes = await sharp(pixels, { raw: { width: 16, height: 8, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
    writeFileSync(jpegNamedPng, jpegBytes);
    writeFileSync(pngNamedJpeg, encodePng(2, 1, 8, 0, [3, 4]));

    const jpeg = await readImage(jpegNamedPng);
    expect(jpeg.source.format).toBe('jpeg');
    expect(jpeg.source.datatype).toBe('uint8');
    expect(jpeg.dims).toEqual([16, 8, 1]);
    expect(await readImageChannels(jpegNamedPng)).toHaveLength(1);
    let worst = 0;
    for (let i = 0; i < pixels.length; i++) {
      worst = Math.max(worst, Math.abs(atPixel(jpeg, Math.floor(i / 16), i % 16) - pixels[i]!));
    }
    expect(worst).toBeLessThanOrEqual(8); // lossy, but the same picture the right way up

    const png = await readImage(pngNamedJpeg);
    expect(png.source.format).toBe('png');
    expect(Array.from(png.data)).toEqual([3, 4]);
  });
});

describe('readImage on bad input', () => {
  it('throws ImageFileError naming an empty file', async () => {
    const path = join(folder, 'empty.png');
    writeFileSync(path, Buffer.alloc(0));
    await expectImageFileError(readImage(path), path, /empty/);
  });

  it('throws ImageFileError naming a missing file', async () => {
    const path = join(folder, 'does-not-exist.png');
    await expectImageFileError(readImage(path), path, /no such file/);
    await expectImageFileError(readImageChannels(path), path, /no such file/);
  });

  it('throws ImageFileError for a text file named .png', async () => {
    const path = join(folder, 'text.png');
    writeFileSync(path, 'this is not an image\n');
    await expectImageFileError(readImage(path), path, /not a PNG or JPEG/);
  });

  it('throws ImageFileError for a directory', async () => {
    const path = freshFolder('directory.png');
    await expectImageFileError(readImage(path), path, /directory/);
  });

  it('throws ImageFileError with the decoder message for a PNG cut in half', async () => {
    const whole = await sharp(
      new Uint8Array(64 * 64).map((_, i) => (i * 7) % 251),
      {
        raw: { width: 64, height: 64, channels: 1 },
      },
    )
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const path = join(folder, 'truncated.png');
    writeFileSync(path, whole.subarray(0, whole.length >> 1));
    await expectImageFileError(readImage(path), path, /cannot decode PNG: .*(read error|truncated|end)/i);
  });

  it('throws ImageFileError with the decoder message for a truncated JPEG', async () => {
    const whole = await sharp(
      new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7) % 251),
      {
        raw: { width: 64, height: 64, channels: 3 },
      },
    )
      .jpeg()
      .toBuffer();
    const path = join(folder, 'truncated.jpg');
    writeFileSync(path, whole.subarray(0, whole.length >> 1));
    await expectImageFileError(readImage(path), path, /cannot decode JPEG: .+/);
  });

  it("throws ImageFileError, not an allocation, for a PNG beyond sharp's pixel limit", async () => {
    const path = join(folder, 'huge.png');
    const header = Buffer.alloc(13);
    header.writeUInt32BE(20_000, 0);
    header.writeUInt32BE(20_000, 4);
    header[8] = 8; // 8-bit greyscale, 4e8 pixels: above the limit of 0x3FFF * 0x3FFF
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    writeFileSync(
      path,
      Buffer.concat([
        signature,
        pngChunk('IHDR', header),
        pngChunk('IDAT', deflateSync(Buffer.alloc(1))), // one byte of image data: never reached
        pngChunk('IEND', Buffer.alloc(0)),
      ]),
    );
    await expectImageFileError(readImage(path), path, /pixel limit/);
  });
});

describe('writeLabelPng', () => {
  it('round-trips 8-bit labels through readImage and writes a single-channel 8-bit PNG', async () => {
    const [width, height] = [7, 5];
    const labels = Uint8Array.from(randomIntegers(width * height, 4, 1));
    const path = join(folder, 'labels8.png');
    await writeLabelPng(path, labels, [width, height, 1]);

    const metadata = await sharp(path).metadata();
    expect([metadata.channels, metadata.depth, metadata.width, metadata.height]).toEqual([
      1,
      'uchar',
      width,
      height,
    ]);
    const volume = await readImage(path);
    expect(volume.source.datatype).toBe('uint8');
    expect(Array.from(volume.data)).toEqual(Array.from(labels));
  });

  it('round-trips labels above 255 as a single-channel 16-bit PNG', async () => {
    const [width, height] = [6, 4];
    const labels = Uint16Array.from(randomIntegers(width * height, 70_000, 2).map((value) => value % 65536));
    labels[3] = 65535;
    const path = join(folder, 'labels16.png');
    await writeLabelPng(path, labels, { dims: [width, height, 1] });

    const metadata = await sharp(path).metadata();
    expect([metadata.channels, metadata.depth]).toEqual([1, 'ushort']);
    const volume = await readImage(path);
    expect(volume.source.datatype).toBe('uint16');
    expect(Array.from(volume.data)).toEqual(Array.from(labels));
  });

  it('writes a Uint16Array whose labels fit in 8 bits as an 8-bit PNG', async () => {
    const path = join(folder, 'labels16-small.png');
    await writeLabelPng(path, Uint16Array.from([0, 1, 2, 255]), [2, 2, 1]);
    expect((await sharp(path).metadata()).depth).toBe('uchar');
    expect(Array.from((await readImage(path)).data)).toEqual([0, 1, 2, 255]);
  });

  it('puts voxel (x, y) at png[row = height - 1 - y, col = x]', async () => {
    const [width, height] = [3, 2];
    const labels = Uint8Array.from([1, 2, 3, 4, 5, 6]); // y = 0 is 1 2 3
    const path = join(folder, 'labels-orientation.png');
    await writeLabelPng(path, labels, [width, height, 1]);
    const { data, info } = await sharp(path).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(1);
    expect(Array.from(data)).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('writes identical bytes twice and leaves no temporary files', async () => {
    const out = freshFolder('label-determinism');
    const labels = Uint8Array.from(randomIntegers(40 * 30, 4, 3));
    await writeLabelPng(join(out, 'a.png'), labels, [40, 30, 1]);
    await writeLabelPng(join(out, 'b.png'), labels, [40, 30, 1]);
    await writeLabelPng(join(out, 'a.png'), labels, [40, 30, 1]); // replacing an existing file
    expect(readFileSync(join(out, 'a.png')).equals(readFileSync(join(out, 'b.png')))).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['a.png', 'b.png']);
  });

  it('throws RangeError for a shape that does not match the labels or is not 2-D', async () => {
    const path = join(folder, 'never-written.png');
    await expect(writeLabelPng(path, new Uint8Array(6), [4, 2, 1])).rejects.toThrow(RangeError);
    await expect(writeLabelPng(path, new Uint8Array(6), [3, 1, 2])).rejects.toThrow(/\[width, height, 1\]/);
    await expect(writeLabelPng(path, new Uint8Array(0), [0, 0, 1])).rejects.toThrow(RangeError);
    expect(existsSync(path)).toBe(false);
  });

  it('throws ImageFileError naming the file when the folder does not exist', async () => {
    const path = join(folder, 'no-such-folder', 'labels.png');
    await expectImageFileError(writeLabelPng(path, new Uint8Array(4), [2, 2, 1]), path, /cannot write/);
  });
});

describe('writeOverlayPng', () => {
  /** A 2-D image whose values are their own grey levels under window [0, 255]. */
  function syntheticSlice(width: number, height: number): { image: Volume; labels: Uint8Array } {
    const data = new Float32Array(width * height);
    const labels = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        data[x + width * y] = (x * 37 + y * 11) % 256;
        labels[x + width * y] = (x + 2 * y) % 4;
      }
    }
    const image = {
      data,
      dims: [width, height, 1],
      spacing: [1, 1, 1],
      affine: [],
      geometry: {} as Volume['geometry'],
      source: { path: '<memory>', format: 'png', datatype: 'uint8', nVolumes: 1, volumeIndex: 0 },
    } satisfies Volume;
    return { image, labels };
  }

  it('writes an RGB PNG of the image size: label 0 grey, label k blended towards colour k', async () => {
    const [width, height] = [9, 6];
    const { image, labels } = syntheticSlice(width, height);
    const path = join(folder, 'overlay.png');
    await writeOverlayPng(path, image, labels, { window: [0, 255] });

    const { data, info } = await decodeRaw(path);
    expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
    expect((await sharp(path).metadata()).channels).toBe(3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const pixel = ((height - 1 - y) * width + x) * 3;
        const rgb = [data[pixel]!, data[pixel + 1]!, data[pixel + 2]!];
        const grey = image.data[x + width * y]!;
        const label = labels[x + width * y]!;
        if (label === 0) {
          expect(rgb).toEqual([grey, grey, grey]);
        } else {
          const colour = DEFAULT_LABEL_COLOURS[label]!;
          expect(rgb).toEqual(colour.map((component) => Math.round(0.5 * grey + 0.5 * component)));
        }
      }
    }
  });

  it('tints each label towards its own colour and keeps the default colours distinct', async () => {
    const { image, labels } = syntheticSlice(8, 8);
    image.data.fill(128);
    const path = join(folder, 'overlay-tint.png');
    await writeOverlayPng(path, image, labels, { window: [0, 255], opacity: 0.6 });
    const { data } = await decodeRaw(path);
    const seen = new Map<number, string>();
    for (let i = 0; i < labels.length; i++) {
      const x = i % 8;
      const y = Math.floor(i / 8);
      const pixel = ((7 - y) * 8 + x) * 3;
      const rgb = [data[pixel]!, data[pixel + 1]!, data[pixel + 2]!];
      const label = labels[i]!;
      if (label > 0) {
        const colour = DEFAULT_LABEL_COLOURS[label]!;
        const distanceToColour = Math.hypot(...rgb.map((c, k) => c - colour[k]!));
        const greyToColour = Math.hypot(...colour.map((c) => c - 128));
        expect(distanceToColour).toBeLessThan(greyToColour);
      }
      seen.set(label, rgb.join(','));
    }
    expect(new Set(seen.values()).size).toBe(4);
  });

  it('shows the middle slice of a 3-D image by default, or the slice asked for', async () => {
    const [nx, ny, nz] = [4, 3, 5];
    const data = new Float32Array(nx * ny * nz);
    for (let z = 0; z < nz; z++) data.fill(z * 50, z * nx * ny, (z + 1) * nx * ny);
    const image = { data, dims: [nx, ny, nz] as [number, number, number] };
    const labels = new Uint8Array(nx * ny * nz);
    const middle = join(folder, 'overlay-middle.png');
    const first = join(folder, 'overlay-first.png');
    await writeOverlayPng(middle, image, labels, { window: [0, 255] });
    await writeOverlayPng(first, image, labels, { window: [0, 255], slice: 1 });
    const middleRaw = await decodeRaw(middle);
    expect([middleRaw.info.width, middleRaw.info.height]).toEqual([nx, ny]);
    expect(new Set(middleRaw.data)).toEqual(new Set([100]));
    expect(new Set((await decodeRaw(first)).data)).toEqual(new Set([50]));
  });

  it('windows the image at the 1st and 99th percentiles of its nonzero voxels by default', async () => {
    const width = 101;
    const data = new Float32Array(width * 2); // row y = 0: zeros; row y = 1: 1000..1100
    for (let x = 0; x < width; x++) data[x + width] = 1000 + x;
    const path = join(folder, 'overlay-window.png');
    await writeOverlayPng(path, { data, dims: [width, 2, 1] }, new Uint8Array(width * 2));
    const { data: rgb } = await decodeRaw(path);
    const topRow = Array.from({ length: width }, (_, x) => rgb[x * 3]!); // volume y = 1
    expect(topRow[0]).toBe(0); // 1000 is below the 1st percentile, 1001
    expect(topRow[1]).toBe(0);
    expect(topRow[50]).toBe(128); // (1050 - 1001) / 98 * 255 = 127.5
    expect(topRow[99]).toBe(255);
    expect(topRow[100]).toBe(255);
    expect(rgb[width * 3]).toBe(0); // bottom row: zeros stay black
  });

  it('writes identical bytes twice and leaves no temporary files', async () => {
    const out = freshFolder('overlay-determinism');
    const { image, labels } = syntheticSlice(30, 20);
    await writeOverlayPng(join(out, 'a.png'), image, labels);
    await writeOverlayPng(join(out, 'b.png'), image, labels);
    expect(readFileSync(join(out, 'a.png')).equals(readFileSync(join(out, 'b.png')))).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['a.png', 'b.png']);
  });

  it('throws RangeError for mismatched labels, a bad slice, opacity or window, and a label without a colour', async () => {
    const { image, labels } = syntheticSlice(4, 4);
    const path = join(folder, 'overlay-never-written.png');
    await expect(writeOverlayPng(path, image, labels.subarray(1))).rejects.toThrow(/one per image voxel/);
    await expect(writeOverlayPng(path, image, labels, { slice: 1 })).rejects.toThrow(/slice/);
    await expect(writeOverlayPng(path, image, labels, { opacity: 1.5 })).rejects.toThrow(/opacity/);
    await expect(writeOverlayPng(path, image, labels, { window: [5, 5] })).rejects.toThrow(/window/);
    await expect(
      writeOverlayPng(path, image, labels, {
        colours: [
          [0, 0, 0],
          [255, 0, 0],
        ],
      }),
    ).rejects.toThrow(/colours/);
    expect(existsSync(path)).toBe(false);
  });
});

describe.skipIf(!hasSharedData)(`raster images of the shared data${sharedDataNote}`, () => {
  const png2d = join(sharedData, 'png2d');
  const slicesJpg = join(sharedData, 'slices-jpg');
  const pngNames = hasSharedData ? readdirSync(png2d).filter((name) => name.endsWith('.png')) : [];
  const jpegNames = hasSharedData ? readdirSync(slicesJpg).filter((name) => name.endsWith('.jpg')) : [];

  it('reads every PNG in png2d with its size and value range', async () => {
    expect(pngNames.length).toBeGreaterThan(20);
    for (const name of pngNames) {
      const path = join(png2d, name);
      const volume = await readImage(path);
      const { width, height } = await sharp(path).metadata();
      expect(volume.dims, name).toEqual([width, height, 1]);
      if (name.startsWith('sri24_')) expect(volume.dims, name).toEqual([240, 240, 1]);
      if (name.startsWith('mni152_2mm_')) expect(volume.dims, name).toEqual([91, 109, 1]);
      const max = maxOf(volume.data);
      expect(Math.min(...volume.data), name).toBe(0);
      if (name.includes('_16bit')) {
        expect(volume.source.datatype, name).toBe('uint16');
        expect(max, name).toBeGreaterThan(255);
      } else {
        expect(volume.source.datatype, name).toBe('uint8');
        expect(max, name).toBeLessThanOrEqual(255);
        expect(max, name).toBeGreaterThan(0);
      }
    }
  });

  it('finds only the classes 0..3 in the label PNGs, all of them present', async () => {
    const labelNames = pngNames.filter((name) => name.endsWith('_labels.png'));
    expect(labelNames.length).toBeGreaterThan(0);
    for (const name of labelNames) {
      const volume = await readImage(join(png2d, name));
      expect(new Set(volume.data), name).toEqual(new Set([0, 1, 2, 3]));
    }
  });

  it('reads the 8-bit and 16-bit versions of each slice as the same picture up to scale', async () => {
    const names16 = pngNames.filter((name) => name.includes('_16bit'));
    expect(names16.length).toBeGreaterThan(0);
    for (const name16 of names16) {
      const volume16 = await readImage(join(png2d, name16));
      const volume8 = await readImage(join(png2d, name16.replace('_16bit', '_8bit')));
      expect(pearson(volume8.data, volume16.data), name16).toBeGreaterThan(0.999);
      // After rescaling the 16-bit values to the 8-bit range, they agree within rounding.
      const scale = maxOf(volume8.data) / maxOf(volume16.data);
      let worst = 0;
      for (let i = 0; i < volume8.data.length; i++) {
        worst = Math.max(worst, Math.abs(volume8.data[i]! - scale * volume16.data[i]!));
      }
      expect(worst, name16).toBeLessThan(2);
    }
  });

  it('reads the labels on the anatomy: labelled pixels are inside the brain of the same slice', async () => {
    const labels = await readImage(join(png2d, 'sri24_z075_labels.png'));
    const t1 = await readImage(join(png2d, 'sri24_z075_t1_16bit.png'));
    let labelled = 0;
    let labelledInBrain = 0;
    for (let i = 0; i < labels.data.length; i++) {
      if (labels.data[i]! > 0) {
        labelled++;
        if (t1.data[i]! > 0) labelledInBrain++;
      }
    }
    expect(labelled).toBeGreaterThan(10_000);
    expect(labelledInBrain / labelled).toBeGreaterThan(0.99);
  });

  it('reads the JPEG slices as 256 x 256 8-bit greyscale', async () => {
    expect(jpegNames).toHaveLength(6);
    for (const name of jpegNames) {
      const path = join(slicesJpg, name);
      const volume = await readImage(path);
      expect(volume.dims, name).toEqual([256, 256, 1]);
      expect(volume.source.format, name).toBe('jpeg');
      expect(volume.source.datatype, name).toBe('uint8');
      expect(maxOf(volume.data), name).toBeLessThanOrEqual(255);
      expect(maxOf(volume.data), name).toBeGreaterThan(50);
      expect(await readImageChannels(path), name).toHaveLength(1);
    }
  });

  it('throws ImageFileError for a copy of a real PNG cut in half', async () => {
    const whole = readFileSync(join(png2d, 'sri24_z075_t1_16bit.png'));
    const path = join(folder, 'real-truncated.png');
    writeFileSync(path, whole.subarray(0, whole.length >> 1));
    await expectImageFileError(readImage(path), path, /cannot decode PNG: .+/);
  });

  it('writes an overlay of a real slice with its labels, grey outside the brain and tinted inside', async () => {
    const t1 = await readImage(join(png2d, 'sri24_z075_t1_8bit.png'));
    const labels = await readImage(join(png2d, 'sri24_z075_labels.png'));
    const path = join(folder, 'real-overlay.png');
    await writeOverlayPng(path, t1, Uint8Array.from(labels.data));
    const { data, info } = await decodeRaw(path);
    expect([info.width, info.height, info.channels]).toEqual([240, 240, 3]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < labels.data.length; i++) {
      const x = i % 240;
      const y = Math.floor(i / 240);
      const pixel = ((239 - y) * 240 + x) * 3;
      const isGrey = data[pixel] === data[pixel + 1] && data[pixel + 1] === data[pixel + 2];
      const label = labels.data[i]!;
      if (label === 0) expect(isGrey).toBe(true);
      else if (!isGrey) counts[label]!++;
    }
    expect(counts.slice(1).every((count) => count > 1000)).toBe(true);
  });
});
