import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli-io.ts';
import {
  defaultViewerDist,
  isLoopback,
  repositoryRoot,
  SHIPPED_VIEWER_FOLDER,
} from '../src/commands/view.ts';
import { stemOf } from '../src/inputs.ts';
import { axisCodes } from '../src/orientation.ts';
import { classTable, dsegTsv, isTemporaryOutputOf, subjectOutputs, summaryTsv } from '../src/outputs.ts';
import { parseShard, resolveShard, shardItems } from '../src/shard.ts';
import { temporaryFolder } from './helpers.ts';

describe('stemOf', () => {
  it('drops .nii.gz, .nii, .png and .jpg but keeps the BIDS entities', () => {
    expect(stemOf('/data/sub-01_T1w.nii.gz')).toBe('sub-01_T1w');
    expect(stemOf('a/b.c.nii')).toBe('b.c');
    expect(stemOf('slice.PNG')).toBe('slice');
    expect(stemOf('x.jpg')).toBe('x');
  });
});

describe('axisCodes', () => {
  it('reads RAS from an identity affine and LAS from a flipped x axis', () => {
    const identity = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    expect(axisCodes(identity)).toBe('RAS');
    expect(axisCodes([[-1, 0, 0, 0], ...identity.slice(1)])).toBe('LAS');
  });

  it('names permuted axes (a coronal acquisition) by their world direction', () => {
    const coronal = [
      [-0.9, 0, 0, 0],
      [0, 0, 1, 0],
      [0, -1, 0.1, 0],
      [0, 0, 0, 1],
    ];
    expect(axisCodes(coronal)).toBe('LIA');
  });
});

describe('shards', () => {
  it('parses I/N and rejects an index out of range', () => {
    expect(parseShard('1/4')).toMatchObject({ index: 1, count: 4 });
    expect(() => parseShard('4/4')).toThrow(UsageError);
    expect(() => parseShard('1-4')).toThrow(UsageError);
  });

  it('defaults from a SLURM array, counting from the array minimum', () => {
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' };
    expect(resolveShard(undefined, env)).toMatchObject({ index: 2, count: 3 });
    expect(resolveShard('0/1', env)).toMatchObject({ index: 0, count: 1 });
  });

  it('takes a Kubernetes completion index with MIXSEG_SHARD_COUNT, and refuses it without', () => {
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '2', MIXSEG_SHARD_COUNT: '5' })).toMatchObject({
      index: 2,
      count: 5,
    });
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '2' })).toThrow(/MIXSEG_SHARD_COUNT/);
  });

  it('covers every item exactly once across the shards', () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const taken = [0, 1, 2, 3, 4].flatMap((index) => shardItems(items, { index, count: 5 }));
    expect(taken.sort((a, b) => a - b)).toEqual(items);
  });
});

