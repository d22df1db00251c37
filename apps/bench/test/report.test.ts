import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCURACY_END,
  ACCURACY_START,
  buildReport,
  HEADLINE_END,
  HEADLINE_START,
  loadReportInputs,
  type ReportInputs,
  replaceBlock,
  replaceHeadline,
} from '../src/report.ts';
import { cliFixture, coreEmFixture, segmentationFixture } from './fixtures.ts';

const OPTIONS = { quick: false, renderedAt: '2026-11-22T12:00:00Z', sourceDirectory: 'bench-results/' };

function render(inputs: Partial<ReportInputs>) {
  return buildReport({ problems: [], ...inputs }, OPTIONS);
}

function polylinePointCounts(svg: string): number[] {
  return [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length);
}

describe('buildReport', () => {
  it('starts with the machine, the date, the git revision and the command that reproduces it', () => {
    const { markdown } = render({
      coreEm: coreEmFixture(),
      segmentation: segmentationFixture(),
      cli: cliFixture(),
    });
    const top = markdown.slice(0, markdown.indexOf('## Headline'));
    expect(top).toContain('2 cores (Test CPU), 8 GiB, Node v20.20.2');
    expect(top).toContain('2026-11-22 10:00');
    expect(top).toContain('abcdef0 (bench)');
    expect(top).toContain('`pnpm bench`');
    expect(top).toContain('`pnpm bench report`');
    expect(top).toMatch(/\| imaging-io \| not run \|/);
  });

  it('links every chart it renders, and renders every chart it links', () => {
    const { markdown, charts } = render({
      coreEm: coreEmFixture(),
      segmentation: segmentationFixture(),
      cli: cliFixture(),
    });
    const linked = [...markdown.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]);
    expect(linked.sort()).toEqual(charts.map((c) => c.file).sort());
    expect(charts.map((c) => c.file)).toEqual(
      expect.arrayContaining([
        'core-em-time-d1.svg',
        'core-em-memory.svg',
        'segmentation-sri24-t1.svg',
        'segmentation-phantoms.svg',
        'cli-single.svg',
        'cli-batch.svg',
      ]),
    );
    for (const chart of charts) expect(chart.svg).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });

  it('plots time per iteration against N as one line per path plus scikit-learn, one point per N', () => {
    const { charts } = render({ coreEm: coreEmFixture() });
    const time = charts.find((c) => c.file === 'core-em-time-d1.svg')!;
    expect(polylinePointCounts(time.svg)).toEqual([3, 3, 3, 3, 3]);
    expect(time.svg).toContain('slope 1 (cost linear in N)');
    const d3 = charts.find((c) => c.file === 'core-em-time-d3-covariance.svg')!;
    // full and diag were measured (mixseg and scikit-learn); tied and spherical have no data.
    expect(polylinePointCounts(d3.svg)).toEqual([3, 3, 3, 3]);
    expect(d3.svg.match(/\(no data\)/g)).toHaveLength(4);
  });

  it('tabulates the sweep with the fitted exponent: 1 for a linear cost, 0 for the histogram', () => {
    const { markdown } = render({ coreEm: coreEmFixture() });
    expect(markdown).toContain(
      '| path | N = 1e5 | N = 1e6 | N = 1e7 | exponent p (N >= 1e6) | mixseg / sklearn at N = 1e7 |',
    );
    expect(markdown).toMatch(/\| mixseg direct \| 2\.80 \| 28\.00 \| 280\.0 \| 1\.0 \| 0\.117 \|/);
    expect(markdown).toMatch(/\| mixseg histogram \| 0\.080 \| 0\.080 \| 0\.080 \| 0\.0 \|/);
    expect(markdown).toMatch(/\| scikit-learn \| 24\.00 \| 240\.0 \| 2400 \| 1\.0 \|/);
  });

  it('puts the headline numbers of every section in one table', () => {
    const { headline } = render({
      coreEm: coreEmFixture(),
      segmentation: segmentationFixture(),
      cli: cliFixture(),
    });
    expect(headline).toContain(
      '| EM iteration, N = 1e7, D = 1, per voxel (tabulated) | 60.00 ms | 2400 ms |  | 0.025 |',
    );
    expect(headline).toContain('| Mean Dice, SRI24 T1, 1 mm | 0.930 | 0.889 | not run (--dipy) |  |');
    expect(headline).toMatch(
      /\| mixseg segment, end to end, 1 mm SRI24 \(wall, peak RSS\) \| 11\.80 s, 386\.0 MiB \| 6\.10 s, 376\.0 MiB \| not run \| 1\.93 \|/,
    );
  });

  it('shows Dice per class and method as grouped bars, with the table and the peers that did not run', () => {
    const { markdown, charts } = render({ segmentation: segmentationFixture() });
    const chart = charts.find((c) => c.file === 'segmentation-sri24-t1.svg')!;
    // 3 methods x (CSF, GM, WM, mean)
    expect(chart.svg.match(/<rect class="bar"/g)).toHaveLength(12);
    expect(markdown).toContain(
      '| mixseg ppf (default) | 0.894 | 0.932 | 0.965 | 0.930 | 10.40 | 200.0 | 2.50 |  |',
    );
    expect(markdown).toContain('- dipy HMRF (beta 0.1): not run: on a 1 mm volume');
    expect(markdown).toContain('- nii2mesh T1 (bet): not run (missing nii2mesh/bet.nii.gz)');
  });

  it('says which sections were not run instead of leaving them out', () => {
    const { markdown, charts } = render({ cli: cliFixture() });
    expect(markdown).toContain(
      'Not run: `bench-results/core-em.json` is missing (`pnpm bench core-em` writes it).',
    );
    expect(markdown).toContain('Not run: `bench-results/segmentation.json` is missing');
    expect(markdown).toContain('Not run: `bench-results/imaging-io.json` is missing');
    expect(charts.map((c) => c.file)).toEqual(['cli-single.svg', 'cli-batch.svg']);
  });

  it('marks a quick run as not for quoting and points at the quick commands', () => {
    const { markdown } = buildReport(
      { problems: [], cli: cliFixture() },
      { ...OPTIONS, quick: true, sourceDirectory: 'bench-results/quick/' },
    );
    expect(markdown.split('\n')[0]).toContain('quick smoke run');
    expect(markdown).toContain('`pnpm bench --quick`');
    expect(markdown).toContain('`pnpm bench report --quick`');
  });
});

