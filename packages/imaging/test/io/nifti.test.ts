import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNifti, writeLabelMap, writeNifti, writeProbabilityMaps } from '../../src/io/nifti-file.ts';
import { NIFTI_MAX_DIMENSION } from '../../src/io/nifti-header.ts';
import { parseNifti } from '../../src/io/nifti-reader.ts';
import {
  classProbabilityImage,
  encodeNifti1,
  type NiftiImage,
  probabilityMapsImage,
} from '../../src/io/nifti-writer.ts';
import { type DataType, ImageFileError, type Volume } from '../../src/types.ts';
import { buildNifti, patched, STORAGE } from './nifti-builder.ts';

const sharedData = new URL('../../../../../shared/data/', import.meta.url);
const hasSharedData = existsSync(sharedData);
const SKIP_REASON = '(skipped when ../shared/data, the real MR files, is absent)';
if (!hasSharedData) {
  console.warn(`nifti.test.ts: ${fileURLToPath(sharedData)} is absent; tests on real MR files are skipped`);
}
const sharedPath = (name: string) => fileURLToPath(new URL(name, sharedData));

/** When set, the round trips write here (and keep) their files plus a manifest for the nibabel check. */
const checkFolder = process.env['MIXSEG_NIFTI_CHECK_DIR'];

/** Asserts that `action` throws an ImageFileError naming `path` and matching each fragment. */
function expectFileError(action: () => unknown, path: string, ...fragments: RegExp[]): ImageFileError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ImageFileError);
  const error = caught as ImageFileError;
  expect(error.path).toBe(path);
  expect(error.message.startsWith(`${path}: `)).toBe(true);
  for (const fragment of fragments) expect(error.message).toMatch(fragment);
  return error;
}

async function expectFileErrorAsync(action: Promise<unknown>, path: string, ...fragments: RegExp[]) {
  const error = await action.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return expectFileError(
    () => {
      if (error !== undefined) throw error;
    },
    path,
    ...fragments,
  );
}

/** Header bytes of a written file (gunzipped when gzip), as a little-endian DataView. */
function headerView(fileBytes: Uint8Array): DataView {
  const bytes = fileBytes[0] === 0x1f && fileBytes[1] === 0x8b ? gunzipSync(fileBytes) : fileBytes;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Sum with Neumaier compensation, over finite values: close to exactly rounded. */
function compensatedSum(values: ArrayLike<number>, square = false): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) continue;
    const x = square ? value * value : value;
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/**
 * Asserts equal length and equal values (NaN equals NaN), reporting the first difference; fast on
 * millions of voxels, where a deep toEqual is not.
 */
function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a !== e && !(Number.isNaN(a) && Number.isNaN(e))) {
      expect({ index: i, value: a }).toEqual({ index: i, value: e });
    }
  }
}

/** The largest value (no spread: fine for millions of values). */
function maxOf(values: ArrayLike<number>): number {
  let largest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, values[i]!);
  return largest;
}

function relativeDifference(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
}

function maxAbsoluteDifference(a: number[][], b: number[][]): number {
  let largest = 0;
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) largest = Math.max(largest, Math.abs(a[r]![c]! - b[r]![c]!));
  }
  return largest;
}

const EXTREMES: Record<DataType, number[]> = {
  uint8: [0, 1, 127, 255],
  int8: [-128, -1, 0, 127],
  int16: [-32768, -1, 0, 32767],
  uint16: [0, 1, 40000, 65535],
  int32: [-2147483648, -1, 0, 2147483647],
  uint32: [0, 1, 3000000000, 4294967295],
  float32: [Number.NaN, Number.POSITIVE_INFINITY, -0.5, Math.fround(3.4e38)],
  float64: [Number.NaN, Number.NEGATIVE_INFINITY, 1e300, 0.1],
};
const FLOAT64_OUTPUT = new Set<DataType>(['int32', 'uint32', 'float64']);

