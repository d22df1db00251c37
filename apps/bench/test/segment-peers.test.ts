import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { generatePhantom } from '@mixseg/imaging';
import { writeLabelMap, writeNifti } from '@mixseg/imaging/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchRoot } from '../src/measure.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(benchRoot, 'python', 'segment_peers.py');
const hasSklearn = spawnSync(PYTHON, ['-c', 'import nibabel, sklearn'], { timeout: 60_000 }).status === 0;

if (!hasSklearn) console.warn(`segment_peers.py tests skipped: ${PYTHON} has no nibabel or scikit-learn`);

describe.skipIf(!hasSklearn)('segment_peers.py', () => {
  const work = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-peers-'));
  const channel = join(work, 't2.nii.gz');
  const reference = join(work, 'labels.nii.gz');

  beforeAll(async () => {
    // T2-like contrast: CSF brightest, WM darkest.
    const phantom = generatePhantom({
      dims: [48, 48, 36],
      spacing: [3, 3, 3],
      intensities: { csf: 850, gm: 650, wm: 300 },
      noiseLevel: 0.05,
      seed: 1,
    });
    const { image } = phantom;
    await writeNifti(channel, {
      data: image.data,
      dims: image.dims,
      datatype: 'int16',
      geometry: image.geometry,
    });
    await writeLabelMap(reference, phantom.labels, image);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const dice = (imageType: string[]): number[] => {
    const run = spawnSync(PYTHON, [SCRIPT, 'sklearn', ...imageType, reference, channel], {
      cwd: join(benchRoot, 'python'),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { dice: number[] }).dice;
  };

  it('labels CSF, GM, WM by descending mean with --image-type t2', () => {
    for (const d of dice(['--image-type', 't2'])) expect(d).toBeGreaterThan(0.8);
  });

  it('labels by ascending mean without the flag (T1), which swaps CSF and WM on a T2 image', () => {
    const [csf, gm, wm] = dice([]);
    expect(csf).toBeLessThan(0.2);
    expect(wm).toBeLessThan(0.2);
    expect(gm).toBeGreaterThan(0.8);
  });
});
