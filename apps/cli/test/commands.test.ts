/**
 * The commands run in-process (commander's exitOverride and configureOutput), subjects one by one
 * in this thread: outputs, summaries, exit codes and every usage and input error.
 */

import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { compareLabelMaps, generatePhantom, readNifti, writeNifti } from '@mixseg/imaging/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess, temporaryFolder, writePhantoms } from './helpers.ts';

let folder: { path: string; remove: () => Promise<void> };
let images: string[];

beforeAll(async () => {
  folder = await temporaryFolder();
  images = await writePhantoms(folder.path, 2);
});
afterAll(() => folder.remove());

describe('mixseg (the program)', () => {
  it('prints help with exit code 0 and the version with -V', async () => {
    const help = await runInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/segment \[options\] \[inputs\.\.\.\]/);
    expect(help.stdout).toMatch(/view \[options\] \[folder\]/);
    const version = await runInProcess(['-V']);
    expect(version.stdout.trim()).toBe('0.1.0');
  });

  it('exits 2 with the help hint for an unknown command', async () => {
    const result = await runInProcess(['segmnet']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'segmnet'/);
    expect(result.stderr).toMatch(/add --help/);
  });

  it('explains every segment option with its default', async () => {
    const result = await runInProcess(['segment', '--help']);
    for (const option of [
      '--classes',
      '--prior',
      '--beta',
      '--atlas',
      '--atlas-weight',
      '--bias-correction',
      '--no-bias-correction',
      '--bias-fwhm',
      '--save-bias-field',
      '--mask',
      '--covariance',
      '--covariance-shrinkage',
      '--image-type',
      '--class-weights',
      '--no-partial-volume',
      '--no-robust',
    ]) {
      expect(result.stdout).toContain(option);
    }
    for (const option of ['--max-iter', '--tol', '--seed', '--out-dir', '--jobs', '--shard', '--overwrite']) {
      expect(result.stdout).toContain(option);
    }
    for (const option of [
      '--model',
      '--save-model',
      '--no-probabilities',
      '--preview',
      '--json',
      '--manifest',
    ]) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).toMatch(/\(default: ppf\)/);
    // each default once (commander's own '(default: ...)' is not added to it)
    expect(result.stdout.match(/\(default: ppf\)/g)).toHaveLength(1);
    const blocks = result.stdout.split(/\n(?= {2}-)/).filter((block) => /^ {2}-/.test(block));
    expect(blocks.length).toBeGreaterThan(25);
    for (const block of blocks) expect(block.match(/default:/g)?.length ?? 0, block).toBeLessThanOrEqual(1);
    const words = (text: string) =>
      new RegExp(
        text
          .split(' ')
          .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('\\s+'),
      );
    expect(result.stdout).toMatch(words('a FAST-style field estimated between EM rounds'));
    expect(result.stdout).toMatch(words('FWHM of its Gaussian kernel in mm'));
    expect(result.stdout).toMatch(words('chosen across every dataset with a reference (default: 0.5)'));
    expect(result.stdout).toMatch(words('contrast of the first channel'));
  });
});

