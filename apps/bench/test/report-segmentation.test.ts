import { describe, expect, it } from 'vitest';
import {
  type CrossDatasetCell,
  crossDatasetRows,
  DEFAULT_CONTESTANT,
  renderCrossDatasetTable,
} from '../src/report-cross-dataset.ts';
import { segmentationSection } from '../src/report-segmentation.ts';
import type { SegmentationDataset, SegmentationGroup } from '../src/segmentation-datasets.ts';
import type { SegmentationOutput, SegmentationResult } from '../src/segmentation-types.ts';
import { GIT, MACHINE, segmentationFixture } from './fixtures.ts';

const SKLEARN = 'scikit-learn GaussianMixture (full)';
const DIPY = 'dipy HMRF (beta 0.1)';

function result(
  dataset: string,
  contestant: string,
  dice: number[],
  segmentSeconds = 1,
  peakMiB = 100,
): SegmentationResult {
  const tool = contestant.startsWith('mixseg')
    ? 'mixseg'
    : contestant.startsWith('dipy')
      ? 'dipy'
      : 'sklearn';
  return {
    dataset,
    contestant,
    tool,
    dice,
    meanDice: dice.reduce((a, b) => a + b, 0) / dice.length,
    segmentSeconds,
    readSeconds: 0.1,
    processSeconds: segmentSeconds + 0.5,
    peakMiB,
    runs: [],
  };
}

function dataset(id: string, group: string, family: SegmentationDataset['family']) {
  return {
    id,
    name: id.toUpperCase(),
    group,
    family,
    channels: [`${id}.nii.gz`],
    reference: `${id}_labels.nii.gz`,
    referenceKind: 'reference',
    imageType: 't1' as const,
    dipy: 'default' as const,
    dims: [10, 10, 10] as [number, number, number],
    spacing: [1, 1, 1] as [number, number, number],
    repetitions: 1,
  };
}

/** Three IBSR subjects (dipy failed on one), one volume where dipy is not applicable, one phantom. */
function groupedOutput(): SegmentationOutput {
  const groups: SegmentationGroup[] = [
    {
      id: 'ibsr',
      name: 'IBSR',
      family: 'volume',
      scoredClasses: [1, 2],
      referenceKind: 'manual labels',
      subjects: ['ibsr-01', 'ibsr-03', 'ibsr-04'],
      repetitions: 1,
    },
    {
      id: 'sri24-multi',
      name: 'SRI24 T1+T2+PD',
      family: 'volume',
      scoredClasses: [0, 1, 2],
      referenceKind: 'atlas',
      subjects: ['sri24-multi'],
    },
    {
      id: 'phantom-clean',
      name: 'phantom, clean',
      family: 'phantom',
      scoredClasses: [0, 1, 2],
      referenceKind: 'ground truth',
      subjects: ['phantom-clean'],
    },
  ];
  return {
    benchmark: 'segmentation',
    mode: 'full',
    machine: MACHINE,
    git: GIT,
    peers: {
      python: '/usr/bin/python3',
      sklearn: { available: true, version: '1.2.1' },
      dipy: { available: true, version: '1.6.0', requested: true },
    },
    methodology: { dice: 'per class (fixture)' },
    groups,
    datasets: [
      dataset('ibsr-01', 'ibsr', 'volume'),
      dataset('ibsr-03', 'ibsr', 'volume'),
      dataset('ibsr-04', 'ibsr', 'volume'),
      dataset('sri24-multi', 'sri24-multi', 'volume'),
      dataset('phantom-clean', 'phantom-clean', 'phantom'),
    ],
    skippedDatasets: [],
    results: [
      result('ibsr-01', DEFAULT_CONTESTANT, [0.1, 0.8, 0.9], 3, 700),
      result('ibsr-03', DEFAULT_CONTESTANT, [0.3, 0.7, 0.85], 5, 720),
      result('ibsr-04', DEFAULT_CONTESTANT, [0.2, 0.9, 0.8], 4, 710),
      result('ibsr-01', SKLEARN, [0.5, 0.6, 0.9], 2, 300),
      result('ibsr-03', SKLEARN, [0.5, 0.8, 0.8], 1, 310),
      result('ibsr-04', SKLEARN, [0.5, 0.7, 0.85], 3, 320),
      result('ibsr-01', DIPY, [0.9, 0.95, 0.95], 400, 2300),
      result('ibsr-03', DIPY, [0.9, 0.95, 0.95], 450, 2400),
      result('sri24-multi', DEFAULT_CONTESTANT, [0.9, 0.92, 0.95]),
      result('sri24-multi', 'mixseg mrf', [0.95, 0.95, 0.97]),
      result('sri24-multi', SKLEARN, [0.4, 0.5, 0.7]),
      result('phantom-clean', DEFAULT_CONTESTANT, [0.98, 0.9804, 0.99]),
      result('phantom-clean', SKLEARN, [0.97, 0.9798, 0.95]),
      result('phantom-clean', DIPY, [0.99, 0.9, 0.99]),
    ],
    notes: [
      {
        dataset: 'ibsr-04',
        contestant: DIPY,
        note: 'failed: exit code 4: dipy labelled no voxel of the mask as tissue',
      },
      {
        dataset: 'sri24-multi',
        contestant: DIPY,
        note: "not applicable: dipy's TissueClassifierHMRF takes one channel",
      },
    ],
    totalSeconds: 600,
  };
}

