/**
 * Small, hand-made benchmark results in the shape the benchmarks write, for the report tests:
 * no Python, no ../shared/data, no timing.
 */
import type { CovarianceType } from '@mixseg/core';
import type { CliOutput, ProcessRun } from '../src/cli-segment-types.ts';
import type { CaseRecord, ContestantRecord, CoreEmOutput, CorePath } from '../src/core-em-types.ts';
import type { GitRevision, MachineInfo } from '../src/measure.ts';
import type { PairedRatio } from '../src/paired-ratio.ts';
import type { SegmentationOutput, SegmentationResult } from '../src/segmentation-types.ts';

export const MACHINE: MachineInfo = {
  cores: 2,
  cpuModel: 'Test CPU',
  totalMemoryBytes: 8 * 2 ** 30,
  totalMemoryGiB: 8,
  node: 'v20.20.2',
  v8: '11.3',
  platform: 'linux',
  arch: 'x64',
  endianness: 'LE',
  date: '2026-11-22T10:00:00.000Z',
};

export const GIT: GitRevision = {
  commit: 'abcdef0123456789abcdef0123456789abcdef01',
  shortCommit: 'abcdef0',
  branch: 'bench',
  uncommitted: [],
};

function ratio(value: number): PairedRatio {
  return { perRepetition: [value], median: value, pairs: 1 };
}

function contestant(
  name: CorePath,
  ms: number,
  peakMiB: number,
  sklearnMs: number,
  sklearnPeakMiB: number,
): ContestantRecord {
  return {
    name,
    strategy: name === 'tabulated+prior' ? 'tabulated' : name,
    withPrior: name === 'tabulated+prior',
    runs: [],
    summary: {
      medianIterationMs: ms,
      medianSubtractedIterationMs: ms,
      medianFit0Ms: 2 * ms,
      medianFitMs: 10 * ms,
      nIter: [10],
      iterationCountOk: true,
      peakRssKiB: peakMiB * 1024,
      rssBeforeDataBytes: 80 * 2 ** 20,
      rssAfterDataBytes: 90 * 2 ** 20,
      growthBytes: (peakMiB - 80) * 2 ** 20,
      growthOverInput: 2,
      peakOverInput: 3,
      fitOverheadBytes: 2 ** 20,
      ratioToSklearn: ratio(ms / sklearnMs),
      peakRatioToSklearn: ratio(peakMiB / sklearnPeakMiB),
    },
  };
}

function coreCase(nSamples: number, nFeatures: number, covarianceType: CovarianceType): CaseRecord {
  // Linear costs (time = c N) except the histogram, whose iterations do not depend on N.
  const sklearnMs = (nFeatures === 1 ? 2.4e-4 : 4.3e-4) * nSamples;
  const sklearnPeak = 100 + (nFeatures * 8 * nSamples * 2) / 2 ** 20;
  const peak = (factor: number) => 90 + (factor * 4 * nFeatures * nSamples) / 2 ** 20;
  const contestants: ContestantRecord[] =
    nFeatures === 1
      ? [
          contestant('direct', 2.8e-5 * nSamples, peak(1), sklearnMs, sklearnPeak),
          contestant('tabulated', 6e-6 * nSamples, peak(1), sklearnMs, sklearnPeak),
          contestant('tabulated+prior', 9e-6 * nSamples, peak(4), sklearnMs, sklearnPeak),
          contestant('histogram', 0.08, peak(1), sklearnMs, sklearnPeak),
        ]
      : [contestant('direct', 5.2e-5 * nSamples, peak(1), sklearnMs, sklearnPeak)];
  return {
    name: `N=${nSamples.toExponential().replace('+', '')} D${nFeatures} ${covarianceType}`,
    nSamples,
    dataset: nFeatures === 1 ? 'd1' : 'd3',
    nFeatures,
    covarianceType,
    maxIter: 10,
    repetitions: 1,
    data: {
      nSamples,
      nFeatures,
      inputBytes: 4 * nSamples * nFeatures,
      minimum: 0,
      maximum: 1000,
      integerValues: nSamples,
      generationMs: 1,
    },
    contestants,
    sklearn: {
      runs: [],
      summary: {
        medianIterationMs: sklearnMs,
        medianFitPerIterationMs: sklearnMs,
        nIter: [10],
        iterationCountOk: true,
        peakRssKiB: sklearnPeak * 1024,
        rssBeforeDataBytes: 60 * 2 ** 20,
        growthBytes: 2 ** 20,
        growthOverInput: 4,
        peakOverInput: 5,
      },
    },
  };
}

