/**
 * What a rerun does with the results already in its output folder: nothing is overwritten or
 * silently replaced (other options are refused, an interrupted replacement is redone, an input is
 * never an output, the study's summary and class table are merged or defended), and BIDS inputs
 * give BIDS-Derivatives.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess, temporaryFolder, writeDeclaredSize, writePhantoms } from './helpers.ts';

let folder: { path: string; remove: () => Promise<void> };
let images: string[];

beforeAll(async () => {
  folder = await temporaryFolder();
  images = await writePhantoms(join(folder.path, 'in'), 3);
});

afterAll(async () => {
  await folder.remove();
});

/** Every file under a folder (relative paths) with the SHA-256 of its bytes; summaries left out. */
async function snapshot(root: string, keepSummaries = false): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (keepSummaries || !/^summary/.test(entry.name)) {
        found[relative(root, path)] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      }
    }
  };
  await walk(root);
  return found;
}

/** The NIfTI files of a snapshot (the sidecars hold timings). */
function volumes(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).filter(([name]) => name.endsWith('.nii.gz')));
}

async function summaryJson(out: string): Promise<{ subjects: Record<string, unknown>[] }> {
  return JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
}

describe('a rerun with other options', () => {
  it('is refused and touches nothing, even when it would write files the first run did not', async () => {
    const out = join(folder.path, 'other-options');
    expect((await runInProcess(['segment', images[0]!, '-o', out])).code).toBe(0);
    const before = await snapshot(out);
    for (const args of [
      ['--prior', 'mrf', '--beta', '2', '--preview'],
      ['--classes', '4'],
      ['--save-bias-field', '--beta', '3'],
      ['--save-model', '--no-bias-correction'],
      ['--mask', 'otsu', '--save-restored'],
    ]) {
      const result = await runInProcess(['segment', images[0]!, '-o', out, ...args]);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(/other options|holds the classes/);
      expect(await snapshot(out), args.join(' ')).toEqual(before);
    }
    // the study's summary still has the subject as done, with its volumes
    const row = (await summaryJson(out)).subjects[0]!;
    expect(row).toMatchObject({ subject: 'sub-01_T1w', status: 'done' });
    expect(row['GM_ml']).toBeGreaterThan(0);
  });

  it('names every option that changed, the default beta against an explicit one included', async () => {
    const out = join(folder.path, 'beta');
    expect((await runInProcess(['segment', images[0]!, '-o', out, '--beta', '3'])).code).toBe(0);
    const byDefault = await runInProcess(['segment', images[0]!, '-o', out]);
    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toMatch(/--beta 3 there, 1 here/);
    expect(byDefault.stdout).toMatch(/0 done, 0 skipped, 1 failed/);
    const otsu = await runInProcess(['segment', images[0]!, '-o', out, '--beta', '3', '--mask', 'otsu']);
    expect(otsu.stderr).toMatch(/--mask "nonzero" there, "otsu" here/);
    // the same options, written out in full, are the same run
    const same = await runInProcess(['segment', images[0]!, '-o', out, '--beta', '3', '--prior', 'ppf']);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/0 done, 1 skipped/);
  });

  it('with the same options and more outputs, writes them and gives the same labels', async () => {
    const out = join(folder.path, 'more-outputs');
    await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities']);
    const labels = await snapshot(out);
    const result = await runInProcess(['segment', images[0]!, '-o', out, '--preview']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1 done/);
    const after = await snapshot(out);
    expect(after['sub-01_T1w_dseg.nii.gz']).toBe(labels['sub-01_T1w_dseg.nii.gz']);
    expect(Object.keys(after)).toEqual(
      expect.arrayContaining(['sub-01_T1w_preview.png', 'sub-01_T1w_label-GM_probseg.nii.gz']),
    );
  });

  it('with --overwrite and other classes, replaces the subject as a unit: no label map of the old classes stays', async () => {
    const out = join(folder.path, 'classes');
    await runInProcess(['segment', images[0]!, '-o', out]);
    await rm(join(out, 'dseg.tsv'));
    const result = await runInProcess(['segment', images[0]!, '-o', out, '--classes', '4', '--overwrite']);
    expect(result.code).toBe(0);
    const names = (await readdir(out)).filter((name) => name.includes('probseg'));
    expect(names.sort()).toEqual(
      [1, 2, 3, 4].flatMap((k) => [
        `sub-01_T1w_label-class${k}_desc-pve_probseg.nii.gz`,
        `sub-01_T1w_label-class${k}_probseg.nii.gz`,
      ]),
    );
  });
});

