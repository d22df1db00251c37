import { createRandom, type Random } from '@mixseg/core';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { nativeInflate } from '../../src/io/nifti-file.ts';
import { parseNifti } from '../../src/io/nifti-reader.ts';
import { ImageFileError } from '../../src/types.ts';
import { buildNifti, type SyntheticNifti } from './nifti-builder.ts';

const SEED = 20_251_122;
const N_CASES = 3000;

/** Small valid files of both versions, both byte orders, several datatypes, 3-D and 4-D. */
const BASES: SyntheticNifti[] = [
  { version: 1, datatype: 'int16', dim: [3, 3, 3, 2], values: Array.from({ length: 18 }, (_, i) => i - 9) },
  {
    version: 1,
    littleEndian: false,
    datatype: 'float32',
    dim: [4, 2, 2, 2, 2],
    values: Array.from({ length: 16 }, (_, i) => i / 3),
    qformCode: 1,
    quaternion: [0, 1, 0],
    pixdim: [-1, 2, 2, 2, 1, 0, 0, 0],
    sclSlope: 2,
    sclInter: 1,
  },
  {
    version: 1,
    datatype: 'uint8',
    dim: [3, 4, 2, 2],
    values: Array.from({ length: 16 }, (_, i) => i * 16),
    sformCode: 2,
    srow: [
      [1, 0, 0, -1],
      [0, 1, 0, -2],
      [0, 0, 1, -3],
    ],
  },
  {
    version: 2,
    datatype: 'uint16',
    dim: [3, 2, 3, 2],
    values: Array.from({ length: 12 }, (_, i) => i * 5000),
  },
  {
    version: 2,
    littleEndian: false,
    datatype: 'float64',
    dim: [2, 3, 3],
    values: [0.5, -1, 2, 3, 4, 5, 6, 7, 8],
  },
  { version: 1, littleEndian: false, datatype: 'int32', dim: [1, 5], values: [1, -2, 3, -4, 2147483647] },
];

const INTERESTING_DIMS = [-65536, -32768, -1, 0, 1, 2, 3, 7, 8, 255, 32767, 65536, 65537, 2 ** 31, 2 ** 40];
const DATATYPE_CODES = [
  0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, -2,
];
const VOX_OFFSETS = [-1, 0, 100, 347, 348, 351, 352, 353, 540, 544, 545, 1000, 65536, 2 ** 31, 2 ** 40];

interface FuzzCase {
  bytes: Uint8Array;
  description: string;
}

function pick<T>(random: Random, values: readonly T[]): T {
  return values[random.nextInt(values.length)]!;
}

/** Random byte changes: set to a random value or flip one bit, `count` times within [start, end). */
function flipBytes(random: Random, bytes: Uint8Array, start: number, end: number, count: number): string[] {
  const changes: string[] = [];
  for (let i = 0; i < count && end > start; i++) {
    const at = start + random.nextInt(end - start);
    bytes[at] = random.nextFloat() < 0.5 ? random.nextInt(256) : bytes[at]! ^ (1 << random.nextInt(8));
    changes.push(`${at}=${bytes[at]}`);
  }
  return changes;
}

/** Changes one header field (dim, datatype or vox_offset) of a copy of an uncompressed file. */
function mutateField(random: Random, spec: SyntheticNifti, bytes: Uint8Array): string {
  const version = spec.version ?? 1;
  const le = spec.littleEndian ?? true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = random.nextInt(3);
  if (field === 0) {
    const index = random.nextInt(8);
    const value = random.nextFloat() < 0.7 ? pick(random, INTERESTING_DIMS) : random.nextInt(70000) - 1000;
    if (version === 1) view.setInt16(40 + 2 * index, value, le);
    else view.setBigInt64(16 + 8 * index, BigInt(value), le);
    return `dim[${index}] = ${version === 1 ? view.getInt16(40 + 2 * index, le) : value}`;
  }
  if (field === 1) {
    const code = random.nextFloat() < 0.8 ? pick(random, DATATYPE_CODES) : random.nextInt(65536) - 32768;
    view.setInt16(version === 1 ? 70 : 12, code, le);
    return `datatype = ${code}`;
  }
  const offset = random.nextFloat() < 0.8 ? pick(random, VOX_OFFSETS) : random.nextInt(bytes.length + 64);
  if (version === 1) {
    const special = [Number.NaN, Number.POSITIVE_INFINITY, 352.5];
    const value = random.nextFloat() < 0.15 ? pick(random, special) : offset;
    view.setFloat32(108, value, le);
    return `vox_offset = ${value}`;
  }
  view.setBigInt64(168, BigInt(offset), le);
  return `vox_offset = ${offset}`;
}