describe('mixseg info', () => {
  it('shows dimensions, voxel size, datatype, orientation, affine and range', async () => {
    const result = await runInProcess(['info', images[0]!]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dimensions\s+32 x 32 x 24/);
    expect(result.stdout).toMatch(/voxel size\s+4 x 4 x 4 mm/);
    expect(result.stdout).toMatch(/nifti-1, int16/);
    expect(result.stdout).toMatch(/orientation\s+RAS/);
    expect(result.stdout).toMatch(/range\s+0 \.\. \d+/);
  });

  it('prints JSON with --json', async () => {
    const result = await runInProcess(['info', '--json', images[0]!]);
    const info = JSON.parse(result.stdout);
    expect(info).toMatchObject({
      dims: [32, 32, 24],
      spacingMm: [4, 4, 4],
      datatype: 'int16',
      orientation: 'RAS',
    });
    expect(info.affine).toHaveLength(4);
  });

  it('exits 1 naming the file when it cannot be read, 2 when the argument is missing', async () => {
    const missing = await runInProcess(['info', join(folder.path, 'nope.nii.gz')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.nii\.gz: no such file/);
    const usage = await runInProcess(['info']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'file'/);
  });
});

describe('mixseg phantom', () => {
  it('writes a subject and its ground truth, 3-D NIfTI or a 2-D PNG', async () => {
    const out = join(folder.path, 'phantoms');
    const result = await runInProcess([
      'phantom',
      '-o',
      out,
      '--size',
      '24,24,16',
      '--seed',
      '3',
      '--bias',
      '0.1',
    ]);
    expect(result.code).toBe(0);
    const image = await readNifti(join(out, 'sub-phantom_T1w.nii.gz'));
    expect(image.dims).toEqual([24, 24, 16]);
    const png = await runInProcess([
      'phantom',
      '-o',
      out,
      '--2d',
      '--format',
      'png',
      '--name',
      'slice',
      '--json',
    ]);
    expect(png.code).toBe(0);
    expect(JSON.parse(png.stdout).image).toMatch(/slice_T1w\.png$/);
    expect((await readdir(out)).sort()).toEqual([
      'slice_T1w.png',
      'slice_desc-truth_dseg.png',
      'sub-phantom_T1w.nii.gz',
      'sub-phantom_desc-truth_dseg.nii.gz',
    ]);
  });

  it('exits 2 for a bad value or a PNG of a 3-D phantom', async () => {
    expect((await runInProcess(['phantom', '--noise', '2'])).code).toBe(2);
    expect((await runInProcess(['phantom', '--size', '1,2'])).code).toBe(2);
    const png = await runInProcess(['phantom', '--format', 'png', '-o', folder.path]);
    expect(png.code).toBe(2);
    expect(png.stderr).toMatch(/--2d/);
  });
});

describe('mixseg segment', () => {
  it('writes the label map, probability maps, sidecar, dseg.tsv and summaries of one subject', async () => {
    const out = join(folder.path, 'one');
    const result = await runInProcess(['segment', images[0]!, '-o', out, '--save-model']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sub-01_T1w: CSF [\d.]+ mL, GM [\d.]+ mL, WM [\d.]+ mL/);
    expect((await readdir(out)).sort()).toEqual([
      'dataset_description.json',
      'dseg.tsv',
      'sub-01_T1w_dseg.json',
      'sub-01_T1w_dseg.nii.gz',
      'sub-01_T1w_label-CSF_desc-pve_probseg.nii.gz',
      'sub-01_T1w_label-CSF_probseg.nii.gz',
      'sub-01_T1w_label-GM_desc-pve_probseg.nii.gz',
      'sub-01_T1w_label-GM_probseg.nii.gz',
      'sub-01_T1w_label-WM_desc-pve_probseg.nii.gz',
      'sub-01_T1w_label-WM_probseg.nii.gz',
      'sub-01_T1w_model.json',
      'summary.json',
      'summary.tsv',
    ]);
    const sidecar = JSON.parse(await readFile(join(out, 'sub-01_T1w_dseg.json'), 'utf8'));
    expect(Object.keys(sidecar)).toEqual(
      expect.arrayContaining([
        'Software',
        'Sources',
        'Description',
        'Outputs',
        'Options',
        'ImageType',
        'Model',
        'PartialVolumeModel',
        'Robust',
        'Warnings',
        'LogLikelihood',
        'Iterations',
        'Converged',
        'StopReason',
        'Classes',
        'Timings',
        'Seed',
      ]),
    );
    expect(sidecar.Software).toEqual({ Name: 'mixseg', Version: '0.1.0' });
    // inputs relative to the sidecar's folder, never absolute
    expect(sidecar.Sources).toEqual([relative(out, images[0]!)]);
    expect(sidecar).not.toHaveProperty('Inputs');
    expect(sidecar.Outputs.map((entry: { Path: string }) => entry.Path)).toContain('sub-01_T1w_dseg.nii.gz');
    expect(sidecar.Options).toMatchObject({
      nClasses: 3,
      imageType: 't1',
      partialVolume: true,
      robust: true,
      seed: 0,
      maxIter: 200,
    });
    expect(sidecar.ImageType).toBe('t1');
    expect(sidecar.Model.nComponents).toBe(3);
    expect(sidecar.PartialVolumeModel).toMatchObject({
      format: 'mixseg.partial-volume-mixture',
      nClasses: 3,
      pairs: [
        [0, 1],
        [1, 2],
      ],
    });
    expect(sidecar.Robust).toMatchObject({ ExcludedVoxels: 0, Channels: [{ Spikes: [] }] });
    expect(sidecar.LogLikelihood.Mixture.length).toBe(sidecar.Iterations.Mixture + 1);
    expect(sidecar.Classes.map((c: { Abbreviation: string }) => c.Abbreviation)).toEqual(['CSF', 'GM', 'WM']);
    expect(sidecar.Classes[0]).toMatchObject({ Index: 1, Name: 'cerebrospinal fluid' });
    expect(sidecar.Classes[0].VolumeMl).toBeGreaterThan(0);
    // the partial-volume volumes (sums of the fractions) are close to the label volumes
    for (const c of sidecar.Classes) expect(Math.abs(c.PartialVolumeMl / c.VolumeMl - 1)).toBeLessThan(0.15);
    expect(sidecar.Timings.Total).toBeGreaterThan(0);
    const summary = (await readFile(join(out, 'summary.tsv'), 'utf8')).trim().split('\n');
    expect(summary[0]).toBe(
      'subject\tstatus\tinputs\tdseg\tCSF_ml\tGM_ml\tWM_ml\tCSF_pve_ml\tGM_pve_ml\tWM_pve_ml\titerations\tconverged\tseconds\terror',
    );
    expect(summary[1]).toMatch(/^sub-01_T1w\tdone\t/);
    const labels = await readNifti(join(out, 'sub-01_T1w_dseg.nii.gz'));
    const input = await readNifti(images[0]!);
    expect(labels.dims).toEqual(input.dims);
    expect(labels.affine).toEqual(input.affine);
    expect(labels.source.datatype).toBe('uint8');
  });

  it('orders the classes of a T2 by falling intensity with --image-type t2, and warns when the type contradicts the image', async () => {
    // a T2-like phantom: CSF bright, WM dark
    const t2 = generatePhantom({
      dims: [40, 40, 30],
      noiseLevel: 0.04,
      intensities: { csf: 1000, gm: 650, wm: 420 },
      seed: 2,
    });
    const t2Path = join(folder.path, 'sub-t2_T2w.nii.gz');
    await writeNifti(t2Path, {
      data: t2.image.data,
      dims: t2.image.dims,
      datatype: 'int16',
      geometry: t2.image.geometry,
    });
    const out = join(folder.path, 'image-type');
    const right = await runInProcess([
      'segment',
      t2Path,
      '-o',
      out,
      '--image-type',
      't2',
      '--no-probabilities',
    ]);
    expect(right.code).toBe(0);
    expect(right.stderr).not.toMatch(/contradicts/);
    const labels = await readNifti(join(out, 'sub-t2_T2w_dseg.nii.gz'));
    const dice = compareLabelMaps(labels.data, t2.labels, { voxelVolumeMl: 0.001 }).classes.map(
      (c) => c.dice,
    );
    for (const d of dice) expect(d).toBeGreaterThan(0.9);
    const sidecar = JSON.parse(await readFile(join(out, 'sub-t2_T2w_dseg.json'), 'utf8'));
    expect(sidecar.ImageType).toBe('t2');
    expect(sidecar.Classes[0].MeanIntensity[0]).toBeGreaterThan(sidecar.Classes[2].MeanIntensity[0]);
    // the same image declared a T1: labels by rising intensity, and the contradiction is said
    const wrong = await runInProcess([
      'segment',
      t2Path,
      '-o',
      join(folder.path, 'image-type-wrong'),
      '--no-probabilities',
    ]);
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toMatch(/warning: sub-t2_T2w: the result contradicts imageType t1/);
    const wrongSidecar = JSON.parse(
      await readFile(join(folder.path, 'image-type-wrong', 'sub-t2_T2w_dseg.json'), 'utf8'),
    );
    expect(wrongSidecar.Warnings.join('\n')).toMatch(/contradicts imageType t1/);
  });

  it('skips a subject whose outputs exist and redoes it with --overwrite', async () => {
    const out = join(folder.path, 'resume');
    await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities']);
    const again = await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities', '--json']);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary.subjects[0]).toMatchObject({ subject: 'sub-01_T1w', status: 'skipped' });
    expect(summary.subjects[0].CSF_ml).toBeGreaterThan(0);
    const redone = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      out,
      '--no-probabilities',
      '--overwrite',
      '--json',
    ]);
    expect(JSON.parse(redone.stdout).subjects[0].status).toBe('done');
  });

  it('refuses to take outputs of a run with other options as done', async () => {
    const out = join(folder.path, 'changed');
    await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities']);
    const result = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      out,
      '--no-probabilities',
      '--prior',
      'mrf',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/other options \(--prior "ppf" there, "mrf" here.*--overwrite/);
  });

  it('prints only the summary JSON with --json', async () => {
    const result = await runInProcess(['segment', images[1]!, '-o', join(folder.path, 'json'), '--json']);
    expect(result.stderr).toBe('');
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toEqual({ total: 1, done: 1, skipped: 0, failed: 0 });
    expect(Object.keys(summary.subjects[0])).toEqual([
      'subject',
      'status',
      'inputs',
      'dseg',
      'CSF_ml',
      'GM_ml',
      'WM_ml',
      'CSF_pve_ml',
      'GM_pve_ml',
      'WM_pve_ml',
      'iterations',
      'converged',
      'seconds',
      'error',
    ]);
  });

  it('finds the images in a folder, leaving out ground truths and outputs, and logs a line per subject', async () => {
    const study = join(folder.path, 'study');
    await mkdir(join(study, 'sub-02', 'anat'), { recursive: true });
    await copyFile(images[0]!, join(study, 'sub-01_T1w.nii.gz'));
    await copyFile(images[1]!, join(study, 'sub-02', 'anat', 'sub-02_T1w.nii.gz'));
    await copyFile(images[1]!, join(study, 'sub-02', 'anat', 'sub-02_T1w_dseg.nii.gz'));
    await writeFile(join(study, 'notes.txt'), 'not an image');
    await mkdir(join(study, 'derivatives'), { recursive: true });
    await copyFile(images[1]!, join(study, 'derivatives', 'sub-03_T1w.nii.gz'));
    const result = await runInProcess([
      'segment',
      study,
      '-o',
      join(folder.path, 'folder'),
      '--no-probabilities',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/\[1\/2\] sub-01_T1w done/);
    expect(result.stderr).toMatch(/\[2\/2\] sub-02_T1w done/);
    const glob = await runInProcess([
      'segment',
      `${folder.path}/sub-0[2]*.nii.gz`,
      '-o',
      join(folder.path, 'glob'),
    ]);
    expect(glob.stdout).toMatch(/1 subject\(s\): 1 done/);
    const bids = await runInProcess(['segment', 'study/sub-*/anat/*_T1w.nii.gz', '-o', 'bids', '--json'], {
      cwd: folder.path,
    });
    expect(JSON.parse(bids.stdout).subjects.map((s: { subject: string }) => s.subject)).toEqual([
      'sub-02_T1w',
    ]);
  });

  it('draws a progress bar with done/total, the subject, its iteration and the time left on a terminal', async () => {
    const result = await runInProcess(['segment', images[0]!, '-o', join(folder.path, 'tty')], {
      isTTY: true,
    });
    expect(result.code).toBe(0);
    // each redraw starts with a carriage return and ESC [2K (erase the line)
    expect(result.stderr).toContain('\r\u001b[2K[--------------------] 0/1 | sub-01_T1w ');
    expect(result.stderr).toMatch(/ETA/);
    expect(result.stderr).not.toMatch(/\[1\/1\] sub-01_T1w done/);
  });

  it('reports a corrupt input with its file and reason, finishes the others and exits 1', async () => {
    const batch = join(folder.path, 'batch');
    const bad = join(folder.path, 'sub-00_T1w.nii.gz');
    await writeFile(bad, 'not a nifti file');
    try {
      const result = await runInProcess([
        'segment',
        bad,
        images[0]!,
        '-o',
        batch,
        '--no-probabilities',
        '--json',
      ]);
      expect(result.code).toBe(1);
      const summary = JSON.parse(result.stdout);
      expect(summary.counts).toMatchObject({ done: 1, failed: 1 });
      expect(summary.subjects[0].error).toMatch(/sub-00_T1w\.nii\.gz: /);
    } finally {
      await writeFile(bad, '');
      await import('node:fs/promises').then((fs) => fs.rm(bad));
    }
  });

  it('segments a two-channel subject from a manifest with its own stem', async () => {
    const manifest = join(folder.path, 'subjects.tsv');
    await copyFile(images[0]!, join(folder.path, 'copy_T2w.nii.gz'));
    await writeFile(manifest, `t1\tt2\tstem\n${images[0]}\tcopy_T2w.nii.gz\tsub-01_multi\n`);
    const out = join(folder.path, 'manifest');
    const result = await runInProcess(['segment', '--manifest', manifest, '-o', out, '--no-probabilities']);
    expect(result.code).toBe(0);
    const sidecar = JSON.parse(await readFile(join(out, 'sub-01_multi_dseg.json'), 'utf8'));
    expect(sidecar.Sources).toHaveLength(2);
    expect(sidecar.Model.nFeatures).toBe(2);
  });

  it('applies a saved model (a model file or a sidecar) and gives the labels of the fit', async () => {
    const fitted = join(folder.path, 'fitted');
    // a model fitted without bias correction is applied without one: the same labels
    await runInProcess([
      'segment',
      images[0]!,
      '-o',
      fitted,
      '--prior',
      'none',
      '--no-bias-correction',
      '--save-model',
    ]);
    const applied = join(folder.path, 'applied');
    for (const model of ['sub-01_T1w_model.json', 'sub-01_T1w_dseg.json']) {
      const result = await runInProcess([
        'segment',
        images[0]!,
        '-o',
        applied,
        '--prior',
        'none',
        '--overwrite',
        '--model',
        join(fitted, model),
      ]);
      expect(result.code).toBe(0);
      const a = await readNifti(join(fitted, 'sub-01_T1w_dseg.nii.gz'));
      const b = await readNifti(join(applied, 'sub-01_T1w_dseg.nii.gz'));
      expect(b.data).toEqual(a.data);
      const sidecar = JSON.parse(await readFile(join(applied, 'sub-01_T1w_dseg.json'), 'utf8'));
      expect(sidecar.Iterations.Mixture).toBe(0);
      expect(sidecar.Options.model).toBe(join(fitted, model));
      expect(sidecar.Options).toMatchObject({
        biasCorrection: false,
        biasFwhm: null,
      });
    }
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['no input', [], /nothing to segment/],
    ['inputs and a manifest', ['x.nii', '--manifest', 'm.tsv'], /not both/],
    ['a missing input', ['does-not-exist.nii.gz'], /no such file or folder: does-not-exist/],
    ['a folder without images', ['EMPTY'], /no image/],
    ['a non-integer --classes', ['a.nii', '--classes', '2.5'], /--classes.*integer from 1 to 254/],
    ['an unknown --prior', ['a.nii', '--prior', 'gibbs'], /Allowed choices are ppf, mrf, atlas, none/],
    ['a negative --beta', ['a.nii', '--beta', '-1'], /--beta/],
    ['--tol 0', ['a.nii', '--tol', '0'], /--tol.*from 0 \(excluded\)/],
    ['a bad --shard', ['a.nii', '--shard', '3/3'], /--shard must be I\/N/],
    ['--jobs 0', ['a.nii', '--jobs', '0'], /--jobs/],
    ['an unknown option', ['a.nii', '--clases', '3'], /unknown option '--clases'/],
    ['--beta with --prior none', ['IMAGE', '--prior', 'none', '--beta', '1'], /--prior is none/],
    ['--prior atlas without --atlas', ['IMAGE', '--prior', 'atlas'], /needs --atlas/],
    ['--atlas-weight without --atlas', ['IMAGE', '--atlas-weight', '0.3'], /--atlas-weight needs --atlas/],
    [
      '--atlas-weight with --prior none',
      ['IMAGE', '--prior', 'none', '--atlas', 'IMAGE,IMAGE,IMAGE', '--atlas-weight', '0.3'],
      /--prior is none/,
    ],
    ['--covariance-shrinkage 1.5', ['IMAGE', '--covariance-shrinkage', '1.5'], /--covariance-shrinkage/],
    ['--bias-fwhm 0', ['IMAGE', '--bias-fwhm', '0'], /--bias-fwhm/],
    [
      '--bias-fwhm with --no-bias-correction',
      ['IMAGE', '--no-bias-correction', '--bias-fwhm', '10'],
      /--no-bias-correction turns it off/,
    ],
    [
      '--save-bias-field with --no-bias-correction',
      ['IMAGE', '--no-bias-correction', '--save-bias-field'],
      /--save-bias-field needs bias correction/,
    ],
    [
      'an atlas count that is not --classes',
      ['IMAGE', '--prior', 'atlas', '--atlas', 'IMAGE,IMAGE'],
      /2 maps for 3 classes/,
    ],
    [
      'a missing atlas file',
      ['IMAGE', '--prior', 'atlas', '--atlas', 'IMAGE,IMAGE,nope.nii'],
      /no such file nope\.nii/,
    ],
    ['a missing --mask file', ['IMAGE', '--mask', 'nope.nii'], /--mask nope\.nii: no such file/],
    ['a missing --model file', ['IMAGE', '--model', 'nope.json'], /--model nope\.json: cannot read/],
    [
      'a --model that is not a model',
      ['IMAGE', '--model', 'MANIFEST'],
      /--model .*not a valid Gaussian mixture/,
    ],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`exits 2 with the help hint for ${what}`, async () => {
      await writeFile(join(folder.path, 'bad-manifest.json'), '{"weights": []}');
      await mkdir(join(folder.path, 'empty'), { recursive: true });
      const resolved = args.map((arg) =>
        arg
          .replace(/IMAGE/g, images[0]!)
          .replace('MANIFEST', join(folder.path, 'bad-manifest.json'))
          .replace('EMPTY', join(folder.path, 'empty')),
      );
      const result = await runInProcess(['segment', ...resolved, '-o', join(folder.path, 'usage')], {
        cwd: folder.path,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/add --help/);
    });
  }

  it('applies a model fitted with bias correction with the subject own field, in the units it was fitted in', async () => {
    // two subjects with a strong bias; the model of one applied to the other
    const make = async (seed: number) => {
      const phantom = generatePhantom({ dims: [48, 48, 36], noiseLevel: 0.04, bias: 0.3, seed });
      const path = join(folder.path, `sub-b${seed}_T1w.nii.gz`);
      await writeNifti(path, {
        data: phantom.image.data,
        dims: phantom.image.dims,
        datatype: 'int16',
        geometry: phantom.image.geometry,
      });
      return { path, labels: phantom.labels };
    };
    const [first, second] = [await make(21), await make(22)];
    const fitted = join(folder.path, 'biased-fit');
    await runInProcess(['segment', first.path, '-o', fitted, '--save-model', '--no-probabilities']);
    const model = JSON.parse(await readFile(join(fitted, 'sub-b21_T1w_model.json'), 'utf8'));
    expect(model.IntensityTransform).toEqual({ biasCorrection: true, biasFwhm: 20, preparation: 'none' });
    const gm = async (out: string) => {
      const labels = await readNifti(join(out, 'sub-b22_T1w_dseg.nii.gz'));
      return compareLabelMaps(labels.data, second.labels, { voxelVolumeMl: 1, classes: [2] }).classes[0]!
        .dice;
    };
    const own = join(folder.path, 'biased-own');
    await runInProcess(['segment', second.path, '-o', own, '--no-probabilities']);
    const applied = join(folder.path, 'biased-applied');
    const result = await runInProcess([
      'segment',
      second.path,
      '-o',
      applied,
      '--no-probabilities',
      '--save-bias-field',
      '--model',
      join(fitted, 'sub-b21_T1w_model.json'),
    ]);
    expect(result.code).toBe(0);
    expect(Math.abs((await gm(applied)) - (await gm(own)))).toBeLessThan(0.01);
    expect((await readdir(applied)).includes('sub-b22_T1w_desc-biasfield.nii.gz')).toBe(true);
    // a model file that does not say its units is refused, naming why
    const bare = join(folder.path, 'bare-model.json');
    const { IntensityTransform: _, ...withoutTransform } = model;
    await writeFile(bare, JSON.stringify(withoutTransform));
    const refused = await runInProcess([
      'segment',
      second.path,
      '-o',
      join(folder.path, 'bare'),
      '--model',
      bare,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/does not record whether it was fitted to bias-corrected intensities/);
  });

  it('exits 2 for a Kubernetes index without a shard count, and for a --model with other --classes', async () => {
    const k8s = await runInProcess(['segment', images[0]!, '-o', join(folder.path, 'k')], {
      env: { JOB_COMPLETION_INDEX: '0' },
    });
    expect(k8s.code).toBe(2);
    expect(k8s.stderr).toMatch(/MIXSEG_SHARD_COUNT/);
    const fitted = join(folder.path, 'fitted-k');
    await runInProcess(['segment', images[0]!, '-o', fitted, '--save-model', '--no-probabilities']);
    const result = await runInProcess([
      'segment',
      images[0]!,
      '--classes',
      '4',
      '--model',
      join(fitted, 'sub-01_T1w_model.json'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--classes 4 disagrees with the model/);
    const fitting = await runInProcess([
      'segment',
      images[0]!,
      '--bias-fwhm',
      '10',
      '--covariance-shrinkage',
      '0',
      '--model',
      join(fitted, 'sub-01_T1w_model.json'),
    ]);
    expect(fitting.code).toBe(2);
    expect(fitting.stderr).toMatch(
      /in the units it was fitted in .*, so --bias-fwhm, --covariance-shrinkage cannot be used/,
    );
  });
});

describe('mixseg segment: atlas, bias field, covariance shrinkage', () => {
  /** sub-01's partial-volume fractions as three float32 maps, in the given class order. */
  async function writeAtlas(order: number[]): Promise<string[]> {
    const phantom = generatePhantom({ dims: [32, 32, 24], spacing: [4, 4, 4], noiseLevel: 0.04, seed: 1 });
    const names = ['csf', 'gm', 'wm'];
    const paths: string[] = [];
    for (const k of order) {
      const map = new Float32Array(phantom.labels.length);
      for (let v = 0; v < map.length; v++) map[v] = phantom.fractions[v * 3 + k]!;
      const path = join(folder.path, 'atlas', `${names[k]}.nii.gz`);
      await mkdir(join(folder.path, 'atlas'), { recursive: true });
      await writeNifti(path, {
        data: map,
        dims: phantom.image.dims,
        datatype: 'float32',
        geometry: phantom.image.geometry,
      });
      paths.push(path);
    }
    return paths;
  }

  it('passes the atlas maps through: the labels follow their order, and the options are recorded', async () => {
    const truth = await readNifti(join(folder.path, 'sub-01_desc-truth_dseg.nii.gz'));
    const atlas = await writeAtlas([0, 1, 2]);
    const out = join(folder.path, 'atlas-out');
    const result = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      out,
      '--prior',
      'atlas',
      '--atlas',
      atlas.join(','),
    ]);
    expect(result.code).toBe(0);
    const labels = await readNifti(join(out, 'sub-01_T1w_dseg.nii.gz'));
    const dice = compareLabelMaps(labels.data, truth.data, { voxelVolumeMl: 0.064 }).classes.map(
      (c) => c.dice,
    );
    expect(Math.min(...dice)).toBeGreaterThan(0.8);
    const sidecar = JSON.parse(await readFile(join(out, 'sub-01_T1w_dseg.json'), 'utf8'));
    expect(sidecar.Options).toMatchObject({ prior: 'atlas', atlas, atlasWeight: 0.5 });

    // the maps in reverse order (WM, GM, CSF): label 1 is now white matter
    const reversed = [...atlas].reverse();
    const back = join(folder.path, 'atlas-reversed');
    const again = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      back,
      '--atlas',
      reversed.join(','),
      '--atlas-weight',
      '0.8',
    ]);
    expect(again.code).toBe(0);
    const reversedLabels = await readNifti(join(back, 'sub-01_T1w_dseg.nii.gz'));
    let agree = 0;
    let brain = 0;
    for (let v = 0; v < truth.data.length; v++) {
      if (truth.data[v]! === 0) continue;
      brain++;
      if (reversedLabels.data[v] === 4 - truth.data[v]!) agree++;
    }
    expect(agree / brain).toBeGreaterThan(0.85);
    const ppf = JSON.parse(await readFile(join(back, 'sub-01_T1w_dseg.json'), 'utf8'));
    expect(ppf.Options).toMatchObject({ prior: 'ppf', atlas: reversed, atlasWeight: 0.8 });
  });

  it('exits 2 when the number of atlas maps is not the number of classes', async () => {
    const atlas = await writeAtlas([0, 1, 2]);
    const result = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      join(folder.path, 'atlas-count'),
      '--classes',
      '4',
      '--prior',
      'atlas',
      '--atlas',
      atlas.join(','),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--atlas gives 3 maps for 4 classes/);
  });

  it('records bias correction and covariance shrinkage in the sidecar, and a change means other options', async () => {
    const out = join(folder.path, 'bias-default');
    expect((await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities'])).code).toBe(0);
    const sidecar = JSON.parse(await readFile(join(out, 'sub-01_T1w_dseg.json'), 'utf8'));
    expect(sidecar.Options).toMatchObject({
      biasCorrection: true,
      biasFwhm: 20,
      covarianceShrinkage: 0.3,
      saveBiasField: false,
    });
    const changed = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      out,
      '--no-probabilities',
      '--bias-fwhm',
      '30',
    ]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/other options \(--bias-fwhm 20 there, 30 here\)/);

    const off = join(folder.path, 'bias-off');
    const result = await runInProcess([
      'segment',
      images[0]!,
      '-o',
      off,
      '--no-probabilities',
      '--no-bias-correction',
      '--covariance-shrinkage',
      '0.05',
    ]);
    expect(result.code).toBe(0);
    const plain = JSON.parse(await readFile(join(off, 'sub-01_T1w_dseg.json'), 'utf8'));
    expect(plain.Options).toMatchObject({ biasCorrection: false, biasFwhm: null, covarianceShrinkage: 0.05 });
  });

  it('writes the bias field with --save-bias-field: float32 on the input grid, 1 on average, 0 outside', async () => {
    const phantoms = join(folder.path, 'biased');
    await runInProcess(['phantom', '-o', phantoms, '--size', '32,32,24', '--spacing', '4', '--bias', '0.3']);
    const input = join(phantoms, 'sub-phantom_T1w.nii.gz');
    const out = join(folder.path, 'bias-field');
    const result = await runInProcess([
      'segment',
      input,
      '-o',
      out,
      '--no-probabilities',
      '--save-bias-field',
      '--save-restored',
      '--bias-fwhm',
      '30',
    ]);
    expect(result.code).toBe(0);
    const image = await readNifti(input);
    const field = await readNifti(join(out, 'sub-phantom_T1w_desc-biasfield.nii.gz'));
    expect(field.source.datatype).toBe('float32');
    expect(field.dims).toEqual(image.dims);
    expect(field.affine).toEqual(image.affine);
    let logSum = 0;
    let n = 0;
    let low = Number.POSITIVE_INFINITY;
    let high = 0;
    for (let v = 0; v < image.data.length; v++) {
      if (image.data[v] === 0) {
        expect(field.data[v]).toBe(0);
        continue;
      }
      const b = field.data[v]!;
      logSum += Math.log(b);
      n++;
      low = Math.min(low, b);
      high = Math.max(high, b);
    }
    expect(Math.abs(logSum / n)).toBeLessThan(0.01);
    expect(high / low).toBeGreaterThan(1.2); // a 1 ± 0.3 field, not all ones
    // the restored image (FAST's _restore): the input over the field, in float32, and flatter: the
    // spread of the true WM falls
    const restored = await readNifti(join(out, 'sub-phantom_T1w_desc-restore.nii.gz'));
    expect(restored.source.datatype).toBe('float32');
    const truth = await readNifti(join(phantoms, 'sub-phantom_desc-truth_dseg.nii.gz'));
    const spread = (data: ArrayLike<number>) => {
      const values: number[] = [];
      for (let v = 0; v < data.length; v++) if (truth.data[v] === 3) values.push(data[v]!);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) / mean;
    };
    for (let v = 0; v < image.data.length; v += 97) {
      if (field.data[v]! > 0) expect(restored.data[v]! * field.data[v]!).toBeCloseTo(image.data[v]!, 2);
    }
    expect(spread(restored.data)).toBeLessThan(0.7 * spread(image.data));
    const sidecar = JSON.parse(await readFile(join(out, 'sub-phantom_T1w_dseg.json'), 'utf8'));
    expect(sidecar.Options).toMatchObject({ saveBiasField: true, biasFwhm: 30 });

    // two channels: one field each, numbered from 1; a rerun takes them as done
    const manifest = join(folder.path, 'bias-manifest.tsv');
    await writeFile(manifest, `t1\tt2\tstem\n${input}\t${input}\ttwo\n`);
    const two = join(folder.path, 'bias-two');
    const args = ['segment', '--manifest', manifest, '-o', two, '--no-probabilities', '--save-bias-field'];
    expect((await runInProcess(args)).code).toBe(0);
    const files = (await readdir(two)).filter((name) => name.includes('biasfield')).sort();
    expect(files).toEqual(['two_desc-biasfield1.nii.gz', 'two_desc-biasfield2.nii.gz']);
    const rerun = await runInProcess([...args, '--json']);
    expect(JSON.parse(rerun.stdout).subjects[0].status).toBe('skipped');
  });
});

