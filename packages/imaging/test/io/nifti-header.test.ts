import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNiftiHeader } from '../../src/io/nifti-file.ts';
import { parseNiftiHeader } from '../../src/io/nifti-reader.ts';
import { ImageFileError } from '../../src/types.ts';
import { buildNifti, patched } from './nifti-builder.ts';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mixseg-nifti-header-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A file whose header declares dims (dim[1..3] set after building a 2 x 2 x 2 image). */
function declaring(
  dims: [number, number, number],
  spec: { version?: 1 | 2; datatype?: 'int16' | 'float64' } = {},
) {
  const bytes = buildNifti({ dim: [3, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8], ...spec });
  return patched(bytes, (view) => {
    for (const [axis, size] of dims.entries()) {
      if ((spec.version ?? 1) === 1) view.setInt16(42 + 2 * axis, size, true);
      else view.setBigInt64(24 + 8 * axis, BigInt(size), true);
    }
  });
}

describe('parseNiftiHeader and readNiftiHeader', () => {
  it('reads the dimensions a small gzip file declares (1024^3 voxels) without its voxels', async () => {
    // 2 GiB of int16 zeros would follow; only the header is there, gzipped: a few hundred bytes
    const path = join(folder, 'declares-1024-cubed.nii.gz');
    const bytes = gzipSync(declaring([1024, 1024, 1024]));
    expect(bytes.length).toBeLessThan(1000);
    await writeFile(path, bytes);
    expect(await readNiftiHeader(path)).toEqual({
      version: 1,
      datatype: 'int16',
      bytesPerVoxel: 2,
      dims: [1024, 1024, 1024],
      nVolumes: 1,
      nVoxels: 1024 ** 3,
      compressed: true,
    });
  });

  it('reads NIfTI-2 and uncompressed headers, and 4-D files with their number of volumes', () => {
    const two = parseNiftiHeader(declaring([300, 200, 100], { version: 2, datatype: 'float64' }), 'two.nii');
    expect(two).toMatchObject({
      version: 2,
      datatype: 'float64',
      bytesPerVoxel: 8,
      nVoxels: 6e6,
      compressed: false,
    });
    const fourD = buildNifti({ dim: [4, 2, 2, 1, 3], values: new Array(12).fill(0) });
    expect(parseNiftiHeader(fourD, 'four.nii')).toMatchObject({ dims: [2, 2, 1], nVolumes: 3, nVoxels: 4 });
  });

  it('inflates only the start of a large gzip file', () => {
    // a real 1.6 M-voxel file: its first kilobyte of gzip data is enough
    const values = Array.from({ length: 128 * 128 * 100 }, (_, i) => i % 1000);
    const whole = gzipSync(buildNifti({ dim: [3, 128, 128, 100], values }));
    expect(parseNiftiHeader(whole.subarray(0, 1024), 'start.nii.gz').nVoxels).toBe(128 * 128 * 100);
  });

  it('refuses what is not a NIfTI header, naming the file, as the full reader does', async () => {
    const notNifti = join(folder, 'not.nii.gz');
    await writeFile(
      notNifti,
      gzipSync(new TextEncoder().encode('hello, this is not an image at all'.repeat(20))),
    );
    await expect(readNiftiHeader(notNifti)).rejects.toThrow(/not\.nii\.gz: not a NIfTI file: sizeof_hdr/);
    await expect(readNiftiHeader(join(folder, 'missing.nii'))).rejects.toThrow(ImageFileError);
    await expect(readNiftiHeader(join(folder, 'missing.nii'))).rejects.toThrow(/missing\.nii: no such file/);
    expect(() => parseNiftiHeader(declaring([0, 2, 2]), 'zero.nii')).toThrow(/dim\[1\] is 0/);
  });
});