/** One mutated file: header byte flips, field changes, truncation, and gzip damage. */
function makeCase(random: Random): FuzzCase {
  const baseIndex = random.nextInt(BASES.length);
  const spec = BASES[baseIndex]!;
  const headerBytes = (spec.version ?? 1) === 1 ? 348 : 540;
  const bytes = buildNifti(spec);
  const steps: string[] = [`base ${baseIndex}`];
  const kind = random.nextInt(6);
  if (kind === 0 || kind === 3)
    steps.push(`flip ${flipBytes(random, bytes, 0, headerBytes, 1 + random.nextInt(8)).join(',')}`);
  if (kind === 1 || kind === 3) steps.push(mutateField(random, spec, bytes));
  if (kind === 3 && random.nextFloat() < 0.5) steps.push(mutateField(random, spec, bytes));
  let file = bytes;
  if (kind === 2 || (kind === 3 && random.nextFloat() < 0.3)) {
    const length = random.nextInt(bytes.length);
    file = bytes.slice(0, length);
    steps.push(`truncate to ${length}`);
  }
  const gzip = kind >= 4 || random.nextFloat() < 0.25;
  if (gzip) {
    file = gzipSync(file, { mtime: 0 });
    steps.push('gzip');
    if (kind === 4) {
      const length = random.nextInt(file.length);
      file = file.slice(0, length);
      steps.push(`cut gzip to ${length}`);
    } else if (kind === 5) {
      steps.push(`flip gzip ${flipBytes(random, file, 0, file.length, 1 + random.nextInt(4)).join(',')}`);
    }
  }
  return { bytes: file, description: steps.join('; ') };
}

describe('parseNifti under fuzzing', () => {
  it(`returns a consistent Volume or throws ImageFileError for each of ${N_CASES} mutated files (seed ${SEED})`, () => {
    const random = createRandom(SEED);
    const failures: string[] = [];
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < N_CASES; i++) {
      const { bytes, description } = makeCase(random);
      try {
        const volume = parseNifti(bytes, `fuzz-${i}.nii`);
        const [nx, ny, nz] = volume.dims;
        const consistent =
          volume.data.length === nx * ny * nz &&
          volume.dims.every((n) => Number.isInteger(n) && n >= 1) &&
          volume.spacing.every((s) => Number.isFinite(s) && s > 0) &&
          volume.affine.length === 4;
        if (consistent) parsed++;
        else
          failures.push(
            `case ${i} (${description}): inconsistent volume, dims ${volume.dims}, ${volume.data.length} values`,
          );
      } catch (error) {
        if (error instanceof ImageFileError && error.message.startsWith(`fuzz-${i}.nii: `)) refused++;
        else
          failures.push(`case ${i} (${description}): ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    expect(failures, `seed ${SEED}`).toEqual([]);
    // Both outcomes must be common, or the mutations are too weak or too destructive to test much.
    expect(parsed).toBeGreaterThan(N_CASES / 10);
    expect(refused).toBeGreaterThan(N_CASES / 10);
  });
});

describe('the native inflater (node:zlib)', () => {
  /** The outcome of parsing: the values, or the error's message. */
  let nativeInflated = 0;
  const countingInflate = (compressed: Uint8Array, maxOutputLength: number): Uint8Array => {
    const output = nativeInflate(compressed, maxOutputLength);
    nativeInflated++;
    return output;
  };
  const outcome = (bytes: Uint8Array, path: string, native: boolean): string | number[] => {
    try {
      const volume = parseNifti(bytes, path, native ? { inflate: countingInflate } : {});
      return [...volume.dims, ...volume.data];
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };

  it(`accepts and refuses exactly what the portable one does, with the same messages (${N_CASES} mutated files)`, () => {
    const random = createRandom(SEED + 1);
    let compressed = 0;
    for (let i = 0; i < N_CASES; i++) {
      const { bytes, description } = makeCase(random);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) compressed++;
      expect(outcome(bytes, `fuzz-${i}.nii`, true), description).toEqual(
        outcome(bytes, `fuzz-${i}.nii`, false),
      );
    }
    expect(compressed).toBeGreaterThan(N_CASES / 3);
    // the native inflater did the work for the intact streams (61 of this seed's), not only the
    // fallback: most compressed cases are cut or flipped on purpose
    expect(nativeInflated).toBeGreaterThan(30);
  });

  it('agrees on several members, trailing bytes, and output beyond what the header needs', () => {
    const spec = BASES[0]!;
    const file = buildNifti(spec);
    const half = file.length >> 1;
    const twoMembers = new Uint8Array([
      ...gzipSync(file.subarray(0, half)),
      ...gzipSync(file.subarray(half)),
    ]);
    const trailingZeros = new Uint8Array([...gzipSync(file), 0, 0, 0, 0]);
    const trailingGarbage = new Uint8Array([...gzipSync(file), 1, 2, 3]);
    const tooLong = gzipSync(new Uint8Array([...file, ...new Uint8Array(2 << 20)]));
    for (const bytes of [twoMembers, trailingZeros, trailingGarbage, tooLong]) {
      expect(outcome(bytes, 'case.nii.gz', true)).toEqual(outcome(bytes, 'case.nii.gz', false));
    }
    // the two members make the whole file
    expect(outcome(twoMembers, 'case.nii.gz', true)).toEqual(outcome(file, 'case.nii', false));
    expect(outcome(tooLong, 'case.nii.gz', true)).toMatch(/inflates to more than/);
  });
});