describe('mixseg view', () => {
  /** A stand-in for the built viewer: the server only needs index.html. */
  async function fakeDist(): Promise<string> {
    const dist = join(folder.path, 'viewer-dist');
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>mixseg viewer (test)</title>');
    return dist;
  }

  it('serves the viewer and the folder at the URL it prints, until stopped', async () => {
    const results = join(folder.path, 'view-results');
    await runInProcess(['segment', images[0]!, '-o', results, '--no-probabilities']);
    const controller = new AbortController();
    let announced: (url: string) => void;
    const url = new Promise<string>((resolve) => {
      announced = resolve;
    });
    const running = runInProcess(['view', 'view-results', '--dist', await fakeDist()], {
      cwd: folder.path,
      signal: controller.signal,
      onStdout: (text) => {
        const match = /mixseg viewer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
        if (match) announced(match[1]!);
      },
    });
    const address = await Promise.race([url, running.then((r) => Promise.reject(new Error(r.stderr)))]);
    try {
      const page = await fetch(address);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('mixseg viewer (test)');
      const listing = (await (await fetch(`${address}api/folder`)).json()) as {
        name: string;
        files: { path: string }[];
      };
      expect(listing.name).toBe('view-results');
      expect(listing.files.map((f) => f.path)).toContain('sub-01_T1w_dseg.nii.gz');
      const labels = await fetch(`${address}data/sub-01_T1w_dseg.nii.gz`);
      expect(labels.status).toBe(200);
    } finally {
      controller.abort();
    }
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    await expect(fetch(address)).rejects.toThrow();
  });

  it('exits 1 telling how to build the viewer when its page is missing', async () => {
    const result = await runInProcess(['view', folder.path, '--dist', join(folder.path, 'no-dist')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not built.*\n\s+pnpm --filter @mixseg\/viewer build/);
  });

  it('exits 2 for a folder that does not exist, the default one included', async () => {
    const missing = await runInProcess(['view', 'nope'], { cwd: folder.path });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope: no such folder/);
    const fallback = await runInProcess(['view'], { cwd: folder.path });
    expect(fallback.code).toBe(2);
    expect(fallback.stderr).toMatch(/mixseg-output: no such folder \(the default/);
  });

  it('warns when the address is not loopback, and exits 1 when it cannot listen there', async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning, then a clear failure
    const result = await runInProcess([
      'view',
      folder.path,
      '--host',
      '192.0.2.1',
      '--dist',
      await fakeDist(),
    ]);
    expect(result.stderr).toMatch(/warning: --host 192\.0\.2\.1 is not a loopback address/);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /cannot serve on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine/,
    );
  });
});