/** A sweep over N = 1e5, 1e6, 1e7 with D = 1 full and D = 3 full and diag. */
export function coreEmFixture(): CoreEmOutput {
  const sizes = [1e5, 1e6, 1e7];
  return {
    benchmark: 'core-em',
    mode: 'full',
    machine: MACHINE,
    git: GIT,
    core: {
      source: 'working tree',
      moduleUrl: 'file:///tmp/core/src/index.ts',
      headCommit: GIT.commit,
      uncommitted: [],
      files: {},
      hash: '0'.repeat(64),
      takenAt: MACHINE.date,
    },
    loadAverage: { before: [0, 0, 0], after: [0, 0, 0] },
    sklearn: {
      available: true,
      python: '/usr/bin/python3',
      version: '1.2.1',
      numpy: '1.24.2',
      pythonVersion: '3.11.2',
      threadpools: [],
    },
    methodology: { model: 'K = 3 (fixture)' },
    plans: sizes.map((nSamples) => ({
      nSamples,
      maxIter: 10,
      repetitions: 1,
      sklearnLoopReps: 3,
      sklearnFitRepetitions: 0,
    })),
    totalSeconds: 60,
    cases: sizes.flatMap((n) => [coreCase(n, 1, 'full'), coreCase(n, 3, 'full'), coreCase(n, 3, 'diag')]),
    targets: [],
  };
}

function segmentationResult(
  dataset: string,
  contestant: string,
  tool: SegmentationResult['tool'],
  dice: number[],
  seconds: number,
  ratioToSklearn?: number,
): SegmentationResult {
  return {
    dataset,
    contestant,
    tool,
    dice,
    meanDice: dice.reduce((a, b) => a + b, 0) / dice.length,
    segmentSeconds: seconds,
    readSeconds: 0.1,
    processSeconds: seconds + 0.5,
    peakMiB: 200,
    runs: [],
    ...(ratioToSklearn === undefined ? {} : { timeRatioToSklearn: ratio(ratioToSklearn) }),
  };
}

/** One 1 mm volume (dipy not run), one phantom (dipy ran). */
export function segmentationFixture(): SegmentationOutput {
  return {
    benchmark: 'segmentation',
    mode: 'full',
    machine: MACHINE,
    git: GIT,
    peers: {
      python: '/usr/bin/python3',
      sklearn: { available: true, version: '1.2.1' },
      dipy: { available: true, version: '1.6.0', requested: false },
    },
    methodology: { dice: 'per class (fixture)' },
    datasets: [
      {
        id: 'sri24-t1',
        name: 'SRI24 T1, 1 mm',
        family: 'volume',
        channels: ['../shared/data/sri24/spgr.nii.gz'],
        reference: '../shared/data/sri24/tissues.nii.gz',
        referenceKind: 'SRI24 atlas tissue map',
        dipy: 'opt-in',
        dims: [240, 240, 155],
        spacing: [1, 1, 1],
        repetitions: 2,
      },
      {
        id: 'phantom-noise3-bias0',
        name: 'phantom, noise 3 %, bias 0 %',
        family: 'phantom',
        channels: ['<prepared>/phantom.nii.gz'],
        reference: '<prepared>/phantom_labels.nii.gz',
        referenceKind: 'ground truth',
        dipy: 'default',
        dims: [96, 96, 72],
        spacing: [1.5, 1.5, 1.5],
        phantom: { noiseLevel: 0.03, bias: 0 },
        repetitions: 3,
      },
    ],
    skippedDatasets: [{ id: 'nii2mesh', name: 'nii2mesh T1 (bet)', reason: 'missing nii2mesh/bet.nii.gz' }],
    results: [
      segmentationResult('sri24-t1', 'mixseg none', 'mixseg', [0.882, 0.921, 0.962], 3.4, 0.83),
      segmentationResult('sri24-t1', 'mixseg ppf (default)', 'mixseg', [0.894, 0.932, 0.965], 10.4, 2.5),
      segmentationResult(
        'sri24-t1',
        'scikit-learn GaussianMixture (full)',
        'sklearn',
        [0.874, 0.884, 0.908],
        4.1,
      ),
      segmentationResult(
        'phantom-noise3-bias0',
        'mixseg ppf (default)',
        'mixseg',
        [0.984, 0.985, 0.992],
        0.6,
        3.3,
      ),
      segmentationResult(
        'phantom-noise3-bias0',
        'scikit-learn GaussianMixture (full)',
        'sklearn',
        [0.98, 0.983, 0.992],
        0.18,
      ),
      segmentationResult('phantom-noise3-bias0', 'dipy HMRF (beta 0.1)', 'dipy', [0.95, 0.9, 0.97], 12),
    ],
    notes: [
      {
        dataset: 'sri24-t1',
        contestant: 'dipy HMRF (beta 0.1)',
        note: 'not run: on a 1 mm volume it takes minutes and GBs; `pnpm bench segmentation --dipy` runs it',
      },
    ],
    totalSeconds: 120,
  };
}