function cell(value: CrossDatasetCell | string): CrossDatasetCell {
  if (typeof value === 'string') throw new Error(`expected a cell, got "${value}"`);
  return value;
}

/** The cells of the markdown row that starts with `name`. */
function tableRow(table: string, name: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${name}`));
  if (!line) throw new Error(`no row ${name} in\n${table}`);
  return line
    .slice(2, -2)
    .split(' | ')
    .map((c) => c.trim());
}

describe('crossDatasetRows', () => {
  it('makes one row of every group, in order, however many subjects it holds', () => {
    const rows = crossDatasetRows(groupedOutput());
    expect(rows.map((r) => [r.group, r.subjects])).toEqual([
      ['ibsr', 3],
      ['sri24-multi', 1],
      ['phantom-clean', 1],
    ]);
  });

  it("takes each class's mean over the subjects and its worst subject, and the medians of time and memory", () => {
    const ibsr = crossDatasetRows(groupedOutput())[0]!;
    const mixseg = cell(ibsr.mixseg);
    expect(mixseg.contestant).toBe(DEFAULT_CONTESTANT);
    expect(mixseg.subjects).toBe(3);
    expect(mixseg.meanDice[0]).toBeCloseTo(0.2, 12);
    expect(mixseg.meanDice[1]).toBeCloseTo(0.8, 12);
    expect(mixseg.meanDice[2]).toBeCloseTo(0.85, 12);
    expect(mixseg.worstDice).toEqual([0.1, 0.7, 0.8]);
    expect(mixseg.worstSubject).toEqual(['ibsr-01', 'ibsr-03', 'ibsr-04']);
    expect(mixseg.segmentSeconds).toBe(4);
    expect(mixseg.peakMiB).toBe(710);
    // dipy failed on one subject: the mean is over the two it has
    const dipy = cell(ibsr.dipy);
    expect(dipy.subjects).toBe(2);
    expect(dipy.segmentSeconds).toBe(425);
  });

  it("takes only mixseg's defaults for the mixseg column, and says why a peer has no numbers", () => {
    const multi = crossDatasetRows(groupedOutput())[1]!;
    expect(cell(multi.mixseg).meanDice).toEqual([0.9, 0.92, 0.95]);
    expect(multi.dipy).toBe('n/a (one channel only)');
  });

  it('reads results written before groups: every dataset its own row, the PNG slices one, the old default name', () => {
    const legacy = segmentationFixture();
    for (const id of ['png2d-a', 'png2d-b']) {
      const { group: _, ...slice } = dataset(id, 'png', 'slice');
      legacy.datasets.push(slice);
    }
    legacy.results.push(
      result('png2d-a', 'mixseg ppf (default)', [0.8, 0.8, 0.8]),
      result('png2d-b', 'mixseg ppf (default)', [0.9, 0.6, 0.9]),
    );
    const rows = crossDatasetRows(legacy);
    expect(rows.map((r) => [r.group, r.subjects])).toEqual([
      ['sri24-t1', 1],
      ['phantom-noise3-bias0', 1],
      ['png', 2],
    ]);
    expect(cell(rows[0]!.mixseg).meanDice).toEqual([0.894, 0.932, 0.965]);
    expect(rows[0]!.dipy).toBe('not run (--dipy)');
    expect(cell(rows[2]!.mixseg).worstDice).toEqual([0.8, 0.6, 0.8]);
  });
});

describe('renderCrossDatasetTable', () => {
  it('has a column per class and a time and memory column for each of the three methods', () => {
    const header = renderCrossDatasetTable(groupedOutput()).split('\n')[0]!;
    expect(header).toBe(
      '| dataset | n | mixseg CSF | mixseg GM | mixseg WM | mixseg s, MiB | scikit-learn CSF | scikit-learn GM | ' +
        'scikit-learn WM | scikit-learn s, MiB | dipy CSF | dipy GM | dipy WM | dipy s, MiB |',
    );
  });

  it('bolds the best of the three per class, ties included, at the precision shown', () => {
    const table = renderCrossDatasetTable(groupedOutput());
    // .9804 and .9798 both show as .980: a tie, both bold; dipy's .99 wins CSF and ties WM.
    expect(tableRow(table, 'phantom, clean')).toEqual([
      'phantom, clean',
      '1',
      '.980',
      '**.980**',
      '**.990**',
      '1.0, 100',
      '.970',
      '**.980**',
      '.950',
      '1.0, 100',
      '**.990**',
      '.900',
      '**.990**',
      '1.0, 100',
    ]);
  });

  it("shows the worst subject beside the mean, does not compare IBSR's CSF, and leaves a partial method out of the bolding", () => {
    const row = tableRow(renderCrossDatasetTable(groupedOutput()), 'IBSR');
    expect(row[0]).toBe('IBSR (GM, WM compared)');
    expect(row[1]).toBe('3');
    // mixseg: CSF not compared (scikit-learn's .500 would win it); GM .800 wins, WM .850 ties scikit-learn.
    expect(row.slice(2, 6)).toEqual(['.200 (.100)', '**.800** (.700)', '**.850** (.800)', '4.0, 710']);
    expect(row.slice(6, 10)).toEqual(['.500 (.500)', '.700 (.600)', '**.850** (.800)', '2.0, 310']);
    // dipy ran on 2 of 3: better numbers, but not on the same subjects, so not bold
    expect(row.slice(10, 14)).toEqual(['.900 (.900)', '.950 (.950)', '.950 (.950)', '425, 2350; 2 of 3']);
  });

  it('bolds between two methods when the third has no result, and names why it has none', () => {
    const row = tableRow(renderCrossDatasetTable(groupedOutput()), 'SRI24 T1+T2+PD');
    expect(row.slice(2, 5)).toEqual(['**.900**', '**.920**', '**.950**']);
    expect(row.slice(10)).toEqual(['n/a (one channel only)', '', '', '']);
  });
});

describe('segmentationSection', () => {
  it('shows the cross-dataset table first, then the details of every dataset', () => {
    const { markdown, charts } = segmentationSection(groupedOutput(), 'bench-results/segmentation.json');
    const across = markdown.indexOf('### Across datasets');
    expect(across).toBeGreaterThan(0);
    expect(markdown.indexOf('| dataset | n |')).toBeGreaterThan(across);
    for (const heading of ['### IBSR', '### SRI24 T1+T2+PD', '### Synthetic phantoms']) {
      expect(markdown.indexOf(heading)).toBeGreaterThan(markdown.indexOf('| dataset | n |'));
    }
    expect(charts.map((c) => c.file)).toEqual([
      'segmentation-ibsr.svg',
      'segmentation-sri24-multi.svg',
      'segmentation-phantoms.svg',
    ]);
    expect(markdown).toContain('- dipy HMRF (beta 0.1) (IBSR-04): failed: exit code 4');
  });

  it('puts a headline row per volume dataset, IBSR on the classes it compares, and one for the phantoms', () => {
    const { headline } = segmentationSection(groupedOutput(), 'bench-results/segmentation.json');
    expect(headline.map((h) => h.measure)).toEqual([
      'Mean Dice (GM, WM), IBSR, mean of 3',
      'Mean Dice, SRI24 T1+T2+PD',
      'Mean Dice, 1 phantom',
    ]);
    expect(headline[0]).toMatchObject({
      mixseg: '0.825',
      sklearn: '0.775',
      dipy: '0.950 (2 of 3; failed on the rest)',
    });
    expect(headline[1]!.mixseg).toBe('0.923 (mrf: 0.957)');
  });
});
