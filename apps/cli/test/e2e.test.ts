/**
 * End-to-end runs of the built bundle (dist/mixseg.mjs, built by global-setup.ts) with plain
 * `node`: worker threads, a corrupt file in a batch, resuming after a killed run, shards, model
 * reuse, outputs on the input's grid, and `view` stopped by Ctrl-C.
 */

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readNifti } from '@mixseg/imaging/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBinary, startBinary, temporaryFolder, writePhantoms } from './helpers.ts';

let folder: { path: string; remove: () => Promise<void> };
let images: string[];

beforeAll(async () => {
  folder = await temporaryFolder();
  images = await writePhantoms(join(folder.path, 'data'), 5);
});
afterAll(() => folder.remove());

interface Summary {
  counts: { total: number; done: number; skipped: number; failed: number };
  subjects: { subject: string; status: string; error: string | null; dseg: string | null }[];
}

describe('the built mixseg binary', () => {
  it('runs with plain node and prints its version', async () => {
    const result = await runBinary(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('0.1.0');
  });

  it('segments a batch on worker threads; a corrupt file fails alone, named in the summary, exit 1', async () => {
    const corrupt = join(folder.path, 'sub-99_T1w.nii.gz');
    const good = await readFile(images[0]!);
    await writeFile(corrupt, good.subarray(0, 200)); // truncated
    const out = join(folder.path, 'batch');
    const result = await runBinary([
      'segment',
      ...images.slice(0, 3),
      corrupt,
      '-o',
      out,
      '--jobs',
      '2',
      '--preview',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sub-99_T1w FAILED: .*sub-99_T1w\.nii\.gz: /);
    const summary: Summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.counts).toEqual({ total: 4, done: 3, skipped: 0, failed: 1 });
    const failed = summary.subjects.find((s) => s.status === 'failed')!;
    expect(failed.subject).toBe('sub-99_T1w');
    expect(failed.error).toContain(corrupt);
    const tsv = await readFile(join(out, 'summary.tsv'), 'utf8');
    expect(tsv).toMatch(/sub-99_T1w\tfailed\t.*sub-99_T1w\.nii\.gz/);
    for (const image of images.slice(0, 3)) {
      const stem = image.split('/').pop()!.replace('.nii.gz', '');
      const input = await readNifti(image);
      const labels = await readNifti(join(out, `${stem}_dseg.nii.gz`));
      expect(labels.dims).toEqual(input.dims);
      expect(labels.spacing).toEqual(input.spacing);
      expect(labels.affine).toEqual(input.affine);
      expect(labels.geometry).toEqual(input.geometry);
      const gm = await readNifti(join(out, `${stem}_label-GM_probseg.nii.gz`));
      expect(gm.dims).toEqual(input.dims);
      expect(gm.source.datatype).toBe('float32');
      const preview = await sharp(join(out, `${stem}_preview.png`)).metadata();
      expect(preview.format).toBe('png');
      expect(preview.width).toBe(720);
    }
  });

  it('resumes after a killed run: no partial file under a final name, the rerun skips the done subjects', async () => {
    const out = join(folder.path, 'resume');
    // larger subjects, so that the run is still going when the first one completes
    const data = join(folder.path, 'larger');
    await writePhantoms(data, 5, [64, 64, 48]);
    const child = startBinary(['segment', data, '-o', out, '--jobs', '1']);
    // kill it as soon as the first subject is complete
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (existsSync(join(out, 'sub-01_T1w_dseg.json'))) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 60_000) {
          clearInterval(poll);
          reject(new Error('the first subject never completed'));
        }
      }, 5);
    });
    await new Promise((resolve) => child.on('close', resolve));
    const afterKill = await readdir(out);
    const complete = afterKill
      .filter((name) => name.endsWith('_dseg.json'))
      .map((name) => name.replace('_dseg.json', ''));
    expect(complete.length).toBeGreaterThanOrEqual(1);
    expect(complete.length).toBeLessThan(5);
    // every file under a final name is whole
    for (const name of afterKill.filter((n) => n.endsWith('.nii.gz'))) {
      await expect(readNifti(join(out, name))).resolves.toBeDefined();
    }
    for (const name of afterKill.filter((n) => n.endsWith('.json'))) {
      expect(() => JSON.parse(readFileSync(join(out, name), 'utf8'))).not.toThrow();
    }

    const rerun = await runBinary(['segment', data, '-o', out, '--jobs', '2', '--json']);
    expect(rerun.code).toBe(0);
    const summary: Summary = JSON.parse(rerun.stdout);
    expect(summary.counts).toEqual({
      total: 5,
      done: 5 - complete.length,
      skipped: complete.length,
      failed: 0,
    });
    for (const stem of complete) {
      expect(summary.subjects.find((s) => s.subject === stem)!.status).toBe('skipped');
    }
    const final = await readdir(out);
    expect(final.filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(final.filter((name) => name.endsWith('_dseg.json'))).toHaveLength(5);
  });

  it('shards cover every input exactly once, from --shard and from SLURM variables', async () => {
    const out = join(folder.path, 'shards');
    const data = join(folder.path, 'data');
    const common = ['segment', data, '-o', out, '--no-probabilities', '--jobs', '1', '--json'];
    const runs = await Promise.all([
      runBinary([...common, '--shard', '0/3']),
      runBinary(common, {
        env: { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' },
      }),
      runBinary(common, { env: { JOB_COMPLETION_INDEX: '2', MIXSEG_SHARD_COUNT: '3' } }),
    ]);
    const stems = runs.flatMap((run) => {
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as Summary).subjects.map((s) => s.subject);
    });
    expect(stems.sort()).toEqual(['sub-01_T1w', 'sub-02_T1w', 'sub-03_T1w', 'sub-04_T1w', 'sub-05_T1w']);
    const files = await readdir(out);
    expect(files.filter((name) => name.startsWith('summary_shard-')).sort()).toEqual([
      'summary_shard-0of3.json',
      'summary_shard-0of3.tsv',
      'summary_shard-1of3.json',
      'summary_shard-1of3.tsv',
      'summary_shard-2of3.json',
      'summary_shard-2of3.tsv',
    ]);
  });

  it('with --model gives the labels of the fit that saved it', async () => {
    const fitted = join(folder.path, 'fitted');
    const applied = join(folder.path, 'applied');
    const input = images.slice(0, 2);
    const fit = await runBinary([
      'segment',
      ...input,
      '-o',
      fitted,
      '--prior',
      'none',
      // applying a model estimates no bias field, so the fit it is compared with has none either
      '--no-bias-correction',
      '--save-model',
      '--jobs',
      '2',
    ]);
    expect(fit.code).toBe(0);
    for (const [i, image] of input.entries()) {
      const stem = `sub-0${i + 1}_T1w`;
      const apply = await runBinary([
        'segment',
        image,
        '-o',
        applied,
        '--prior',
        'none',
        '--model',
        join(fitted, `${stem}_model.json`),
        '--overwrite',
      ]);
      expect(apply.code).toBe(0);
      const a = await readNifti(join(fitted, `${stem}_dseg.nii.gz`));
      const b = await readNifti(join(applied, `${stem}_dseg.nii.gz`));
      expect(b.data).toEqual(a.data);
      expect(b.affine).toEqual(a.affine);
    }
  });

  it('view serves until Ctrl-C (SIGINT), then exits 0', async () => {
    const dist = join(folder.path, 'dist');
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>bundle view test</title>');
    const child = startBinary(['view', join(folder.path, 'data'), '--dist', dist]);
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout);
        if (match) resolve(match[0]);
      });
      child.on('close', (code) => reject(new Error(`exited ${code} before serving: ${stdout}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      expect(await (await fetch(url)).text()).toContain('bundle view test');
      const listing = (await (await fetch(`${url}api/folder`)).json()) as { files: { path: string }[] };
      expect(listing.files.map((f) => f.path)).toContain('sub-01_T1w.nii.gz');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