describe('loadReportInputs', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('reads the current JSON and refuses files from an older benchmark, saying so', () => {
    directory = mkdtempSync(join(os.tmpdir(), 'mixseg-report-test-'));
    writeFileSync(join(directory, 'cli.json'), JSON.stringify(cliFixture()));
    writeFileSync(
      join(directory, 'core-em.json'),
      JSON.stringify({ benchmark: 'core-em', cases: [{ name: 'N=1e6 D1 int' }] }),
    );
    writeFileSync(join(directory, 'segmentation.json'), '{ not json');
    const inputs = loadReportInputs(directory);
    expect(inputs.cli?.benchmark).toBe('cli');
    expect(inputs.coreEm).toBeUndefined();
    expect(inputs.segmentation).toBeUndefined();
    expect(inputs.problems).toHaveLength(2);
    expect(inputs.problems.join('\n')).toContain('core-em.json was written by an older version');
    expect(inputs.problems.join('\n')).toContain('segmentation.json is not valid JSON');
  });
});

describe('replaceHeadline', () => {
  it('replaces only the block between the markers', () => {
    const readme = `# mixseg\n\nintro\n${HEADLINE_START}\nold numbers\n${HEADLINE_END}\n\nmore\n`;
    const updated = replaceHeadline(readme, '| new | numbers |');
    expect(updated).toBe(
      `# mixseg\n\nintro\n${HEADLINE_START}\n| new | numbers |\n${HEADLINE_END}\n\nmore\n`,
    );
    expect(replaceHeadline(updated, '| new | numbers |')).toBe(updated);
  });

  it('fills the accuracy block with the cross-dataset table of the segmentation run, and leaves the rest', () => {
    const { accuracy } = render({ segmentation: segmentationFixture() });
    expect(accuracy).toMatch(/^\| dataset \| n \|/);
    expect(accuracy).toContain('pnpm bench segmentation');
    expect(render({ coreEm: coreEmFixture() }).accuracy).toBeUndefined();
    const readme = `a\n${ACCURACY_START}\nold\n${ACCURACY_END}\nb\n`;
    expect(replaceBlock(readme, ACCURACY_START, ACCURACY_END, accuracy!)).toBe(
      `a\n${ACCURACY_START}\n${accuracy}\n${ACCURACY_END}\nb\n`,
    );
  });

  it('throws when the README has no headline block', () => {
    expect(() => replaceHeadline('# mixseg\n', 'x')).toThrow(/bench-headline:start/);
  });
});