describe('mixseg compare', () => {
  it('prints Dice per class and volume differences against the ground truth, as a table or JSON', async () => {
    const out = join(folder.path, 'compare');
    await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities']);
    const labels = join(out, 'sub-01_T1w_dseg.nii.gz');
    const truth = join(folder.path, 'sub-01_desc-truth_dseg.nii.gz');
    const table = await runInProcess(['compare', labels, truth]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/class\s+dice\s+volume mL\s+reference mL\s+difference mL\s+difference %/);
    expect(table.stdout).toMatch(/1 CSF\s+0\.\d{4}/);
    expect(table.stdout).toMatch(/mean Dice 0\.\d{4}/);
    const json = JSON.parse((await runInProcess(['compare', '--json', labels, truth])).stdout);
    expect(json.classes.map((c: { name: string }) => c.name)).toEqual(['CSF', 'GM', 'WM']);
    expect(json.meanDice).toBeGreaterThan(0.7);
  });

  it('exits 1 for images on different grids, 2 for a missing argument', async () => {
    const other = join(folder.path, 'other');
    await runInProcess(['phantom', '-o', other, '--size', '20']);
    const result = await runInProcess([
      'compare',
      join(other, 'sub-phantom_desc-truth_dseg.nii.gz'),
      images[0]!,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/differs from the reference/);
    expect((await runInProcess(['compare', images[0]!])).code).toBe(2);
  });
});
