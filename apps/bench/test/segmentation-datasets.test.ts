import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/measure.ts';
import { PHANTOM_CASES } from '../src/reference-cases.ts';
import { CONFIGURATIONS, repetitionsFor } from '../src/segmentation-contestants.ts';
import {
  describePhantom,
  groupDatasets,
  prepareDatasets,
  type SegmentationDataset,
} from '../src/segmentation-datasets.ts';

const DATA = join(repoRoot, '..', 'shared', 'data');

function dataset(
  id: string,
  group: string,
  dims: [number, number, number] = [10, 10, 10],
): SegmentationDataset {
  return {
    id,
    name: id,
    group,
    family: 'volume',
    channels: [],
    reference: '',
    referenceKind: '',
    imageType: 't1',
    dipy: 'default',
    dims,
    spacing: [1, 1, 1],
  };
}

describe('groupDatasets', () => {
  it("puts the subjects of a group in one row, in the datasets' order, with reference-cases.ts's compared classes", () => {
    const groups = groupDatasets([
      dataset('mni152-2mm', 'mni152-2mm'),
      dataset('ibsr-01', 'ibsr'),
      dataset('ibsr-03', 'ibsr'),
      dataset('png2d-a', 'png'),
    ]);
    expect(groups.map((g) => [g.id, g.subjects])).toEqual([
      ['mni152-2mm', ['mni152-2mm']],
      ['ibsr', ['ibsr-01', 'ibsr-03']],
      ['png', ['png2d-a']],
    ]);
    expect(groups[1]).toMatchObject({ scoredClasses: [1, 2], repetitions: 1 });
    expect(groups[0]!.scoredClasses).toEqual([0, 1, 2]);
  });
});

describe('repetitionsFor', () => {
  it('runs small inputs 3 times, 1 mm volumes twice, each IBSR scan once, and everything once with --quick', () => {
    const ibsr = groupDatasets([dataset('ibsr-01', 'ibsr', [256, 128, 256])])[0];
    expect(repetitionsFor({ dims: [91, 109, 91] }, undefined, false)).toBe(3);
    expect(repetitionsFor({ dims: [182, 218, 182] }, undefined, false)).toBe(2);
    expect(repetitionsFor({ dims: [256, 128, 256] }, ibsr, false)).toBe(1);
    expect(repetitionsFor({ dims: [91, 109, 91] }, undefined, true)).toBe(1);
  });
});

describe('CONFIGURATIONS', () => {
  it("runs mixseg with segment()'s defaults and the atlas prior only", () => {
    expect(CONFIGURATIONS.map((c) => [c.name, c.options])).toEqual([
      ['defaults', {}],
      ['atlas', { prior: 'atlas' }],
    ]);
  });
});

describe('describePhantom', () => {
  it('names every phantom case by what sets it apart from the clean one', () => {
    expect(PHANTOM_CASES.map((c) => describePhantom(c.options))).toEqual([
      'clean',
      'zeros',
      'extreme voxel',
      'bright cluster',
      'clipped maximum',
      'Rician noise',
      '3 x 3 x 3 mm voxels',
      'noise 9 %, bias 40 %',
    ]);
  });
});

describe.skipIf(!existsSync(DATA))('prepareDatasets (../shared/data)', () => {
  const work = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-datasets-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('prepares the quick subset: MNI152 2 mm, two IBSR scans in one group, one PNG slice, two phantoms', async () => {
    const { groups, datasets, skipped } = await prepareDatasets({
      quick: true,
      dataDirectory: DATA,
      workDirectory: work,
    });
    expect(skipped).toEqual([]);
    expect(groups.map((g) => [g.id, g.subjects])).toEqual([
      ['mni152-2mm', ['mni152-2mm']],
      ['ibsr', ['ibsr-01', 'ibsr-03']],
      ['png', ['png2d-sri24_z075']],
      ['phantom-clean', ['phantom-clean']],
      ['phantom-bright-cluster', ['phantom-bright-cluster']],
    ]);
    const ibsr = datasets.find((d) => d.id === 'ibsr-01')!;
    expect(ibsr).toMatchObject({ dipy: 'opt-in', imageType: 't1', dims: [256, 128, 256] });
    expect(ibsr.reference).toBe(join(DATA, 'ibsr/IBSR_01_seg.nii.gz'));
    expect(datasets.find((d) => d.id === 'mni152-2mm')!.atlas).toHaveLength(3);
    for (const d of datasets)
      for (const file of [...d.channels, d.reference]) expect(existsSync(file)).toBe(true);
  });
});

if (!existsSync(DATA)) {
  console.warn(`prepareDatasets tests skipped: ${DATA} (the shared MR data) is absent`);
}