describe('the resume check', () => {
  it('redoes a subject whose replacement was interrupted, and one whose outputs changed size', async () => {
    const out = join(folder.path, 'interrupted');
    await runInProcess(['segment', images[1]!, '-o', out]);
    const good = await snapshot(out);
    // an --overwrite that dies while writing: a folder where a probability map goes makes the
    // write fail after the label map of the new options is written
    const blocker = join(out, 'sub-02_T1w_label-WM_probseg.nii.gz');
    await rm(blocker);
    await mkdir(blocker);
    const broken = await runInProcess(['segment', images[1]!, '-o', out, '--beta', '2', '--overwrite']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/label-WM_probseg/);
    // the old sidecar went first: the subject is not complete, with either option set
    await expect(stat(join(out, 'sub-02_T1w_dseg.json'))).rejects.toThrow();
    await rm(blocker, { recursive: true });
    const redone = await runInProcess(['segment', images[1]!, '-o', out]);
    expect(redone.code).toBe(0);
    expect(redone.stdout).toMatch(/1 done, 0 skipped/);
    expect(volumes(await snapshot(out))).toEqual(volumes(good));

    // a listed output whose size is not the sidecar's: not trusted
    await writeFile(join(out, 'sub-02_T1w_label-GM_probseg.nii.gz'), 'truncated');
    const again = await runInProcess(['segment', images[1]!, '-o', out]);
    expect(again.stdout).toMatch(/1 done, 0 skipped/);
    expect(volumes(await snapshot(out))).toEqual(volumes(good));
  });
});