describe('outputs', () => {
  it('names the outputs the BIDS-Derivatives way, the sidecar last', () => {
    const outputs = subjectOutputs('/out', 'sub-01_T1w', classTable(3), {
      probabilities: true,
      saveModel: true,
      preview: false,
      saveBiasField: false,
      saveRestored: false,
    });
    expect(outputs.all).toEqual([
      '/out/sub-01_T1w_dseg.nii.gz',
      '/out/sub-01_T1w_label-CSF_probseg.nii.gz',
      '/out/sub-01_T1w_label-GM_probseg.nii.gz',
      '/out/sub-01_T1w_label-WM_probseg.nii.gz',
      '/out/sub-01_T1w_label-CSF_desc-pve_probseg.nii.gz',
      '/out/sub-01_T1w_label-GM_desc-pve_probseg.nii.gz',
      '/out/sub-01_T1w_label-WM_desc-pve_probseg.nii.gz',
      '/out/sub-01_T1w_model.json',
      '/out/sub-01_T1w_dseg.json',
    ]);
  });

  it('names the bias field desc-biasfield, numbered from 1 with several channels', () => {
    const flags = {
      probabilities: false,
      saveModel: false,
      preview: false,
      saveBiasField: true,
      saveRestored: true,
    };
    expect(subjectOutputs('/out', 's', classTable(3), flags).biasField).toEqual([
      '/out/s_desc-biasfield.nii.gz',
    ]);
    expect(subjectOutputs('/out', 's', classTable(3), flags, 2).all).toEqual([
      '/out/s_dseg.nii.gz',
      '/out/s_desc-biasfield1.nii.gz',
      '/out/s_desc-biasfield2.nii.gz',
      '/out/s_desc-restore1.nii.gz',
      '/out/s_desc-restore2.nii.gz',
      '/out/s_dseg.json',
    ]);
    // in a BIDS layout, the input's suffix stays: a derived image of the T1w
    const bids = { folder: 'sub-01/anat', stem: 'sub-01', suffix: 'T1w' };
    expect(subjectOutputs('/out', bids, classTable(3), flags).restored).toEqual([
      '/out/sub-01/anat/sub-01_desc-restore_T1w.nii.gz',
    ]);
    expect(isTemporaryOutputOf('.sub-01_desc-restore_T1w.nii.gz.tmp-1-ab', 'sub-01')).toBe(true);
    expect(isTemporaryOutputOf('.s_desc-biasfield2.nii.gz.tmp-1-ab', 's')).toBe(true);
  });

  it('writes dseg.tsv with index, name, abbreviation and colour', () => {
    expect(dsegTsv(classTable(3))).toBe(
      'index\tname\tabbreviation\tcolor\n1\tcerebrospinal fluid\tCSF\t#4477aa\n2\tgrey matter\tGM\t#228833\n3\twhite matter\tWM\t#ccbb44\n',
    );
    expect(classTable(4).map((c) => c.abbreviation)).toEqual(['class1', 'class2', 'class3', 'class4']);
  });

  it('recognises the temporary files of a subject and not those of another', () => {
    expect(isTemporaryOutputOf('.sub-01_dseg.nii.gz.tmp-123-abcd', 'sub-01')).toBe(true);
    expect(isTemporaryOutputOf('.sub-01_label-GM_probseg.nii.gz.tmp-1-ab', 'sub-01')).toBe(true);
    expect(isTemporaryOutputOf('.sub-01_label-GM_desc-pve_probseg.nii.gz.tmp-1-ab', 'sub-01')).toBe(true);
    expect(isTemporaryOutputOf('.sub-01_T1w_dseg.nii.gz.tmp-123-abcd', 'sub-01')).toBe(false);
    expect(isTemporaryOutputOf('sub-01_dseg.nii.gz', 'sub-01')).toBe(false);
  });

  it('writes n/a for missing summary values and keeps tabs out of error messages', () => {
    const tsv = summaryTsv(
      [
        {
          subject: 's',
          status: 'failed',
          inputs: ['a.nii'],
          dseg: null,
          volumesMl: {},
          partialVolumesMl: {},
          iterations: null,
          converged: null,
          seconds: 1.5,
          error: 'a.nii:\tbad\nfile',
        },
      ],
      classTable(3),
    );
    expect(tsv.split('\n')[1]).toBe(
      's\tfailed\ta.nii\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t1.500\ta.nii: bad file',
    );
  });
});

describe('view', () => {
  it('tells loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(host)).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'example.org', '128.0.0.1']) {
      expect(isLoopback(host)).toBe(false);
    }
  });

  it('finds the repository, and the viewer build in it, from the sources and from the bundle', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
    expect(await repositoryRoot(fileURLToPath(new URL('../src/commands', import.meta.url)))).toBe(root);
    expect(await repositoryRoot(fileURLToPath(new URL('../dist', import.meta.url)))).toBe(root);
    expect(await defaultViewerDist()).toBe(join(root, 'apps', 'viewer', 'dist'));
    expect(await repositoryRoot('/')).toBeUndefined();
  });

  it('finds the page shipped beside the bundle of the installed, packed CLI', async () => {
    const folder = await temporaryFolder();
    try {
      const bundleFolder = join(folder.path, 'lib', 'node_modules', '@mixseg', 'cli', 'dist');
      expect(await defaultViewerDist(bundleFolder)).toBeUndefined();
      await mkdir(join(bundleFolder, SHIPPED_VIEWER_FOLDER), { recursive: true });
      await writeFile(join(bundleFolder, SHIPPED_VIEWER_FOLDER, 'index.html'), '<!doctype html>');
      expect(await defaultViewerDist(bundleFolder)).toBe(join(bundleFolder, SHIPPED_VIEWER_FOLDER));
    } finally {
      await folder.remove();
    }
  });
});
