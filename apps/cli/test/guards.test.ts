import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePhantom, writeFileAtomic, writeLabelMap, writeNifti } from '@mixseg/imaging/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { phantomNameProblem } from '../src/commands/phantom.ts';
import { warnAboutJobs } from '../src/jobs-warning.ts';
import { describeWriteError } from '../src/write-errors.ts';
import { runInProcess, temporaryFolder } from './helpers.ts';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

describe('compare', () => {
  it('refuses a reference that is an intensity image, not a label map, with exit code 1', async () => {
    const phantom = generatePhantom({ dims: [24, 24, 16], spacing: [4, 4, 4], noiseLevel: 0.04, seed: 2 });
    const labels = join(folder.path, 'labels.nii.gz');
    const t1 = join(folder.path, 't1.nii.gz');
    await writeLabelMap(labels, phantom.labels, phantom.image);
    await writeNifti(t1, {
      data: phantom.image.data,
      dims: phantom.image.dims,
      datatype: 'int16',
      geometry: phantom.image.geometry,
    });
    const distinct = new Set(Array.from(phantom.image.data).filter((value) => value > 0)).size;
    expect(distinct).toBeGreaterThan(255);
    const result = await runInProcess(['compare', 'labels.nii.gz', 't1.nii.gz'], { cwd: folder.path });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `mixseg: reference t1.nii.gz does not look like a label map: it has ${distinct} distinct values (expected small non-negative integers)\n`,
    );
    // the right way round it compares
    expect(
      (await runInProcess(['compare', 'labels.nii.gz', 'labels.nii.gz'], { cwd: folder.path })).code,
    ).toBe(0);
  });
});

describe('phantom --name', () => {
  it('refuses a name that leaves --out-dir, with exit code 2, and writes nothing', async () => {
    const out = join(folder.path, 'out');
    for (const name of ['../evil', '..', 'a/b', 'a\\b', '.hidden', 'tab\there']) {
      const result = await runInProcess(['phantom', '--name', name, '-o', 'out', '--size', '8'], {
        cwd: folder.path,
      });
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(/--name .*: must/);
    }
    expect(await readdir(folder.path)).toEqual([]);
    expect(phantomNameProblem('sub-phantom')).toBeUndefined();
    expect(phantomNameProblem('../evil')).toMatch(/file name, without a folder/);
    // a plain name still works
    const result = await runInProcess(['phantom', '--name', 'sub-x', '-o', 'out', '--size', '8'], {
      cwd: folder.path,
    });
    expect(result.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['sub-x_T1w.nii.gz', 'sub-x_desc-truth_dseg.nii.gz']);
  });
});

describe('NonFiniteVoxels', () => {
  it('counts the NaN voxels inside the brain in the sidecar with the default mask', async () => {
    const phantom = generatePhantom({ dims: [32, 32, 24], spacing: [4, 4, 4], noiseLevel: 0.04, seed: 4 });
    const data = Float32Array.from(phantom.image.data);
    const [nx, ny] = phantom.image.dims;
    const inside = [16 + nx * (16 + ny * 12), 17 + nx * (16 + ny * 12), 16 + nx * (17 + ny * 12)];
    for (const v of inside) {
      expect(phantom.mask[v]).toBe(1);
      data[v] = Number.NaN;
    }
    await writeNifti(join(folder.path, 'sub-nan_T1w.nii.gz'), {
      data,
      dims: phantom.image.dims,
      datatype: 'float32',
      geometry: phantom.image.geometry,
    });
    const result = await runInProcess(['segment', 'sub-nan_T1w.nii.gz', '-o', 'out', '--json'], {
      cwd: folder.path,
    });
    expect(result.code).toBe(0);
    const sidecar = JSON.parse(await readFile(join(folder.path, 'out', 'sub-nan_T1w_dseg.json'), 'utf8'));
    expect(sidecar.NonFiniteVoxels).toBe(3);
  }, 60_000);
});

describe('warnAboutJobs', () => {
  it('warns when --jobs is above the cores, and not otherwise', () => {
    expect(warnAboutJobs(16, 4)).toBe(
      '--jobs 16 is more than the 4 cores here: the extra subjects share the cores (no faster) and each holds its memory; --jobs 4 (the default) uses every core',
    );
    expect(warnAboutJobs(2, 1)).toMatch(/^--jobs 2 is more than the 1 core here/);
    expect(warnAboutJobs(4, 4)).toBeUndefined();
    expect(warnAboutJobs(1, 8)).toBeUndefined();
  });
});

describe('describeWriteError', () => {
  it('says in one line, naming the path, why a folder or file could not be written', async () => {
    const file = join(folder.path, 'a-file');
    await writeFile(file, '');
    // an output folder below a file: what mkdir -p throws
    const outDir = join(file, 'out');
    const mkdirError = await mkdir(outDir, { recursive: true }).catch((error: unknown) => error);
    expect(describeWriteError(mkdirError, outDir)).toBe(
      `${outDir}: cannot write: part of the path is a file, not a folder`,
    );
    // what writeFileAtomic throws keeps its message
    const summary = join(outDir, 'summary.tsv');
    const writeError = await writeFileAtomic(summary, 'x').catch((error: unknown) => error);
    expect(describeWriteError(writeError, summary)).toBe(
      `${summary}: cannot write: part of the path is a file, not a folder`,
    );
    const code = (name: string) => Object.assign(new Error(`${name}: open 'x'`), { code: name });
    expect(describeWriteError(code('EROFS'), 'out')).toBe(
      'out: cannot write here (read-only or permission denied)',
    );
    expect(describeWriteError(code('EACCES'), 'out')).toBe(
      'out: cannot write here (read-only or permission denied)',
    );
    expect(describeWriteError(code('ENOSPC'), 'out/summary.json')).toBe(
      'out/summary.json: cannot write: no space left on the device',
    );
  });
});