describe('inputs and outputs', () => {
  it('refuses a mask that the run would overwrite with a label map, and a manifest stem naming a channel', async () => {
    const out = join(folder.path, 'input-as-output');
    await runInProcess(['segment', images[0]!, '-o', out]);
    const mask = join(out, 'sub-01_T1w_dseg.nii.gz');
    const before = await readFile(mask);
    const result = await runInProcess(['segment', images[0]!, '--mask', mask, '-o', out, '--overwrite']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${mask} would be written over the --mask ${mask}`);
    expect(await readFile(mask)).toEqual(before);

    const channel = join(folder.path, 'manifest-out', 'sub-09_dseg.nii.gz');
    await mkdir(join(folder.path, 'manifest-out'), { recursive: true });
    await copyFile(images[2]!, channel);
    const manifest = join(folder.path, 'stem-is-channel.tsv');
    await writeFile(manifest, `t1\tstem\n${channel}\tsub-09\n`);
    const fromManifest = await runInProcess([
      'segment',
      '--manifest',
      manifest,
      '-o',
      join(folder.path, 'manifest-out'),
    ]);
    expect(fromManifest.code).toBe(2);
    expect(fromManifest.stderr).toMatch(/would be written over the input/);
    expect(await readFile(channel)).toEqual(await readFile(images[2]!));
  });
});

describe("the study's files", () => {
  it('keeps every subject in the summary when a few are rerun, and refuses a run with another class table', async () => {
    const out = join(folder.path, 'study');
    expect((await runInProcess(['segment', join(folder.path, 'in'), '-o', out])).code).toBe(0);
    expect((await summaryJson(out)).subjects).toHaveLength(3);
    const rerun = await runInProcess(['segment', images[1]!, '-o', out, '--overwrite']);
    expect(rerun.code).toBe(0);
    const subjects = (await summaryJson(out)).subjects;
    expect(subjects.map((row) => row['subject'])).toEqual(['sub-01_T1w', 'sub-02_T1w', 'sub-03_T1w']);
    expect(subjects.map((row) => row['status'])).toEqual(['done', 'done', 'done']);
    const tsv = (await readFile(join(out, 'summary.tsv'), 'utf8')).trim().split('\n');
    expect(tsv).toHaveLength(4);

    const table = await readFile(join(out, 'dseg.tsv'), 'utf8');
    const before = await snapshot(out, true);
    const fourClasses = await runInProcess([
      'segment',
      images[2]!,
      '-o',
      out,
      '--classes',
      '4',
      '--overwrite',
    ]);
    expect(fourClasses.code).toBe(2);
    expect(fourClasses.stderr).toMatch(/dseg\.tsv holds the classes CSF, GM, WM of earlier results/);
    expect(await readFile(join(out, 'dseg.tsv'), 'utf8')).toBe(table);
    expect(await snapshot(out, true)).toEqual(before);
  });
});

describe('the batch report', () => {
  it('writes report.html with every subject of the folder, linked to previews that exist', async () => {
    const out = join(folder.path, 'report');
    const result = await runInProcess(['segment', join(folder.path, 'in'), '-o', out, '--report']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`report in ${join(out, 'report.html')}`);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    const links = [...html.matchAll(/src="([^"]+\.png)"/g)].map((m) => decodeURIComponent(m[1]!));
    expect(links.sort()).toEqual([
      'sub-01_T1w_preview.png',
      'sub-02_T1w_preview.png',
      'sub-03_T1w_preview.png',
    ]);
    for (const link of links) expect((await stat(join(out, link))).size).toBeGreaterThan(10_000);
    // a rerun of one subject keeps the others in the report
    await runInProcess(['segment', images[0]!, '-o', out, '--report', '--overwrite']);
    const again = await readFile(join(out, 'report.html'), 'utf8');
    for (const stem of ['sub-01_T1w', 'sub-02_T1w', 'sub-03_T1w']) expect(again).toContain(stem);
  });
});

describe('BIDS inputs', () => {
  it('give BIDS-Derivatives: the dataset mirrored, a dataset_description, Sources as BIDS URIs', async () => {
    const raw = join(folder.path, 'bids');
    await mkdir(join(raw, 'sub-01', 'anat'), { recursive: true });
    await mkdir(join(raw, 'sub-02', 'ses-1', 'anat'), { recursive: true });
    await writeFile(join(raw, 'dataset_description.json'), '{"Name": "phantoms", "BIDSVersion": "1.9.0"}\n');
    await copyFile(images[0]!, join(raw, 'sub-01', 'anat', 'sub-01_T1w.nii.gz'));
    await copyFile(images[1]!, join(raw, 'sub-02', 'ses-1', 'anat', 'sub-02_ses-1_T1w.nii.gz'));
    const out = join(folder.path, 'bids-derivatives');
    const result = await runInProcess(['segment', raw, '-o', out, '--save-restored', '--preview']);
    expect(result.code).toBe(0);
    const files = Object.keys(await snapshot(out, true)).sort();
    expect(files).toEqual(
      [
        '.bidsignore',
        'dataset_description.json',
        'dseg.tsv',
        'summary.json',
        'summary.tsv',
        ...['sub-01/anat/sub-01', 'sub-02/ses-1/anat/sub-02_ses-1'].flatMap((stem) => [
          `${stem}_desc-restore_T1w.nii.gz`,
          `${stem}_dseg.json`,
          `${stem}_dseg.nii.gz`,
          ...['CSF', 'GM', 'WM'].flatMap((c) => [
            `${stem}_label-${c}_desc-pve_probseg.nii.gz`,
            `${stem}_label-${c}_probseg.nii.gz`,
          ]),
          `${stem}_preview.png`,
        ]),
      ].sort(),
    );
    // every file in a subject folder is named as BIDS-Derivatives name them, or is ignored
    const ignored = (await readFile(join(out, '.bidsignore'), 'utf8')).trim().split('\n');
    const bidsName =
      /^sub-[A-Za-z0-9]+(_ses-[A-Za-z0-9]+)?(_label-[A-Za-z0-9]+)?(_desc-[A-Za-z0-9]+)?_(dseg|probseg|T1w)\.(nii\.gz|json)$/;
    for (const file of files.filter((f) => f.startsWith('sub-'))) {
      const name = file.split('/').pop()!;
      const isIgnored = ignored.some((pattern) => name.endsWith(pattern.replace('*', '')));
      expect(bidsName.test(name) || isIgnored, file).toBe(true);
    }
    const description = JSON.parse(await readFile(join(out, 'dataset_description.json'), 'utf8'));
    expect(description).toMatchObject({
      DatasetType: 'derivative',
      BIDSVersion: expect.any(String),
      GeneratedBy: [{ Name: 'mixseg', Version: expect.any(String) }],
      SourceDatasets: [{ URL: 'bids:raw:' }],
      DatasetLinks: { raw: '../bids' },
    });
    const sidecar = JSON.parse(await readFile(join(out, 'sub-02/ses-1/anat/sub-02_ses-1_dseg.json'), 'utf8'));
    expect(sidecar.Sources).toEqual(['bids:raw:sub-02/ses-1/anat/sub-02_ses-1_T1w.nii.gz']);
    expect(sidecar.Description).toMatch(/CSF, GM, WM labels/);
    expect(sidecar.SpatialReference).toBe('orig');
    expect(JSON.stringify(sidecar.Sources)).not.toContain(folder.path);
    // the restored image: the input over its bias field, on the input's grid
    const restored = await stat(join(out, 'sub-01/anat/sub-01_desc-restore_T1w.nii.gz'));
    expect(restored.size).toBeGreaterThan(1000);
    // a rerun finds them done
    const again = await runInProcess(['segment', raw, '-o', out, '--save-restored', '--preview']);
    expect(again.stdout).toMatch(/0 done, 2 skipped/);
  });

  it('keep the flat names for inputs outside a BIDS dataset', async () => {
    const out = join(folder.path, 'flat');
    await runInProcess(['segment', images[0]!, '-o', out, '--no-probabilities']);
    expect((await readdir(out)).sort()).toEqual([
      'dataset_description.json',
      'dseg.tsv',
      'sub-01_T1w_dseg.json',
      'sub-01_T1w_dseg.nii.gz',
      'summary.json',
      'summary.tsv',
    ]);
  });
});

describe('a batch that meets what it cannot read, hold or write', () => {
  it('goes on past an unreadable entry and a subject too big for the memory budget, naming both', async () => {
    const study = join(folder.path, 'hostile-study');
    await mkdir(study, { recursive: true });
    await copyFile(images[0]!, join(study, 'sub-01_T1w.nii.gz'));
    await copyFile(images[1]!, join(study, 'sub-02_T1w.nii.gz'));
    // a 1 KB file declaring 1024^3 voxels, and a link to nothing named like an image
    const bomb = join(study, 'sub-03_T1w.nii.gz');
    await writeDeclaredSize(bomb, [1024, 1024, 1024]);
    await symlink(join(study, 'gone.nii.gz'), join(study, 'sub-04_T1w.nii.gz'));
    const out = join(folder.path, 'hostile-out');
    const result = await runInProcess(['segment', study, '-o', out, '--memory-budget', '4G']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`skipped ${join(study, 'sub-04_T1w.nii.gz')}: broken symbolic link`);
    expect(result.stderr).toMatch(
      new RegExp(
        `failed: ${bomb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: needs about \\d+ GB for 1073741824 voxels, more than the memory budget of 4 GB`,
      ),
    );
    expect(result.stdout).toMatch(/3 subject\(s\): 2 done, 0 skipped, 1 failed/);
    const rows = (await summaryJson(out)).subjects;
    expect(rows.map((row) => [row['subject'], row['status']])).toEqual([
      ['sub-01_T1w', 'done'],
      ['sub-02_T1w', 'done'],
      ['sub-03_T1w', 'failed'],
    ]);
  });

  it('says in one line why an output folder cannot be written, with no stack trace, and warns about too many jobs', async () => {
    const file = join(folder.path, 'a-file');
    await writeFile(file, '');
    const result = await runInProcess(['segment', images[0]!, '-o', join(file, 'out'), '--jobs', '512']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/warning: --jobs 512 is more than the \d+ cores? here/);
    expect(result.stderr).toContain(
      `error: ${join(file, 'out')}: cannot write: part of the path is a file, not a folder`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