describe('parseNifti on synthetic files built in memory', () => {
  for (const datatype of Object.keys(EXTREMES) as DataType[]) {
    for (const littleEndian of [true, false]) {
      const order = littleEndian ? 'little' : 'big';
      const values = EXTREMES[datatype];

      it(`reads ${datatype} voxels exactly from a ${order}-endian NIfTI-1 file`, () => {
        const bytes = buildNifti({ datatype, littleEndian, dim: [3, 2, 2, 1], values });
        const volume = parseNifti(bytes, 'extremes.nii');
        expect(volume.data).toBeInstanceOf(FLOAT64_OUTPUT.has(datatype) ? Float64Array : Float32Array);
        expect(Array.from(volume.data)).toEqual(values);
        expect(volume.dims).toEqual([2, 2, 1]);
        expect(volume.source).toEqual({
          path: 'extremes.nii',
          format: 'nifti-1',
          datatype,
          nVolumes: 1,
          volumeIndex: 0,
        });
      });

      it(`reads ${datatype} voxels exactly from a ${order}-endian NIfTI-2 file`, () => {
        const bytes = buildNifti({ version: 2, datatype, littleEndian, dim: [3, 2, 2, 1], values });
        const volume = parseNifti(bytes, 'extremes.nii');
        expect(Array.from(volume.data)).toEqual(values);
        expect(volume.source.format).toBe('nifti-2');
      });
    }
  }

  it('keeps the float64 geometry of a NIfTI-2 file exactly and uses its sform as the affine', () => {
    const srow: [number[], number[], number[]] = [
      [0.1, 0.2, 0.3, -90.123456789],
      [0, 1.1, 0, 1e-9],
      [0, 0, 1.3, 72.000000001],
    ];
    for (const littleEndian of [true, false]) {
      const bytes = buildNifti({
        version: 2,
        littleEndian,
        datatype: 'float64',
        dim: [3, 3, 2, 2],
        values: Array.from({ length: 12 }, (_, i) => i / 3),
        pixdim: [-1, 0.1, 1.1, 1.3, 0, 0, 0, 0],
        sformCode: 4,
        qformCode: 1,
        quaternion: [0, 1, 0],
        qoffset: [1.5, 2.5, 3.5],
        srow,
      });
      const volume = parseNifti(bytes, 'double.nii');
      expect(volume.geometry.srow).toEqual(srow);
      expect(volume.geometry.pixdim).toEqual([-1, 0.1, 1.1, 1.3, 0, 0, 0, 0]);
      expect(volume.affine).toEqual([...srow, [0, 0, 0, 1]]);
      expect(volume.spacing).toEqual([0.1, 1.1, 1.3]);
      expect(Array.from(volume.data)).toEqual(Array.from({ length: 12 }, (_, i) => i / 3));
    }
  });

  it('reads volume 2 of a 4-D file with 3 volumes when asked, and volume 0 by default', () => {
    const values = Array.from({ length: 3 * 8 }, (_, i) => 100 * Math.floor(i / 8) + (i % 8));
    const bytes = buildNifti({ dim: [4, 2, 2, 2, 3], values });
    const first = parseNifti(bytes, 'four-d.nii');
    const third = parseNifti(bytes, 'four-d.nii', { volume: 2 });
    expect(Array.from(first.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(third.data)).toEqual([200, 201, 202, 203, 204, 205, 206, 207]);
    expect(third.source).toMatchObject({ nVolumes: 3, volumeIndex: 2 });
    expect(third.dims).toEqual([2, 2, 2]);
  });

  it('throws RangeError naming the file for a volume index outside 0 to nVolumes - 1', () => {
    const bytes = buildNifti({ dim: [4, 2, 2, 2, 3], values: new Array(24).fill(0) });
    expect(() => parseNifti(bytes, 'four-d.nii', { volume: 3 })).toThrow(
      new RangeError('volume must be from 0 to 2 for four-d.nii (3 volumes), got 3'),
    );
    expect(() => parseNifti(bytes, 'four-d.nii', { volume: -1 })).toThrow(RangeError);
    expect(() => parseNifti(bytes, 'four-d.nii', { volume: 1.5 })).toThrow(RangeError);
  });

  it('reads a 4-D file with one volume as a 3-D image', () => {
    const volume = parseNifti(buildNifti({ dim: [4, 2, 3, 2, 1], values: new Array(12).fill(7) }), 'one.nii');
    expect(volume.dims).toEqual([2, 3, 2]);
    expect(volume.source).toMatchObject({ nVolumes: 1, volumeIndex: 0 });
    expect(volume.data.length).toBe(12);
  });

  it('reads a 2-D image as nz = 1 and a 1-D image as ny = nz = 1, ignoring dim[] entries past dim[0]', () => {
    const twoD = parseNifti(buildNifti({ dim: [2, 4, 3, 99, 99], values: new Array(12).fill(1) }), '2d.nii');
    expect(twoD.dims).toEqual([4, 3, 1]);
    const oneD = parseNifti(buildNifti({ dim: [1, 5, 7, 7], values: [1, 2, 3, 4, 5] }), '1d.nii');
    expect(oneD.dims).toEqual([5, 1, 1]);
    expect(Array.from(oneD.data)).toEqual([1, 2, 3, 4, 5]);
  });

  it('computes a qform-only affine from the quaternion, qfac, pixdim and qoffset as nifti1_io does', () => {
    // A 90 degree rotation about z: a = d = sqrt(1/2); qfac = -1 flips the third column.
    const bytes = buildNifti({
      dim: [3, 1, 1, 1],
      values: [0],
      pixdim: [-1, 2, 3, 4, 0, 0, 0, 0],
      qformCode: 1,
      quaternion: [0, 0, Math.SQRT1_2],
      qoffset: [10, 20, 30],
      srow: [
        [9, 9, 9, 9],
        [9, 9, 9, 9],
        [9, 9, 9, 9],
      ],
    });
    const volume = parseNifti(bytes, 'qform.nii');
    const expected = [
      [0, -3, 0, 10],
      [2, 0, 0, 20],
      [0, 0, -4, 30],
      [0, 0, 0, 1],
    ];
    expect(maxAbsoluteDifference(volume.affine, expected)).toBeLessThan(1e-6);
    expect(volume.geometry).toMatchObject({ qformCode: 1, sformCode: 0, qoffset: [10, 20, 30] });
  });

  it('gives exactly diag(-2, 2, 2) for the MNI templates quaternion (0, 1, 0) with qfac -1', () => {
    const bytes = buildNifti({
      dim: [3, 1, 1, 1],
      values: [0],
      pixdim: [-1, 2, 2, 2, 1, 0, 0, 0],
      qformCode: 4,
      quaternion: [0, 1, 0],
      qoffset: [90, -126, -72],
    });
    // -0 and 0 are the same coordinate; compare numbers, not signs of zero.
    expect(parseNifti(bytes, 'mni.nii').affine.map((row) => row.map((value) => value + 0))).toEqual([
      [-2, 0, 0, 90],
      [0, 2, 0, -126],
      [0, 0, 2, -72],
      [0, 0, 0, 1],
    ]);
  });

  it('treats qfac = pixdim[0] = 0 as 1', () => {
    const bytes = buildNifti({ dim: [3, 1, 1, 1], values: [0], pixdim: [0, 2, 3, 4], qformCode: 2 });
    expect(parseNifti(bytes, 'qfac0.nii').affine).toEqual([
      [2, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 4, 0],
      [0, 0, 0, 1],
    ]);
  });

  it('uses the sform when only sform_code is set, ignoring a stale quaternion', () => {
    const srow: [number[], number[], number[]] = [
      [-1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ];
    const bytes = buildNifti({
      dim: [3, 1, 1, 1],
      values: [0],
      sformCode: 1,
      quaternion: [0.5, 0.5, 0.5],
      qoffset: [-98, -134, -72],
      srow,
    });
    expect(parseNifti(bytes, 'sform.nii').affine).toEqual([...srow, [0, 0, 0, 1]]);
  });

  it('prefers the sform even when qform_code (2) is larger than sform_code (1), as the standard and nibabel do', () => {
    const srow: [number[], number[], number[]] = [
      [1, 0, 0, -90],
      [0, 1, 0, 126],
      [0, 0, 1, 72],
    ];
    const bytes = buildNifti({
      dim: [3, 1, 1, 1],
      values: [0],
      qformCode: 2,
      sformCode: 1,
      pixdim: [-1, 1, 1, 1],
      quaternion: [0, 1, 0],
      qoffset: [90, -126, -72],
      srow,
    });
    const volume = parseNifti(bytes, 'both.nii');
    expect(volume.affine).toEqual([...srow, [0, 0, 0, 1]]);
    expect(volume.geometry).toMatchObject({ qformCode: 2, sformCode: 1, quaternion: [0, 1, 0] });
  });

  it('uses diag(pixdim[1..3]) when neither transform is set, taking a pixdim of 0 or NaN as 1', () => {
    const bytes = buildNifti({ dim: [3, 1, 1, 1], values: [0], pixdim: [1, 0.5, 0.75, 3, 0, 0, 0, 0] });
    expect(parseNifti(bytes, 'plain.nii').affine).toEqual([
      [0.5, 0, 0, 0],
      [0, 0.75, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ]);
    const flat = parseNifti(
      buildNifti({ dim: [2, 1, 1], values: [0], pixdim: [1, 0.5, Number.NaN, 0] }),
      'flat.nii',
    );
    expect(flat.affine).toEqual([
      [0.5, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ]);
    expect(flat.spacing).toEqual([0.5, 1, 1]);
  });

  it('converts metres and micrometres to mm in spacing and affine, and takes unknown units as mm', () => {
    const make = (xyztUnits: number, size: number) =>
      parseNifti(
        buildNifti({
          dim: [3, 1, 1, 1],
          values: [0],
          xyztUnits,
          pixdim: [1, size, size, size],
          sformCode: 1,
          srow: [
            [size, 0, 0, size],
            [0, size, 0, 0],
            [0, 0, size, 0],
          ],
        }),
        'units.nii',
      );
    const metres = make(1 | 8, 0.001);
    expect(metres.spacing.map((s) => Math.round(s * 1e6) / 1e6)).toEqual([1, 1, 1]);
    expect(metres.affine[0]![0]).toBeCloseTo(1, 6);
    expect(metres.affine[0]![3]).toBeCloseTo(1, 6);
    const micrometres = make(3, 500);
    expect(micrometres.spacing).toEqual([0.5, 0.5, 0.5]);
    expect(micrometres.affine[0]![0]).toBe(0.5);
    expect(make(0, 2).spacing).toEqual([2, 2, 2]);
    expect(make(0, 2).geometry.xyztUnits).toBe(0);
  });

  it('applies scl_slope and scl_inter, in float64, to the stored values', () => {
    const volume = parseNifti(
      buildNifti({ dim: [3, 4, 1, 1], values: [-3, 0, 1, 1000], sclSlope: 2, sclInter: -10 }),
      'scaled.nii',
    );
    expect(Array.from(volume.data)).toEqual([-16, -10, -8, 1990]);
    const fraction = parseNifti(
      buildNifti({ datatype: 'uint8', dim: [3, 3, 1, 1], values: [0, 128, 255], sclSlope: 1 / 255 }),
      'fraction.nii',
    );
    const slope = Math.fround(1 / 255);
    expect(Array.from(fraction.data)).toEqual([0, Math.fround(128 * slope), Math.fround(255 * slope)]);
    const exact = parseNifti(
      buildNifti({
        datatype: 'int32',
        dim: [3, 2, 1, 1],
        values: [2147483647, -7],
        sclSlope: 0.5,
        sclInter: 1,
      }),
      'exact.nii',
    );
    expect(Array.from(exact.data)).toEqual([1073741824.5, -2.5]);
  });

  it.each([
    ['0', 0],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('treats scl_slope %s as unscaled, as the standard says', (_, sclSlope) => {
    const volume = parseNifti(
      buildNifti({ dim: [3, 3, 1, 1], values: [-5, 0, 5], sclSlope, sclInter: 100 }),
      'unscaled.nii',
    );
    expect(Array.from(volume.data)).toEqual([-5, 0, 5]);
  });

  it('keeps NaN and infinite voxels in the volume', () => {
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1];
    const volume = parseNifti(buildNifti({ datatype: 'float32', dim: [3, 4, 1, 1], values }), 'nan.nii');
    expect(Array.from(volume.data)).toEqual(values);
  });

  it('reads .nii.gz bytes (detected by the gzip magic), including gzip files of several members', () => {
    const bytes = buildNifti({
      datatype: 'float32',
      dim: [3, 5, 4, 3],
      values: Array.from({ length: 60 }, (_, i) => i),
    });
    const plain = parseNifti(bytes, 'plain.nii');
    expect(parseNifti(gzipSync(bytes), 'one-member.nii.gz')).toEqual({
      ...plain,
      source: { ...plain.source, path: 'one-member.nii.gz' },
    });
    const twoMembers = new Uint8Array([
      ...gzipSync(bytes.subarray(0, 100)),
      ...gzipSync(bytes.subarray(100)),
    ]);
    expect(Array.from(parseNifti(twoMembers, 'two-members.nii.gz').data)).toEqual(Array.from(plain.data));
  });

  it('leaves the input bytes unchanged and reads from a view at an odd byte offset', () => {
    const bytes = buildNifti({
      littleEndian: false,
      datatype: 'float64',
      dim: [3, 2, 1, 1],
      values: [1.5, -2.25],
    });
    const before = bytes.slice();
    const container = new Uint8Array(bytes.length + 3);
    container.set(bytes, 3);
    const volume = parseNifti(container.subarray(3), 'offset.nii');
    expect(Array.from(volume.data)).toEqual([1.5, -2.25]);
    parseNifti(bytes, 'offset.nii');
    expect(bytes).toEqual(before);
  });
});

describe('parseNifti refuses bad input with an ImageFileError naming the file and the problem', () => {
  const good = buildNifti({ dim: [3, 4, 4, 4], values: new Array(64).fill(3) });

  it('refuses an empty file', () => {
    expectFileError(
      () => parseNifti(new Uint8Array(0), 'empty.nii'),
      'empty.nii',
      /file is empty \(0 bytes\)/,
    );
  });

  it('refuses a truncated NIfTI-1 header and a truncated NIfTI-2 header', () => {
    expectFileError(
      () => parseNifti(good.subarray(0, 200), 'short.nii'),
      'short.nii',
      /truncated header: 200 bytes, a NIfTI-1 header needs 348/,
    );
    const two = buildNifti({ version: 2, dim: [3, 1, 1, 1], values: [0] });
    expectFileError(
      () => parseNifti(two.subarray(0, 400), 'short2.nii'),
      'short2.nii',
      /truncated header: 400 bytes, a NIfTI-2 header needs 540/,
    );
  });

  it('refuses a file whose sizeof_hdr is neither 348 nor 540', () => {
    const png = new Uint8Array(400);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expectFileError(
      () => parseNifti(png, 'picture.png'),
      'picture.png',
      /not a NIfTI file: sizeof_hdr/,
      /348/,
    );
  });

  it('refuses a wrong magic string, and says so for a .hdr/.img pair header', () => {
    const wrong = patched(good, (view) => view.setUint32(344, 0x61626300));
    expectFileError(
      () => parseNifti(wrong, 'magic.nii'),
      'magic.nii',
      /wrong magic at byte 344: expected "n\+1\\0", found "abc\\0"/,
    );
    const pair = patched(good, (view) => view.setUint8(345, 'i'.charCodeAt(0)));
    expectFileError(
      () => parseNifti(pair, 'pair.hdr'),
      'pair.hdr',
      /magic is "ni1": the header of a \.hdr\/\.img pair/,
    );
    const two = buildNifti({ version: 2, dim: [3, 1, 1, 1], values: [0] });
    const textMode = patched(two, (view) => view.setUint8(8, 0x0a));
    expectFileError(() => parseNifti(textMode, 'text.nii'), 'text.nii', /line-ending check bytes/);
  });

  it('refuses a gzip stream that ends early or is corrupt', () => {
    const compressed = gzipSync(
      buildNifti({
        datatype: 'float32',
        dim: [3, 20, 20, 20],
        values: new Array(8000).fill(0).map((_, i) => Math.sin(i)),
      }),
    );
    expectFileError(
      () => parseNifti(compressed.subarray(0, compressed.length >> 1), 'cut.nii.gz'),
      'cut.nii.gz',
      /gzip data ends early \(truncated file\?\)/,
    );
    expectFileError(
      () => parseNifti(compressed.subarray(0, compressed.length - 4), 'trailer.nii.gz'),
      'trailer.nii.gz',
      /gzip data is corrupt or truncated: member 1 inflates to/,
    );
    expectFileError(() => parseNifti(compressed.subarray(0, 12), 'header.nii.gz'), 'header.nii.gz', /gzip/);
    const flipped = patched(compressed, (view) =>
      view.setUint8(compressed.length >> 1, view.getUint8(compressed.length >> 1) ^ 0x10),
    );
    expectFileError(() => parseNifti(flipped, 'flipped.nii.gz'), 'flipped.nii.gz', /gzip data is corrupt/);
  });

  it('refuses gzip data that inflates to over 1 MiB more than its header describes', () => {
    const header = buildNifti({ datatype: 'uint8', dim: [3, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] });
    const padded = new Uint8Array(header.length + 2 ** 21);
    padded.set(header);
    expectFileError(
      () => parseNifti(gzipSync(padded), 'bomb.nii.gz'),
      'bomb.nii.gz',
      /gzip data inflates to more than 1048936 bytes, over 1 MiB beyond the 360 bytes its NIfTI header describes/,
    );
    // Up to 1 MiB of trailing data is ignored, as it is in an uncompressed file.
    const tail = new Uint8Array(header.length + 1000);
    tail.set(header);
    expect(Array.from(parseNifti(gzipSync(tail), 'tail.nii.gz').data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(parseNifti(tail, 'tail.nii').data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each([
    [128, 'RGB24'],
    [1792, 'complex128'],
    [1024, 'int64'],
    [77, 'not a NIfTI datatype'],
  ])('refuses the unsupported datatype code %i (%s), naming it', (code, name) => {
    const bad = patched(good, (view) => view.setInt16(70, code, true));
    expectFileError(
      () => parseNifti(bad, 'type.nii'),
      'type.nii',
      new RegExp(`unsupported datatype code ${code} \\(${name}\\); supported: uint8 \\(2\\)`),
    );
  });

  it('refuses dimensions that need more bytes than the file has, giving expected and actual bytes', () => {
    const short = good.subarray(0, 352 + 20);
    expectFileError(
      () => parseNifti(short, 'short-data.nii'),
      'short-data.nii',
      /too short for its dimensions: 4 x 4 x 4 x 1 int16 voxels from vox_offset 352 need 480 bytes, the file has 372 bytes/,
    );
    expectFileError(
      () => parseNifti(gzipSync(short), 'short-data.nii.gz'),
      'short-data.nii.gz',
      /need 480 bytes, the decompressed data has 372 bytes/,
    );
  });

  it('refuses absurd dimensions before allocating anything for them', () => {
    const cube = patched(good, (view) => {
      for (const at of [42, 44, 46]) view.setInt16(at, 30000, true);
    });
    expectFileError(
      () => parseNifti(cube, 'cube.nii'),
      'cube.nii',
      /30000 x 30000 x 30000 = 27000000000000 voxels per volume is more than the limit of 2\^31 \(2147483648\)/,
    );
    const huge = buildNifti({ version: 2, dim: [3, 60000, 60000, 60000], values: [1, 2, 3] });
    expectFileError(
      () => parseNifti(huge, 'huge.nii'),
      'huge.nii',
      /voxels per volume is more than the limit of 2\^31/,
    );
    const wide = buildNifti({ version: 2, dim: [3, NIFTI_MAX_DIMENSION + 1, 1, 1], values: [1] });
    expectFileError(
      () => parseNifti(wide, 'wide.nii'),
      'wide.nii',
      /dim\[1\] is 65537: each dimension must be from 1 to 65536 \(2\^16\)/,
    );
    const zero = patched(good, (view) => view.setInt16(44, 0, true));
    expectFileError(
      () => parseNifti(zero, 'zero.nii'),
      'zero.nii',
      /dim\[2\] is 0: each dimension must be from 1/,
    );
    const negative = patched(good, (view) => view.setInt16(46, -4, true));
    expectFileError(() => parseNifti(negative, 'negative.nii'), 'negative.nii', /dim\[3\] is -4/);
    const rank = patched(good, (view) => view.setInt16(40, 9, true));
    expectFileError(
      () => parseNifti(rank, 'rank.nii'),
      'rank.nii',
      /dim\[0\] \(the number of dimensions\) is 9: must be 1 to 7/,
    );
    const fiveD = buildNifti({ dim: [5, 2, 1, 1, 1, 2], values: [1, 2, 3, 4] });
    expectFileError(
      () => parseNifti(fiveD, 'five.nii'),
      'five.nii',
      /dim\[5\] is 2: images with more than 4 dimensions/,
    );
  });

  it('refuses a vox_offset beyond the end of the file, inside the header, or not a whole number', () => {
    const beyond = patched(good, (view) => view.setFloat32(108, 100000, true));
    expectFileError(
      () => parseNifti(beyond, 'beyond.nii'),
      'beyond.nii',
      /vox_offset 100000 is beyond the end of the data: the file has 480 bytes/,
    );
    const inside = patched(good, (view) => view.setFloat32(108, 100, true));
    expectFileError(
      () => parseNifti(inside, 'inside.nii'),
      'inside.nii',
      /vox_offset is 100: .* at least the header's 348/,
    );
    const fraction = patched(good, (view) => view.setFloat32(108, 352.5, true));
    expectFileError(() => parseNifti(fraction, 'fraction.nii'), 'fraction.nii', /vox_offset is 352.5/);
  });

  it('refuses an sform in use whose rows hold NaN, and a finite slope with a NaN intercept', () => {
    const sform = buildNifti({
      dim: [3, 1, 1, 1],
      values: [0],
      sformCode: 2,
      srow: [
        [1, 0, 0, 0],
        [0, Number.NaN, 0, 0],
        [0, 0, 1, 0],
      ],
    });
    expectFileError(
      () => parseNifti(sform, 'sform.nii'),
      'sform.nii',
      /sform_code is 2 but srow holds a value that is not finite/,
    );
    const intercept = buildNifti({ dim: [3, 1, 1, 1], values: [0], sclSlope: 2, sclInter: Number.NaN });
    expectFileError(
      () => parseNifti(intercept, 'inter.nii'),
      'inter.nii',
      /scl_slope is 2 but scl_inter is NaN/,
    );
  });

  it('readNifti names a missing file and a folder given as a file', async () => {
    const missing = join(tmpdir(), 'mixseg-no-such-file.nii.gz');
    await expectFileErrorAsync(readNifti(missing), missing, /no such file/);
    await expectFileErrorAsync(readNifti(tmpdir()), tmpdir(), /is a folder, not a file/);
  });
});

/** A reference volume with every geometry field set and distinct: big-endian, oblique qform, sform. */
function syntheticReferenceBytes(): Uint8Array {
  const [nx, ny, nz] = [5, 4, 3];
  return buildNifti({
    littleEndian: false,
    datatype: 'int16',
    dim: [4, nx, ny, nz, 1],
    values: Array.from({ length: nx * ny * nz }, (_, i) => (i * 37) % 101),
    pixdim: [-1, 0.9, 1.1, 2.5, 3, 0, 0, 0],
    xyztUnits: 2 | 8,
    qformCode: 1,
    sformCode: 2,
    quaternion: [0.1, -0.2, 0.3],
    qoffset: [-10.5, 20.25, -30.125],
    srow: [
      [0.9, 0.01, 0, -10.5],
      [0, 1.1, 0.02, 20.25],
      [0.03, 0, -2.5, -30.125],
    ],
    sclSlope: 0,
  });
}

/** Labels 0-3 that change from voxel to voxel in all three directions. */
function syntheticLabels(nVoxels: number): Uint8Array {
  return Uint8Array.from({ length: nVoxels }, (_, v) => (v * 7 + 3 + Math.floor(v / 5)) % 4);
}

const ON = 0.7;
const OFF = 0.1;
const N_CLASSES = 4;

/** Voxel-major probabilities: ON for the voxel's label, OFF for the other classes. */
function oneHotProbabilities(labels: Uint8Array): Float32Array {
  const probabilities = new Float32Array(labels.length * N_CLASSES);
  for (let v = 0; v < labels.length; v++) {
    for (let k = 0; k < N_CLASSES; k++) probabilities[v * N_CLASSES + k] = labels[v] === k ? ON : OFF;
  }
  return probabilities;
}

interface ManifestEntry {
  file: string;
  kind: 'labels' | 'probabilities' | 'class-probability';
  reference: string;
  labels?: number[];
  labelsFrom?: string;
  nClasses?: number;
  classIndex?: number;
  on?: number;
  off?: number;
}

describe('writing NIfTI-1', () => {
  let folder: string;
  const manifest: ManifestEntry[] = [];

  beforeAll(async () => {
    if (checkFolder !== undefined) {
      // Never emptied (it is the user's folder): the files listed in the manifest are overwritten.
      await mkdir(checkFolder, { recursive: true });
      folder = checkFolder;
    } else {
      folder = await mkdtemp(join(tmpdir(), 'mixseg-nifti-'));
    }
  });

  afterAll(async () => {
    if (checkFolder !== undefined) {
      await writeFile(join(folder, 'manifest.json'), `${JSON.stringify({ files: manifest })}\n`);
    } else {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('writes probability maps around their voxels in place, byte for byte as from a plain copy', () => {
    const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    const nVoxels = reference.data.length;
    const probabilities = Float32Array.from({ length: nVoxels * 3 }, (_, i) => ((i * 7919) % 1000) / 999);
    for (const image of [
      classProbabilityImage(probabilities, 3, 1, reference),
      probabilityMapsImage(probabilities, 3, reference),
    ]) {
      const copied = encodeNifti1({ ...image, data: Float32Array.from(image.data) });
      const inPlace = encodeNifti1(image);
      // the file is the voxels' own buffer, with the header written before them
      expect(inPlace.buffer).toBe((image.data as Float32Array).buffer);
      expect(inPlace).toEqual(copied);
      // encoding again (another description) rewrites the whole header
      const again = encodeNifti1({ ...image, description: 'x' });
      expect(again.subarray(348)).toEqual(copied.subarray(348));
      expect(again.subarray(148, 228)).toEqual(
        Uint8Array.from({ length: 80 }, (_, i) => (i === 0 ? 120 : 0)),
      );
      expect(parseNifti(again, 'again.nii').data).toEqual(parseNifti(copied, 'copied.nii').data);
    }
  });

  it('encodes a single-file little-endian NIfTI-1 header with the geometry copied field by field', () => {
    const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    const image: NiftiImage = {
      data: Float32Array.from({ length: 60 }, (_, i) => i / 7),
      dims: [5, 4, 3],
      datatype: 'float32',
      geometry: reference.geometry,
      intentCode: 1002,
      intentName: 'labels',
      description: 'a description',
      calMin: -1,
      calMax: 2,
    };
    const bytes = encodeNifti1(image);
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(352 + 60 * 4);
    expect(view.getInt32(0, true)).toBe(348);
    expect(String.fromCharCode(...bytes.subarray(344, 348))).toBe('n+1\0');
    expect(Array.from(bytes.subarray(348, 352))).toEqual([0, 0, 0, 0]);
    expect(view.getFloat32(108, true)).toBe(352);
    expect([view.getFloat32(112, true), view.getFloat32(116, true)]).toEqual([1, 0]);
    expect(Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, true))).toEqual([
      3, 5, 4, 3, 1, 1, 1, 1,
    ]);
    expect([view.getInt16(68, true), view.getInt16(70, true), view.getInt16(72, true)]).toEqual([
      1002, 16, 32,
    ]);
    expect([view.getFloat32(124, true), view.getFloat32(128, true)]).toEqual([2, -1]);
    expect(bytes[123]).toBe(10);
    expect([view.getInt16(252, true), view.getInt16(254, true)]).toEqual([1, 2]);
    const readBack = parseNifti(bytes, 'encoded.nii');
    expect(readBack.geometry).toEqual(reference.geometry);
    expect(readBack.affine).toEqual(reference.affine);
    expect(Array.from(readBack.data)).toEqual(Array.from(image.data as Float32Array));
  });

  it.each(Object.keys(EXTREMES) as DataType[])(
    'round-trips %s voxels through parseNifti exactly',
    (datatype) => {
      const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
      const values = EXTREMES[datatype];
      const bytes = encodeNifti1({ data: values, dims: [2, 2, 1], datatype, geometry: reference.geometry });
      expect(new DataView(bytes.buffer).getInt16(70, true)).toBe(STORAGE[datatype].code);
      expect(Array.from(parseNifti(bytes, 'round.nii').data)).toEqual(values);
    },
  );

  it('throws RangeError, expected versus got, for an inconsistent image', () => {
    const { geometry } = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    const base = { dims: [2, 2, 1] as [number, number, number], geometry };
    expect(() => encodeNifti1({ ...base, data: [1, 2, 3], datatype: 'uint8' })).toThrow(
      new RangeError('data.length must equal 2 x 2 x 1 = 4, got 3'),
    );
    expect(() => encodeNifti1({ ...base, data: [1, 2, 3.5, 4], datatype: 'uint8' })).toThrow(
      /data\[2\] is 3.5: uint8 holds integers from 0 to 255/,
    );
    expect(() => encodeNifti1({ ...base, data: [1, 2, 256, 4], datatype: 'uint8' })).toThrow(
      /data\[2\] is 256/,
    );
    expect(() => encodeNifti1({ ...base, dims: [2, 2, 40000], data: [], datatype: 'uint8' })).toThrow(
      /dims\[2\] must be an integer from 1 to 32767/,
    );
    expect(() =>
      encodeNifti1({ ...base, data: [1, 2, 3, 4], datatype: 'uint8', description: 'x'.repeat(81) }),
    ).toThrow(/description must be at most 80 characters, got 81/);
  });

  /**
   * Writes a label map (.nii.gz, twice), 4-D probability maps (.nii) and per-class maps
   * (`classExtension`) on `reference`, reads them back and compares, and lists them for the
   * nibabel check.
   */
  async function roundTrip(
    name: string,
    reference: Volume,
    labels: Uint8Array,
    labelsSource: Partial<ManifestEntry>,
    classExtension: '.nii' | '.nii.gz',
  ) {
    const [nx, ny, nz] = reference.dims;
    const referencePath = labelsSource.reference ?? reference.source.path;
    const common = { reference: referencePath, ...labelsSource };

    // Label map, gzipped, written twice: the bytes must be identical.
    const labelPath = join(folder, `${name}-labels.nii.gz`);
    await writeLabelMap(labelPath, labels, reference);
    await writeLabelMap(join(folder, `${name}-labels-again.nii.gz`), labels, reference);
    const labelBytes = await readFile(labelPath);
    expect(Buffer.compare(labelBytes, await readFile(join(folder, `${name}-labels-again.nii.gz`)))).toBe(0);
    expect(Array.from(labelBytes.subarray(3, 8))).toEqual([0, 0, 0, 0, 0]); // no FNAME flag, no mtime
    const header = headerView(labelBytes);
    expect(header.getInt16(68, true)).toBe(1002);
    expect(header.getInt16(70, true)).toBe(2);
    expect(header.getFloat32(128, true)).toBe(0);
    expect(header.getFloat32(124, true)).toBe(maxOf(labels));
    const labelMap = await readNifti(labelPath);
    expectSameValues(labelMap.data, labels);
    expect(labelMap.affine).toEqual(reference.affine);
    expect(labelMap.geometry).toEqual(reference.geometry);
    expect(labelMap.dims).toEqual(reference.dims);
    manifest.push({ file: `${name}-labels.nii.gz`, kind: 'labels', ...common });

    // Probability maps: one 4-D file, and one 3-D file per class.
    const probabilities = oneHotProbabilities(labels);
    const fourD = join(folder, `${name}-probabilities.nii`);
    await writeProbabilityMaps(fourD, probabilities, N_CLASSES, reference);
    const perClass = Array.from({ length: N_CLASSES }, (_, k) =>
      join(folder, `${name}-probability-${k}${classExtension}`),
    );
    await writeProbabilityMaps(perClass, probabilities, N_CLASSES, reference);
    const fourDBytes = await readFile(fourD);
    expect(headerView(fourDBytes).getInt16(40, true)).toBe(4);
    expect(headerView(fourDBytes).getInt16(48, true)).toBe(N_CLASSES);
    const nVoxels = nx * ny * nz;
    for (let k = 0; k < N_CLASSES; k++) {
      const expected = new Float32Array(nVoxels);
      for (let v = 0; v < nVoxels; v++) expected[v] = probabilities[v * N_CLASSES + k]!;
      const volume = parseNifti(fourDBytes, fourD, { volume: k });
      expect(volume.source).toMatchObject({ nVolumes: N_CLASSES, volumeIndex: k, datatype: 'float32' });
      expectSameValues(volume.data, expected);
      expect(volume.affine).toEqual(reference.affine);
      expect(volume.geometry).toEqual(reference.geometry);
      const single = await readNifti(perClass[k]!);
      expectSameValues(single.data, expected);
      expect(single.geometry).toEqual(reference.geometry);
      expect(single.source.nVolumes).toBe(1);
      manifest.push({
        file: `${name}-probability-${k}${classExtension}`,
        kind: 'class-probability',
        classIndex: k,
        nClasses: N_CLASSES,
        on: ON,
        off: OFF,
        ...common,
      });
    }
    manifest.push({
      file: `${name}-probabilities.nii`,
      kind: 'probabilities',
      nClasses: N_CLASSES,
      on: ON,
      off: OFF,
      ...common,
    });
  }

  it('round-trips a label map and probability maps on a synthetic big-endian reference with qform and sform', async () => {
    const referenceBytes = syntheticReferenceBytes();
    await writeFile(join(folder, 'synthetic-reference.nii'), referenceBytes);
    const reference = parseNifti(referenceBytes, 'synthetic-reference.nii');
    const labels = syntheticLabels(60);
    await roundTrip(
      'synthetic',
      reference,
      labels,
      { reference: 'synthetic-reference.nii', labels: Array.from(labels) },
      '.nii.gz',
    );
  });

  describe.skipIf(!hasSharedData)(`on a real reference ${SKIP_REASON}`, () => {
    it('round-trips the SRI24 tissue labels and probability maps on sri24/spgr.nii.gz (4-D header, sform only, LAS)', async () => {
      const reference = await readNifti(sharedPath('sri24/spgr.nii.gz'));
      const tissues = await readNifti(sharedPath('sri24/tissues.nii.gz'));
      const labels = Uint8Array.from(tissues.data);
      // Per-class maps uncompressed here: gzipping 4 x 34 MB of float32 would add 1.5 s for no new coverage.
      await roundTrip('sri24', reference, labels, { labelsFrom: sharedPath('sri24/tissues.nii.gz') }, '.nii');
    });
  });

  it('leaves no temporary files behind after successful writes', () => {
    const names = readdirSync(folder);
    expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(names).toContain('synthetic-labels.nii.gz');
  });

  it('throws ImageFileError naming the path, and leaves nothing, when the folder does not exist', async () => {
    const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    const missingFolder = join(folder, 'no-such-folder');
    const path = join(missingFolder, 'labels.nii.gz');
    await expectFileErrorAsync(writeLabelMap(path, syntheticLabels(60), reference), path, /cannot write/);
    expect(existsSync(missingFolder)).toBe(false);
    expect(readdirSync(folder).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a file name that does not end in .nii or .nii.gz', async () => {
    const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    const path = join(folder, 'labels.img');
    await expectFileErrorAsync(
      writeNifti(path, {
        data: new Uint8Array(60),
        dims: [5, 4, 3],
        datatype: 'uint8',
        geometry: reference.geometry,
      }),
      path,
      /must end in \.nii or \.nii\.gz/,
    );
    expect(existsSync(path)).toBe(false);
  });

  it('throws RangeError, expected versus got, for labels or probabilities of the wrong length', async () => {
    const reference = parseNifti(syntheticReferenceBytes(), 'reference.nii');
    await expect(writeLabelMap(join(folder, 'x.nii'), new Uint8Array(59), reference)).rejects.toThrow(
      new RangeError(
        "labels.length must equal the reference's 5 x 4 x 3 = 60 voxels (reference.nii), got 59",
      ),
    );
    await expect(
      writeProbabilityMaps(join(folder, 'x.nii'), new Float32Array(239), 4, reference),
    ).rejects.toThrow(
      new RangeError(
        'probabilities.length must equal 5 x 4 x 3 voxels x 4 classes = 240 (reference.nii), got 239',
      ),
    );
    await expect(
      writeProbabilityMaps(
        [join(folder, 'a.nii'), join(folder, 'b.nii')],
        new Float32Array(240),
        4,
        reference,
      ),
    ).rejects.toThrow(new RangeError('one path per class expected: nClasses is 4, got 2 paths'));
    expect(readdirSync(folder).filter((name) => /^(x|a|b)\.nii$/.test(name))).toEqual([]);
  });
});

interface NibabelFile {
  shape: number[];
  datatype: DataType;
  byteOrder: 'little' | 'big';
  sclSlope: number | string;
  qformCode: number;
  sformCode: number;
  affine: number[][];
  zooms: number[];
  orientation: string;
  data: {
    count: number;
    sum: number;
    sumOfSquares: number;
    sumFloat32: number;
    sumOfSquaresFloat32: number;
    min: number;
    max: number;
    nonzero: number;
    nonFinite: number;
    indices: number[];
    values: (number | string)[];
  };
}

/** What each file is in the suite for. */
const QUIRKS: Record<string, string> = {
  'sri24/spgr.nii.gz':
    'int16, 4-D header with one volume read as 3-D, scl_slope 0 read as unscaled, sform only, LAS',
  'sri24/tissues.nii.gz': 'uint8 labels, 4-D header with one volume, scl_slope 0, sform only',
  'mni152/MNI152_T1_2mm_Brain.nii.gz': 'float32, qform and sform code 4, qfac -1',
  'mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz': 'int32 labels read into a Float64Array',
  'spm12/OldSeg_grey.nii': 'big-endian uint8 with scl_slope 1/255, uncompressed',
  'chris-t1/chris_t1.nii.gz': 'uint8 head with skull, 0.88 mm voxels',
  'nii2mesh/pve_1.nii.gz': 'uint8 with scl_slope 1/255, oblique, qform and sform differing slightly',
  'icbm2009a/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz': 'uint8, sform only, unknown units',
  'mni152/MNI152_T1_1mm_Brain.nii.gz': 'float32, qform_code 2 larger than sform_code 1',
};

describe.skipIf(!hasSharedData)(`agreement with nibabel on the shared MR files ${SKIP_REASON}`, () => {
  const fixture = JSON.parse(
    readFileSync(new URL('../../../../test-data/nibabel-reference.json', import.meta.url), 'utf8'),
  ) as { files: Record<string, NibabelFile> };

  it('has a nibabel reference for every file in the suite', () => {
    expect(Object.keys(fixture.files).sort()).toEqual(Object.keys(QUIRKS).sort());
  });

  it.each(Object.keys(QUIRKS))(
    'reads %s as nibabel does: shape, datatype, affine, zooms and data',
    async (name) => {
      const expected = fixture.files[name]!;
      const volume = await readNifti(sharedPath(name));
      const [nx, ny, nz, nt] = expected.shape;
      expect(volume.dims).toEqual([nx, ny ?? 1, nz ?? 1]);
      expect(volume.source.nVolumes).toBe(nt ?? 1);
      expect(volume.source.datatype).toBe(expected.datatype);
      expect(maxAbsoluteDifference(volume.affine, expected.affine)).toBeLessThan(1e-5);
      expect(volume.spacing).toEqual(expected.zooms.slice(0, 3).map(Math.abs));
      expect(volume.geometry.qformCode).toBe(expected.qformCode);
      expect(volume.geometry.sformCode).toBe(expected.sformCode);

      // nibabel's values are float64; ours are float32 for 8- and 16-bit integer and float32 data.
      const float32 = volume.data instanceof Float32Array;
      const round = float32 ? Math.fround : (x: number) => x;
      const summary = expected.data;
      expect(volume.data.length).toBe(summary.count);
      expect(
        relativeDifference(compensatedSum(volume.data), float32 ? summary.sumFloat32 : summary.sum),
      ).toBeLessThan(1e-9);
      expect(
        relativeDifference(
          compensatedSum(volume.data, true),
          float32 ? summary.sumOfSquaresFloat32 : summary.sumOfSquares,
        ),
      ).toBeLessThan(1e-9);
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let nonzero = 0;
      let nonFinite = 0;
      for (const value of volume.data) {
        if (!Number.isFinite(value)) nonFinite++;
        else {
          if (value < min) min = value;
          if (value > max) max = value;
        }
        if (value !== 0) nonzero++;
      }
      expect([min, max, nonzero, nonFinite]).toEqual([
        round(summary.min),
        round(summary.max),
        summary.nonzero,
        summary.nonFinite,
      ]);
      expect(summary.indices.map((index) => volume.data[index])).toEqual(
        summary.values.map((v) => round(Number(v))),
      );
    },
  );

  it('reads the big-endian uint8 spm12/OldSeg_grey.nii with scl_slope 1/255 as values from 0 to 1', async () => {
    const expected = fixture.files['spm12/OldSeg_grey.nii']!;
    expect([expected.byteOrder, expected.sclSlope]).toEqual(['big', Math.fround(1 / 255)]);
    const volume = await readNifti(sharedPath('spm12/OldSeg_grey.nii'));
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(maxOf(volume.data)).toBe(Math.fround(expected.data.max));
    expect(expected.data.max).toBeLessThanOrEqual(1);
  });

  it('treats scl_slope 0 of sri24/spgr.nii.gz as unscaled and its 4-D header with one volume as a 3-D image', async () => {
    const expected = fixture.files['sri24/spgr.nii.gz']!;
    expect([expected.sclSlope, expected.shape]).toEqual([0, [240, 240, 155, 1]]);
    const volume = await readNifti(sharedPath('sri24/spgr.nii.gz'));
    expect(volume.dims).toEqual([240, 240, 155]);
    expect(volume.source).toMatchObject({ nVolumes: 1, volumeIndex: 0 });
    expect(maxOf(volume.data)).toBe(expected.data.max);
  });

  it('refuses a real .nii.gz cut short, naming the file', async () => {
    const path = sharedPath('mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz');
    const bytes = await readFile(path);
    for (const length of [20, 100, bytes.length >> 2, bytes.length - 9, bytes.length - 1]) {
      expectFileError(
        () => parseNifti(bytes.subarray(0, length), path),
        path,
        /gzip data (ends early|is corrupt)/,
      );
    }
  });
});