function processRun(seconds: number, peakRssMiB: number, repetition = 0): ProcessRun {
  return { repetition, seconds, peakRssMiB, cpuSeconds: seconds, exitCode: 0, loadAverage: 0.1 };
}

/** Both inputs with mixseg and scikit-learn, dipy on 2 mm only, and the batches. */
export function cliFixture(): CliOutput {
  const single = (
    input: '2mm' | '1mm',
    tool: 'mixseg' | 'sklearn' | 'dipy',
    seconds: number,
    peak: number,
  ) => ({
    input,
    tool,
    runs: [processRun(seconds, peak)],
    medianSeconds: seconds,
    medianPeakRssMiB: peak,
    medianCpuPercent: 100,
  });
  return {
    benchmark: 'cli',
    mode: 'full',
    machine: MACHINE,
    git: GIT,
    gnuTime: true,
    peers: { sklearn: true, dipy: true, dipyRequested: false },
    repetitions: 1,
    inputs: [
      { id: '2mm', name: 'MNI152 T1 2 mm', path: '../shared/data/mni152/MNI152_T1_2mm_Brain.nii.gz' },
      { id: '1mm', name: 'SRI24 T1 1 mm', path: '../shared/data/sri24/spgr.nii.gz' },
    ],
    single: [
      single('2mm', 'mixseg', 3.6, 149),
      single('2mm', 'sklearn', 1.2, 164),
      single('2mm', 'dipy', 10.5, 367),
      single('1mm', 'mixseg', 11.8, 386),
      single('1mm', 'sklearn', 6.1, 376),
    ],
    ratios: [
      { input: '2mm', peer: 'sklearn', time: ratio(3), peak: ratio(0.91) },
      { input: '2mm', peer: 'dipy', time: ratio(0.34), peak: ratio(0.41) },
      { input: '1mm', peer: 'sklearn', time: ratio(1.93), peak: ratio(1.03) },
    ],
    batch: {
      size: 8,
      input: '1mm',
      results: [
        { tool: 'mixseg', jobs: 1, run: processRun(80, 430), volumesPerMinute: 6 },
        { tool: 'sklearn', jobs: 1, run: processRun(48, 380), volumesPerMinute: 10 },
        { tool: 'mixseg', jobs: 2, run: processRun(45, 730), volumesPerMinute: 10.7 },
        { tool: 'sklearn', jobs: 2, run: processRun(26, 380), volumesPerMinute: 18.5 },
      ],
      speedUps: { mixseg: 80 / 45, sklearn: 48 / 26 },
      ratios: [
        { peer: 'sklearn', jobs: 1, time: 80 / 48 },
        { peer: 'sklearn', jobs: 2, time: 45 / 26 },
      ],
    },
    notes: ['dipy on the 1 mm volume: not run (minutes and GBs); `pnpm bench cli --dipy` runs it'],
    methodology: { time: 'wall time (fixture)' },
    totalSeconds: 300,
  };
}
