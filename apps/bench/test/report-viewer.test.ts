import { describe, expect, it } from 'vitest';
import { viewerSection } from '../src/report-viewer.ts';
import type { ViewerOutput } from '../src/viewer.ts';
import { GIT, MACHINE } from './fixtures.ts';

function viewerFixture(loadAtStart: number): ViewerOutput {
  return {
    benchmark: 'viewer',
    mode: 'full',
    machine: MACHINE,
    git: GIT,
    loadAverage: { before: 0.2, testStart: loadAtStart, max: loadAtStart + 2, after: 0.3 },
    commands: [
      'pnpm --filter @mixseg/viewer build',
      'pnpm vitest run apps/viewer/test/browser-timing.test.ts',
    ],
    buildSeconds: 4,
    testSeconds: 120,
    methodology: 'test',
    timings: {
      label: '',
      time: '2026-11-22T10:00:00Z',
      study: {
        subjects: 4,
        dims: [182, 218, 182],
        spacingMm: [1, 1, 1],
        probabilityMaps: 3,
        bytes: { 'sub-01_T1w.nii.gz': 3_100_000, 'sub-01_T1w_dseg.nii.gz': 220_000, 'p.nii.gz': 4_800_000 },
      },
      firstDrawnMs: { median: 6000, runs: [6700, 6000, 5900] },
      firstDrawnLongTaskMs: { median: 4700, runs: [5200, 4700, 4500] },
      stepAfterDwellMs: {
        dwellMs: 1500,
        median: 5100,
        runs: [5500, 5100, 4200],
        longTaskMs: [4800, 4400, 3900],
      },
      stepImmediateMs: { median: 4900, runs: [5000, 4700, 4900], longTaskMs: [4100, 4000, 4300] },
    },
  };
}

describe('viewerSection', () => {
  it('tabulates first drawn, both steps and their long tasks as medians and runs', () => {
    const { markdown } = viewerSection(viewerFixture(0.3), 'bench-results/viewer.json');
    expect(markdown).toContain(
      '| first drawn (URL to the first subject, fresh page) | 6000 | 6700, 6000, 5900 | 4700 |',
    );
    expect(markdown).toContain(
      '| step after a 1.5 s dwell (`j` to the next subject drawn) | 5100 | 5500, 5100, 4200 | 4400 |',
    );
    expect(markdown).toContain('| 4900 | 5000, 4700, 4900 | 4100 | 4100, 4000, 4300 |');
    expect(markdown).toContain('4 subjects of 182 x 218 x 182 voxels at 1 mm');
    expect(markdown).toContain('load average was 0.30 when the test started and up to 2.30');
    expect(markdown).not.toContain('noisy');
  });

  it('says the times are noisy when other work loaded the machine as the test started', () => {
    const { markdown } = viewerSection(viewerFixture(3.2), 'bench-results/viewer.json');
    expect(markdown).toContain('load average was 3.20 when the test started and up to 5.20');
    expect(markdown).toContain('so these times are noisy');
  });

  it('says how to run it when bench-results/viewer.json is missing', () => {
    expect(viewerSection(undefined, 'bench-results/viewer.json').markdown).toContain('`pnpm bench viewer`');
  });
});
