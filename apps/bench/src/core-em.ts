/**
 * The EM core benchmark: time per EM iteration and peak memory of @mixseg/core against the number
 * of samples N (a sweep up to 10^7), for one feature (D = 1, integer-valued like an MR image) and
 * three (D = 3, T1/T2/PD-like), every covariance type, and each way the core visits the data (the
 * per-voxel `direct` and `tabulated` passes, the per-voxel pass with a per-voxel prior as in a
 * spatial segmentation, and the weighted-histogram path), side by side with scikit-learn's
 * GaussianMixture on exactly the same data, the same warm start and the same number of iterations
 * (K = 3).
 *
 * Every contestant runs in a child process of its own (one per repetition) that reads the data
 * from a raw little-endian float32 file, so that peak RSS is per contestant and Node and Python
 * see the same bytes. Repetitions are interleaved (all contestants of repetition r, then
 * repetition r + 1), and the ratios mixseg / scikit-learn are taken within a repetition, then
 * their median.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type * as Core from '@mixseg/core';
import type { CovarianceType, EStepStrategy, GaussianMixture, InitialParameters } from '@mixseg/core';
import { type CoreSnapshot, releaseCoreSnapshot, snapshotCore } from './core-snapshot.ts';
import {
  benchRoot,
  type ChildOutcome,
  formatNumber,
  formatTable,
  type GitRevision,
  gitRevision,
  type MachineInfo,
  machineInfo,
  median,
  resultsPath,
  runJsonChild,
  writeJson,
} from './measure.ts';
import { type PairedRatio, pairedRatio } from './paired-ratio.ts';

/** What the worker child is asked to do (passed as one JSON argument). */
export interface WorkerConfig {
  /** file:// URL of the frozen copy of @mixseg/core to import (see core-snapshot.ts). */
  coreModule: string;
  file: string;
  nSamples: number;
  nFeatures: number;
  contestant: string;
  covarianceType: CovarianceType;
  strategy: Exclude<EStepStrategy, 'auto'>;
  withPrior: boolean;
  maxIter: number;
  regCovar: number;
  initialParameters: WarmStart;
  /** Samples of the untimed warm-up fit (JIT compilation). */
  warmUpSamples: number;
}

/** What the worker child reports (one JSON line on stdout). */
export interface WorkerResult {
  contestant: string;
  covarianceType: CovarianceType;
  requestedStrategy: string;
  usedStrategy: string;
  withPrior: boolean;
  maxIter: number;
  /** The fit's own count of EM iterations (M-steps): must equal maxIter. */
  nIter: number;
  stopReason: string;
  /** onIteration calls: maxIter + 1 (one per E-step, the last one scoring the final model). */
  iterationCallbacks: number;
  /** Intervals between successive onIteration calls: one M-step plus one E-step each. */
  iterationMs: number[];
  medianIterationMs: number;
  fitMs: number;
  /** Same fit with maxIter 0: set-up (summary, binning, precisions) plus one E-step. */
  fit0Ms: number;
  fit0NIter: number;
  /** (fitMs - fit0Ms) / maxIter: the cross-check of medianIterationMs. */
  subtractedIterationMs: number;
  firstCallbackMs: number;
  logLikelihoodTrace: number[];
  means: number[][];
  weights: number[];
  warnings: string[];
  nEvents: number;
  inputBytes: number;
  priorBytes: number;
  /** RSS when the child starts, before it reads the data. */
  rssBeforeDataBytes: number;
  rssAfterDataBytes: number;
  /** Where the peaks come from: VmHWM (Linux) or getrusage elsewhere. */
  peakSource: 'VmHWM' | 'getrusage';
  /** Peak RSS of the child's own address space right after the timed fit (KiB). */
  peakRssAfterFitKiB: number;
  /** The same at exit (after the maxIter 0 fit too). */
  peakRssEndKiB: number;
  vmHwmBeforeDataKiB: number;
  /** process.resourceUsage().maxRSS before the data and after the fit (KiB): recorded, not used. */
  maxRssBeforeDataKiB: number;
  maxRssAfterFitKiB: number;
}

/** What sklearn_em.py reports. */
export interface SklearnResult {
  available: boolean;
  error?: string;
  sklearnVersion?: string;
  numpyVersion?: string;
  python?: string;
  threadpools?: unknown;
  covarianceType?: CovarianceType;
  maxIter?: number;
  inputFloat32Bytes?: number;
  float64Bytes?: number;
  rssBeforeDataBytes?: number;
  maxRssBeforeDataKiB?: number;
  vmHwmBeforeDataKiB?: number;
  rssAfterDataBytes?: number;
  fitMs?: number;
  fitPerIterationMs?: number;
  nIter?: number;
  converged?: boolean;
  lowerBound?: number;
  means?: number[][];
  weights?: number[];
  loopIterationMs?: number[];
  medianIterationMs?: number;
  /** VmHWM (or ru_maxrss off Linux) at the end (KiB). */
  peakRssKiB?: number;
  peakSource?: string;
  /** getrusage ru_maxrss at the end (KiB): recorded, not used. */
  ruMaxRssKiB?: number;
}

/** A warm start both sides understand: K weights, K x D means, K x D x D covariances. */
export interface WarmStart extends InitialParameters {
  weights: number[];
  means: number[][];
  covariances: number[][][];
}

/**
 * How the core visits the data: `direct` and `tabulated` are per-voxel passes (tabulated: D = 1
 * integer data, densities computed once per distinct value), `tabulated+prior` is the per-voxel
 * pass with an N x K per-voxel prior (the spatial stage of a segmentation), `histogram` runs EM
 * on the weighted histogram of the distinct values.
 */
export type CorePath = 'direct' | 'tabulated' | 'tabulated+prior' | 'histogram';

interface ContestantSpec {
  name: CorePath;
  strategy: Exclude<EStepStrategy, 'auto'>;
  withPrior: boolean;
}

/** `d1`: one integer-valued feature (T1-like); `d3`: three correlated non-integer features. */
export type DatasetId = 'd1' | 'd3';

interface DatasetSpec {
  id: DatasetId;
  nFeatures: number;
  warmStart: WarmStart;
}

/** One sample size of the sweep and how hard to measure it. */
export interface SizePlan {
  nSamples: number;
  maxIter: number;
  repetitions: number;
  /** sklearn: E-step + M-step pairs timed per repetition. */
  sklearnLoopReps: number;
  /** sklearn: run the full `fit` (the log-likelihood cross-check) in these first repetitions only. */
  sklearnFitRepetitions: number;
}

const SKLEARN_PYTHON = '/usr/bin/python3';
const SKLEARN_SCRIPT = join(benchRoot, 'python', 'sklearn_em.py');
const WORKER_SCRIPT = join(benchRoot, 'src', 'worker-core-em.ts');
/** scikit-learn's default reg_covar, given to both sides (core's default is relative to the variance). */
const REG_COVAR = 1e-6;
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;
export const COVARIANCE_TYPES: readonly CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];

/**
 * The sweep. Each N costs about N x (17 core + 8 sklearn children); 10^7 gets fewer repetitions
 * and iterations so that the full sweep stays near 10 minutes on 2 cores.
 */
export const PLANS: { quick: SizePlan[]; full: SizePlan[] } = {
  quick: [
    { nSamples: 1e5, maxIter: 5, repetitions: 1, sklearnLoopReps: 3, sklearnFitRepetitions: 1 },
    { nSamples: 3e5, maxIter: 5, repetitions: 1, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
  ],
  full: [
    { nSamples: 1e5, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 3e5, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 1e6, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 3e6, maxIter: 10, repetitions: 2, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
    { nSamples: 1e7, maxIter: 5, repetitions: 2, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
  ],
};

/** Three-tissue T1-like intensities (CSF, grey, white matter), as in src/example.ts. */
const TRUTH_D1 = mixture([0.2, 0.45, 0.35], [[350], [650], [850]], [[[60 ** 2]], [[45 ** 2]], [[35 ** 2]]]);

/** Three correlated features (T1-, T2-, PD-like) per tissue. */
const TRUTH_D3 = mixture(
  [0.2, 0.45, 0.35],
  [
    [350, 1400, 900],
    [650, 900, 800],
    [850, 700, 700],
  ],
  [
    covariance(
      [60, 90, 70],
      [
        [1, -0.4, 0.3],
        [-0.4, 1, 0.2],
        [0.3, 0.2, 1],
      ],
    ),
    covariance(
      [45, 60, 50],
      [
        [1, 0.5, 0.3],
        [0.5, 1, 0.4],
        [0.3, 0.4, 1],
      ],
    ),
    covariance(
      [35, 50, 40],
      [
        [1, 0.6, -0.2],
        [0.6, 1, 0.1],
        [-0.2, 0.1, 1],
      ],
    ),
  ],
);

const WARM_D1: WarmStart = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [[300], [600], [900]],
  covariances: [[[80 ** 2]], [[70 ** 2]], [[60 ** 2]]],
};

const WARM_D3: WarmStart = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [
    [320, 1350, 860],
    [620, 950, 780],
    [880, 680, 720],
  ],
  covariances: [
    [
      [90 ** 2, 0, 0],
      [0, 130 ** 2, 0],
      [0, 0, 100 ** 2],
    ],
    [
      [70 ** 2, 0, 0],
      [0, 90 ** 2, 0],
      [0, 0, 75 ** 2],
    ],
    [
      [55 ** 2, 0, 0],
      [0, 75 ** 2, 0],
      [0, 0, 60 ** 2],
    ],
  ],
};

const DATASETS: DatasetSpec[] = [
  { id: 'd1', nFeatures: 1, warmStart: WARM_D1 },
  { id: 'd3', nFeatures: 3, warmStart: WARM_D3 },
];

/**
 * The paths measured for a dataset and covariance type. D = 3 has only the direct pass (tabulation
 * and the histogram need one integer feature); the per-voxel prior is measured with `full` only,
 * the covariance type of the segmentation's spatial stage.
 */
export function contestantsFor(dataset: DatasetId, covarianceType: CovarianceType): ContestantSpec[] {
  if (dataset === 'd3') return [{ name: 'direct', strategy: 'direct', withPrior: false }];
  return [
    { name: 'direct', strategy: 'direct', withPrior: false },
    { name: 'tabulated', strategy: 'tabulated', withPrior: false },
    ...(covarianceType === 'full'
      ? [{ name: 'tabulated+prior' as const, strategy: 'tabulated' as const, withPrior: true }]
      : []),
    { name: 'histogram', strategy: 'histogram', withPrior: false },
  ];
}

/**
 * The warm start in the form a covariance type can hold, so that both sides start from the same
 * model: `tied` gets the weighted pooled covariance for every component, `diag` the diagonals,
 * `spherical` the mean of each diagonal times the identity.
 */
export function warmStartFor(base: WarmStart, covarianceType: CovarianceType): WarmStart {
  const D = base.means[0]!.length;
  const identity = (d: number): number[][] =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  switch (covarianceType) {
    case 'full':
      return base;
    case 'tied': {
      const total = base.weights.reduce((a, b) => a + b, 0);
      const pooled = identity(D).map((row, i) =>
        row.map((_, j) =>
          base.covariances.reduce((sum, matrix, k) => sum + (base.weights[k]! / total) * matrix[i]![j]!, 0),
        ),
      );
      return { ...base, covariances: base.covariances.map(() => pooled.map((row) => [...row])) };
    }
    case 'diag':
      return {
        ...base,
        covariances: base.covariances.map((matrix) =>
          matrix.map((row, i) => row.map((value, j) => (i === j ? value : 0))),
        ),
      };
    case 'spherical':
      return {
        ...base,
        covariances: base.covariances.map((matrix) => {
          const variance = matrix.reduce((sum, row, i) => sum + row[i]!, 0) / D;
          return identity(D).map((row) => row.map((v) => v * variance));
        }),
      };
    default:
      throw new TypeError(`unknown covariance type ${covarianceType satisfies never}`);
  }
}

const METHODOLOGY = {
  model:
    'K = 3, reg_covar 1e-6 (absolute, on both sides), tol 0, the same warm start on both sides (converted to ' +
    'what each covariance type can hold: tied = the weighted pooled covariance, diag = the diagonals, ' +
    'spherical = the mean variance)',
  paths:
    'direct = per-voxel fused pass; tabulated = per-voxel pass with densities tabulated per distinct integer ' +
    'value (D = 1); tabulated+prior = the same with an N x K per-voxel prior (the spatial stage of a ' +
    'segmentation; full covariance only); histogram = EM on the weighted histogram of the distinct values ' +
    '(D = 1 integer data; its O(N) binning is in "set-up ms", not in the time per iteration). scikit-learn ' +
    "has no histogram path and its GaussianMixture.fit takes no sample weights, so every core path is compared with sklearn's per-voxel EM on the same data.",
  iterationTime:
    '@mixseg/core: median over the iterations of one fit of the interval between successive onIteration ' +
    'callbacks (each interval = one M-step + one E-step pass), then the median over repetitions. ' +
    'Chosen over (fit(maxIter M) - fit(maxIter 0)) / M because it excludes the O(N) set-up without ' +
    'subtracting two noisy wall times; the subtraction is kept as a cross-check ("alt ms/iter"). The fit ' +
    'runs after an untimed warm-up fit on a small slice (JIT).',
  sklearnIterationTime:
    'median of timed gm._e_step(X) + gm._m_step(X, log_resp) pairs from the same warm start; "alt ms/iter" is ' +
    'GaussianMixture(tol=0, max_iter=M, *_init).fit(X) wall time / M (first repetitions of the small N only), ' +
    'which also counts sklearn set-up and its final E-step.',
  ratio:
    'per repetition r: core median iteration time of repetition r / sklearn median iteration time of ' +
    'repetition r (the same data, covariance type and warm start); reported value = median over repetitions. ' +
    'Below 1: the core is faster.',
  memory:
    'each contestant in its own child process reading the float32 file itself. rssBefore = RSS at the start of ' +
    "the child, before the data is read; peak = VmHWM from /proc/self/status (high-water RSS of the child's " +
    'own address space) right after the timed fit (core) or at the end (sklearn). getrusage max RSS ' +
    'is recorded but not used: on Linux it keeps the high-water mark of the pre-exec copy of the forking parent. ' +
    'growth = peak - rssBefore (includes the input array itself, and for tabulated+prior the N x K float32 ' +
    'prior = 3x the input). sklearn holds the data as float64 (2x the float32 input).',
  data:
    'generated in TypeScript with @mixseg/core sample() (seeded), stored as float32: D1 = rounded draws of a ' +
    'three-tissue T1-like mixture (integer-valued, like an int16 MR image); D3 = three correlated features ' +
    'plus a jitter in [0.001, 0.01), nudged by 0.25 where float32 made them integers (non-integer, so only the ' +
    'direct path applies). The direct path does the same arithmetic on integer and non-integer values. ' +
    'sklearn reads the same file as float64.',
  prior:
    'tabulated+prior gets a smooth non-uniform per-voxel prior (N x K float32, 0.5 + 0.4 sin(2 pi i / 20011 + ' +
    '2 pi k / 3)), built in the child; sklearn has no per-voxel prior, so its plain EM iteration is the reference.',
};

function mixture(weights: number[], means: number[][], covariances: number[][][]): GaussianMixture {
  return {
    covarianceType: 'full',
    nComponents: weights.length,
    nFeatures: means[0]!.length,
    weights,
    means,
    covariances,
    precisionsCholesky: covariances.map(precisionCholesky),
  };
}

/** Covariance from standard deviations and a correlation matrix: S R S. */
function covariance(sds: number[], correlation: number[][]): number[][] {
  return correlation.map((row, i) => row.map((r, j) => r * sds[i]! * sds[j]!));
}

/** Upper-triangular U with U U^T = inverse(covariance): U = L^-T for covariance = L L^T. */
function precisionCholesky(matrix: number[][]): number[][] {
  const D = matrix.length;
  const lower = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i]![j]!;
      for (let p = 0; p < j; p++) sum -= lower[i]![p]! * lower[j]![p]!;
      lower[i]![j] = i === j ? Math.sqrt(sum) : sum / lower[j]![j]!;
    }
  }
  // Invert the lower factor by forward substitution, then transpose.
  const inverse = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let c = 0; c < D; c++) {
    for (let i = c; i < D; i++) {
      let sum = i === c ? 1 : 0;
      for (let p = c; p < i; p++) sum -= lower[i]![p]! * inverse[p]![c]!;
      inverse[i]![c] = sum / lower[i]![i]!;
    }
  }
  return inverse.map((_, i) => inverse.map((row) => row[i]!));
}

interface DataInfo {
  file: string;
  nSamples: number;
  nFeatures: number;
  inputBytes: number;
  minimum: number;
  maximum: number;
  integerValues: number;
  /** Non-integer data: values float32 rounding made integers, moved by 0.25. */
  nudged?: number;
  generationMs: number;
}

function writeFloat32(path: string, data: Float32Array): void {
  if (os.endianness() !== 'LE')
    throw new Error('this benchmark writes little-endian float32 on LE hosts only');
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function describeData(file: string, data: Float32Array, nFeatures: number, generationMs: number): DataInfo {
  let minimum = Infinity;
  let maximum = -Infinity;
  let integerValues = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < minimum) minimum = v;
    if (v > maximum) maximum = v;
    if (Number.isInteger(v)) integerValues++;
  }
  return {
    file,
    nSamples: data.length / nFeatures,
    nFeatures,
    inputBytes: data.byteLength,
    minimum,
    maximum,
    integerValues,
    generationMs,
  };
}

/** Unrounded draws plus a small positive jitter, never an integer once stored as float32. */
function nonInteger(
  core: typeof Core,
  draws: Float64Array,
  seed: number,
): { data: Float32Array; nudged: number } {
  const random = core.createRandom(seed);
  const data = new Float32Array(draws.length);
  let nudged = 0;
  for (let i = 0; i < draws.length; i++) {
    let v = Math.fround(draws[i]! + 0.001 + 0.009 * random.nextFloat());
    if (Number.isInteger(v)) {
      v = Math.fround(v + 0.25);
      nudged++;
    }
    data[i] = v;
  }
  return { data, nudged };
}

/** Generates the data files of one sample size: D1 (integer-valued) and D3. */
function generateData(core: typeof Core, nSamples: number, directory: string): Map<DatasetId, DataInfo> {
  const infos = new Map<DatasetId, DataInfo>();
  let started = performance.now();
  const draws1 = core.sample(TRUTH_D1, nSamples, 42).samples.data;
  const integers = new Float32Array(nSamples);
  for (let i = 0; i < nSamples; i++) integers[i] = Math.round(draws1[i]!);
  const intFile = join(directory, `d1-${nSamples}.f32`);
  writeFloat32(intFile, integers);
  infos.set('d1', describeData(intFile, integers, 1, performance.now() - started));
  started = performance.now();
  const draws3 = core.sample(TRUTH_D3, nSamples, 44).samples.data;
  const d3 = nonInteger(core, draws3, 45);
  const d3File = join(directory, `d3-${nSamples}.f32`);
  writeFloat32(d3File, d3.data);
  infos.set('d3', { ...describeData(d3File, d3.data, 3, performance.now() - started), nudged: d3.nudged });
  return infos;
}

/** One child process's outcome. */
export interface RunRecord<T> {
  repetition: number;
  /** 1-minute load average just before the child started (other work on the machine shows here). */
  loadAverage: number;
  wallMs: number;
  result?: T;
  error?: string;
  stderr?: string;
}

/** Medians over the repetitions of one core contestant. */
export interface ContestantSummary {
  medianIterationMs: number;
  medianSubtractedIterationMs: number;
  /** The maxIter 0 fit: validation, summary or binning, one E-step. */
  medianFit0Ms: number;
  medianFitMs: number;
  nIter: number[];
  iterationCountOk: boolean;
  peakRssKiB: number;
  rssBeforeDataBytes: number;
  rssAfterDataBytes: number;
  growthBytes: number;
  growthOverInput: number;
  peakOverInput: number;
  /** Peak minus RSS after the data (and prior) were in memory: what the fit itself added. */
  fitOverheadBytes: number;
  /** Core / sklearn time per iteration, within each repetition, and their median. */
  ratioToSklearn: PairedRatio;
  /** Core / sklearn peak RSS, within each repetition, and their median. */
  peakRatioToSklearn: PairedRatio;
  /** |core log-likelihood after M - 1 M-steps - sklearn lower_bound_| (same warm start, no prior). */
  logLikelihoodDifference?: number;
}

/** One core contestant of one case. */
export interface ContestantRecord {
  name: CorePath;
  strategy: string;
  withPrior: boolean;
  runs: RunRecord<WorkerResult>[];
  summary?: ContestantSummary;
}

/** Medians over the repetitions of scikit-learn. */
export interface SklearnSummary {
  medianIterationMs: number;
  medianFitPerIterationMs: number;
  nIter: number[];
  iterationCountOk: boolean;
  peakRssKiB: number;
  rssBeforeDataBytes: number;
  growthBytes: number;
  growthOverInput: number;
  peakOverInput: number;
}

/** One (N, D, covariance type) cell of the sweep. */
export interface CaseRecord {
  name: string;
  nSamples: number;
  dataset: DatasetId;
  nFeatures: number;
  covarianceType: CovarianceType;
  maxIter: number;
  repetitions: number;
  data: Omit<DataInfo, 'file'>;
  contestants: ContestantRecord[];
  sklearn: { skipped?: string; runs: RunRecord<SklearnResult>[]; summary?: SklearnSummary };
}

/** A performance target, reported (not asserted). */
export interface TargetRecord {
  target: string;
  caseName: string;
  contestant: string;
  value: number;
  threshold: string;
  pass: boolean | undefined;
  note?: string;
}

/** What bench-results/core-em.json holds. */
export interface CoreEmOutput {
  benchmark: 'core-em';
  mode: 'quick' | 'full';
  machine: MachineInfo;
  git: GitRevision;
  core: CoreSnapshot;
  loadAverage: { before: number[]; after: number[] };
  sklearn: {
    available: boolean;
    note?: string;
    python: string;
    version: string | undefined;
    numpy: string | undefined;
    pythonVersion: string | undefined;
    threadpools: unknown;
  };
  methodology: Record<string, string>;
  plans: SizePlan[];
  totalSeconds: number;
  cases: CaseRecord[];
  targets: TargetRecord[];
}

function caseName(nSamples: number, nFeatures: number, covarianceType: CovarianceType): string {
  return `N=${nSamples.toExponential().replace('+', '')} D${nFeatures} ${covarianceType}`;
}

function probeSklearn(): { available: boolean; version?: string; note?: string } {
  const probe = spawnSync(SKLEARN_PYTHON, ['-c', 'import sklearn; print(sklearn.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return { available: true, version: probe.stdout.trim() };
  return {
    available: false,
    note: `${SKLEARN_PYTHON} -c 'import sklearn' failed (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}); sklearn column skipped`,
  };
}

function runWorker(config: WorkerConfig): Promise<ChildOutcome<WorkerResult>> {
  return runJsonChild<WorkerResult>(
    process.execPath,
    ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify(config)],
    { cwd: benchRoot, timeoutMs: CHILD_TIMEOUT_MS },
  );
}

function runSklearn(config: Record<string, unknown>): Promise<ChildOutcome<SklearnResult>> {
  return runJsonChild<SklearnResult>(SKLEARN_PYTHON, [SKLEARN_SCRIPT, JSON.stringify(config)], {
    cwd: benchRoot,
    timeoutMs: CHILD_TIMEOUT_MS,
  });
}

function record<T>(repetition: number, loadAverage: number, outcome: ChildOutcome<T>): RunRecord<T> {
  return {
    repetition,
    loadAverage,
    wallMs: outcome.wallMs,
    ...(outcome.result !== undefined && outcome.error === undefined ? { result: outcome.result } : {}),
    ...(outcome.error ? { error: outcome.error, stderr: outcome.stderr.slice(-4000) } : {}),
  };
}

function summariseContestant(
  contestant: ContestantRecord,
  sklearnRuns: RunRecord<SklearnResult>[],
  maxIter: number,
): ContestantSummary | undefined {
  const ok = contestant.runs.filter((run) => run.result !== undefined);
  if (ok.length === 0) return undefined;
  const results = ok.map((run) => run.result!);
  const peakRssKiB = median(results.map((r) => r.peakRssAfterFitKiB));
  const rssBeforeDataBytes = median(results.map((r) => r.rssBeforeDataBytes));
  const rssAfterDataBytes = median(results.map((r) => r.rssAfterDataBytes));
  const inputBytes = results[0]!.inputBytes;
  const growths = results.map((r) => r.peakRssAfterFitKiB * 1024 - r.rssBeforeDataBytes);
  const sklearnOk = sklearnRuns.filter((s) => s.result?.available === true);
  const ratioToSklearn = pairedRatio(
    ok.map((run) => ({ repetition: run.repetition, value: run.result!.medianIterationMs })),
    sklearnOk.map((s) => ({ repetition: s.repetition, value: s.result!.medianIterationMs! })),
  );
  const peakRatioToSklearn = pairedRatio(
    ok.map((run) => ({ repetition: run.repetition, value: run.result!.peakRssAfterFitKiB })),
    sklearnOk.map((s) => ({ repetition: s.repetition, value: s.result!.peakRssKiB! })),
  );
  let logLikelihoodDifference: number | undefined;
  const fitted = sklearnOk.find((s) => s.result?.lowerBound !== undefined)?.result;
  if (fitted && !contestant.withPrior) {
    const trace = results[0]!.logLikelihoodTrace;
    const core = trace[maxIter - 1];
    if (core !== undefined) logLikelihoodDifference = Math.abs(core - fitted.lowerBound!);
  }
  return {
    medianIterationMs: median(results.map((r) => r.medianIterationMs)),
    medianSubtractedIterationMs: median(results.map((r) => r.subtractedIterationMs)),
    medianFit0Ms: median(results.map((r) => r.fit0Ms)),
    medianFitMs: median(results.map((r) => r.fitMs)),
    nIter: results.map((r) => r.nIter),
    iterationCountOk:
      ok.length === contestant.runs.length &&
      results.every((r) => r.nIter === maxIter && r.iterationCallbacks === maxIter + 1 && r.fit0NIter === 0),
    peakRssKiB,
    rssBeforeDataBytes,
    rssAfterDataBytes,
    growthBytes: median(growths),
    growthOverInput: median(growths) / inputBytes,
    peakOverInput: (peakRssKiB * 1024) / inputBytes,
    fitOverheadBytes: median(results.map((r) => r.peakRssAfterFitKiB * 1024 - r.rssAfterDataBytes)),
    ratioToSklearn,
    peakRatioToSklearn,
    ...(logLikelihoodDifference !== undefined ? { logLikelihoodDifference } : {}),
  };
}

function summariseSklearn(runs: RunRecord<SklearnResult>[], maxIter: number): SklearnSummary | undefined {
  const results = runs.map((run) => run.result).filter((r): r is SklearnResult => r?.available === true);
  if (results.length === 0) return undefined;
  const inputBytes = results[0]!.inputFloat32Bytes!;
  const fitted = results.filter((r) => r.nIter !== undefined);
  const peakRssKiB = median(results.map((r) => r.peakRssKiB!));
  const growths = results.map((r) => r.peakRssKiB! * 1024 - r.rssBeforeDataBytes!);
  return {
    medianIterationMs: median(results.map((r) => r.medianIterationMs!)),
    medianFitPerIterationMs: median(fitted.map((r) => r.fitPerIterationMs!)),
    nIter: fitted.map((r) => r.nIter!),
    iterationCountOk: fitted.every((r) => r.nIter === maxIter),
    peakRssKiB,
    rssBeforeDataBytes: median(results.map((r) => r.rssBeforeDataBytes!)),
    growthBytes: median(growths),
    growthOverInput: median(growths) / inputBytes,
    peakOverInput: (peakRssKiB * 1024) / inputBytes,
  };
}

interface PendingCase {
  record: CaseRecord;
  specs: ContestantSpec[];
  warmStart: WarmStart;
  file: string;
}

/**
 * Runs every case of one sample size, repetition by repetition: in repetition r, every contestant
 * of every case, then r + 1. Interleaving spreads slow phases of the machine over all contestants.
 */
async function runSize(
  plan: SizePlan,
  data: Map<DatasetId, DataInfo>,
  sklearn: { available: boolean; note?: string },
  snapshot: CoreSnapshot,
  log: (line: string) => void,
): Promise<CaseRecord[]> {
  const pending: PendingCase[] = [];
  for (const dataset of DATASETS) {
    const info = data.get(dataset.id)!;
    const { file: _file, ...description } = info;
    for (const covarianceType of COVARIANCE_TYPES) {
      const specs = contestantsFor(dataset.id, covarianceType);
      pending.push({
        record: {
          name: caseName(plan.nSamples, dataset.nFeatures, covarianceType),
          nSamples: plan.nSamples,
          dataset: dataset.id,
          nFeatures: dataset.nFeatures,
          covarianceType,
          maxIter: plan.maxIter,
          repetitions: plan.repetitions,
          data: description,
          contestants: specs.map((c) => ({
            name: c.name,
            strategy: c.strategy,
            withPrior: c.withPrior,
            runs: [],
          })),
          sklearn: { runs: [], ...(sklearn.available ? {} : { skipped: sklearn.note ?? 'unavailable' }) },
        },
        specs,
        warmStart: warmStartFor(dataset.warmStart, covarianceType),
        file: info.file,
      });
    }
  }
  for (let repetition = 0; repetition < plan.repetitions; repetition++) {
    for (const { record: c, specs, warmStart, file } of pending) {
      const tag = `[${c.name}] rep ${repetition + 1}/${plan.repetitions}`;
      for (const [index, spec] of specs.entries()) {
        const loadAverage = os.loadavg()[0]!;
        const outcome = await runWorker({
          coreModule: snapshot.moduleUrl,
          file,
          nSamples: plan.nSamples,
          nFeatures: c.nFeatures,
          contestant: spec.name,
          covarianceType: c.covarianceType,
          strategy: spec.strategy,
          withPrior: spec.withPrior,
          maxIter: plan.maxIter,
          regCovar: REG_COVAR,
          initialParameters: warmStart,
          warmUpSamples: 20_000,
        });
        const run = record(repetition, loadAverage, outcome);
        c.contestants[index]!.runs.push(run);
        if (run.result) {
          const r = run.result;
          log(
            `${tag} ${spec.name}: ${formatNumber(r.medianIterationMs)} ms/iter, nIter ${r.nIter}, ` +
              `peak ${formatNumber(r.peakRssAfterFitKiB / 1024)} MiB`,
          );
        } else {
          log(
            `${tag} ${spec.name}: FAILED (${run.error})\n${outcome.stderr.trim().split('\n').slice(-8).join('\n')}`,
          );
        }
      }
      if (sklearn.available) {
        const fit = repetition < plan.sklearnFitRepetitions;
        const loadAverage = os.loadavg()[0]!;
        const outcome = await runSklearn({
          file,
          nSamples: plan.nSamples,
          nFeatures: c.nFeatures,
          covarianceType: c.covarianceType,
          maxIter: plan.maxIter,
          loopReps: plan.sklearnLoopReps,
          fit,
          regCovar: REG_COVAR,
          initialParameters: warmStart,
        });
        const run = record(repetition, loadAverage, outcome);
        c.sklearn.runs.push(run);
        if (run.result?.available) {
          const r = run.result;
          log(
            `${tag} sklearn: ${formatNumber(r.medianIterationMs!)} ms/iter` +
              (fit ? `, fit/M ${formatNumber(r.fitPerIterationMs!)} ms, n_iter_ ${r.nIter}` : '') +
              `, peak ${formatNumber(r.peakRssKiB! / 1024)} MiB`,
          );
        } else {
          log(
            `${tag} sklearn: FAILED (${run.error ?? run.result?.error})\n${outcome.stderr.trim().slice(-2000)}`,
          );
        }
      }
    }
  }
  for (const { record: c } of pending) {
    for (const contestant of c.contestants) {
      const summary = summariseContestant(contestant, c.sklearn.runs, plan.maxIter);
      if (summary) contestant.summary = summary;
    }
    const sklearnSummary = summariseSklearn(c.sklearn.runs, plan.maxIter);
    if (sklearnSummary) c.sklearn.summary = sklearnSummary;
  }
  return pending.map((p) => p.record);
}

function evaluateTargets(cases: CaseRecord[]): TargetRecord[] {
  const targets: TargetRecord[] = [];
  const full = cases.filter((c) => c.covarianceType === 'full');
  const speed = (dataset: DatasetId, contestant: CorePath, minimum: number, target: string): void => {
    for (const c of full.filter((x) => x.dataset === dataset && x.nSamples >= 1e6)) {
      const summary = c.contestants.find((x) => x.name === contestant)?.summary;
      const ratio = summary?.ratioToSklearn.median ?? Number.NaN;
      const value = 1 / ratio;
      targets.push({
        target,
        caseName: c.name,
        contestant,
        value,
        threshold: `speed-up >= ${minimum}x`,
        pass: Number.isFinite(value) ? value >= minimum : undefined,
        ...(Number.isFinite(value) ? {} : { note: 'no sklearn reference or contestant failed' }),
      });
    }
  };
  speed('d1', 'tabulated+prior', 10, 'D1 integer, per-voxel tabulated path with priors >= 10x sklearn');
  speed('d1', 'direct', 1, 'D1 direct (no tabulation) at least as fast as sklearn');
  speed('d3', 'direct', 3, 'D3 full direct >= 3x sklearn');
  speed('d1', 'histogram', 100, 'histogram path >= 100x sklearn');
  const largest = Math.max(...cases.map((c) => c.nSamples));
  for (const c of full.filter((x) => x.nSamples === largest && x.nFeatures === 1)) {
    for (const contestant of c.contestants) {
      const s = contestant.summary;
      const value = s?.growthOverInput ?? Number.NaN;
      const notes: string[] = [];
      // Below 10^7 the child's ~90 MiB baseline (Node, V8, tsx) dwarfs the data: not evaluated.
      const meaningful = largest >= 1e7;
      if (!meaningful) notes.push(`run has no N = 1e7 (largest N = ${largest}); not evaluated`);
      if (contestant.withPrior && s) {
        const prior = contestant.runs.find((r) => r.result)?.result?.priorBytes ?? 0;
        notes.push(
          `growth includes the N x K float32 prior (${(prior / c.data.inputBytes).toFixed(0)}x input); ` +
            `without it: ${((s.growthBytes - prior) / c.data.inputBytes).toFixed(2)}x`,
        );
      }
      targets.push({
        target: 'N = 1e7, D1: peak RSS growth over pre-data baseline < 4x input bytes',
        caseName: c.name,
        contestant: contestant.name,
        value,
        threshold: 'growth / input < 4',
        pass: meaningful && Number.isFinite(value) ? value < 4 : undefined,
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      });
    }
  }
  return targets;
}

function resultsTable(cases: CaseRecord[]): string {
  const headers = [
    'case',
    'path',
    'nIter',
    'ms/iter',
    'alt ms/iter',
    'set-up ms',
    'peak MiB',
    'growth/input',
    'mixseg/sklearn time',
    'mixseg/sklearn peak',
    'dLL',
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    for (const contestant of c.contestants) {
      const s = contestant.summary;
      if (!s) {
        rows.push([c.name, contestant.name, 'FAILED', ...new Array<string>(headers.length - 3).fill('')]);
        continue;
      }
      rows.push([
        c.name,
        contestant.name,
        `${[...new Set(s.nIter)].join('/')}${s.iterationCountOk ? '' : ' (!)'}`,
        formatNumber(s.medianIterationMs),
        formatNumber(s.medianSubtractedIterationMs),
        formatNumber(s.medianFit0Ms),
        formatNumber(s.peakRssKiB / 1024),
        formatNumber(s.growthOverInput),
        formatNumber(s.ratioToSklearn.median),
        formatNumber(s.peakRatioToSklearn.median),
        s.logLikelihoodDifference === undefined ? '' : s.logLikelihoodDifference.toExponential(1),
      ]);
    }
    const sk = c.sklearn.summary;
    if (sk) {
      rows.push([
        c.name,
        'sklearn',
        `${[...new Set(sk.nIter)].join('/')}${sk.iterationCountOk ? '' : ' (!)'}`,
        formatNumber(sk.medianIterationMs),
        formatNumber(sk.medianFitPerIterationMs),
        '',
        formatNumber(sk.peakRssKiB / 1024),
        formatNumber(sk.growthOverInput),
        '1',
        '1',
        '',
      ]);
    } else {
      rows.push([c.name, 'sklearn', c.sklearn.skipped ? 'skipped' : 'FAILED']);
    }
  }
  return formatTable(headers, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]));
}

function targetLines(targets: TargetRecord[]): string[] {
  return targets.map((t) => {
    const verdict = t.pass === undefined ? 'N/A ' : t.pass ? 'PASS' : 'FAIL';
    const value = t.threshold.startsWith('speed')
      ? `${formatNumber(t.value)}x`
      : `${formatNumber(t.value)}x input`;
    return `${verdict}  ${t.target} [${t.caseName}, ${t.contestant}]: ${value} (${t.threshold})${t.note ? ` - ${t.note}` : ''}`;
  });
}

export interface CoreEmOptions {
  quick: boolean;
  /** Benchmark @mixseg/core as of this git revision instead of the working tree. */
  coreRef?: string | undefined;
  log?: (line: string) => void;
}

/** Runs the sweep, prints the table and targets, writes bench-results/[quick/]core-em.json. */
export async function runCoreEm(options: CoreEmOptions): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const plans = options.quick ? PLANS.quick : PLANS.full;
  const machine: MachineInfo = machineInfo();
  const git = gitRevision();
  const sklearn = probeSklearn();
  log(
    `core EM benchmark (${options.quick ? 'quick' : 'full'}): ${machine.cores} cores, ${machine.cpuModel}, ` +
      `${machine.totalMemoryGiB} GiB, Node ${machine.node}; sklearn ${sklearn.available ? sklearn.version : 'unavailable'}`,
  );
  if (!sklearn.available) log(`NOTE: ${sklearn.note}`);
  const directory = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-'));
  const coreDirectory = join(directory, 'core');
  const cases: CaseRecord[] = [];
  const started = performance.now();
  const loadBefore = os.loadavg();
  let snapshot: CoreSnapshot;
  try {
    snapshot = snapshotCore(coreDirectory, options.coreRef);
    log(`@mixseg/core: frozen copy of the ${snapshot.source}, sha256 ${snapshot.hash.slice(0, 12)}`);
    if (snapshot.uncommitted.length > 0) {
      log(`NOTE: the working tree of packages/core differs from HEAD ${snapshot.headCommit?.slice(0, 7)}:`);
      for (const line of snapshot.uncommitted) log(`  ${line}`);
    }
    const core = (await import(snapshot.moduleUrl)) as typeof Core;
    for (const plan of plans) {
      log(`generating N = ${plan.nSamples} data in ${directory}`);
      const data = generateData(core, plan.nSamples, directory);
      cases.push(...(await runSize(plan, data, sklearn, snapshot, log)));
      for (const info of data.values()) rmSync(info.file, { force: true });
    }
  } finally {
    releaseCoreSnapshot(coreDirectory);
    rmSync(directory, { recursive: true, force: true });
  }
  const totalSeconds = (performance.now() - started) / 1000;

  const targets = evaluateTargets(cases);
  const sklearnVersions = cases
    .flatMap((c) => c.sklearn.runs)
    .map((r) => r.result)
    .find((r) => r?.available);
  const output: CoreEmOutput = {
    benchmark: 'core-em',
    mode: options.quick ? 'quick' : 'full',
    machine,
    git,
    core: snapshot,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    sklearn: {
      available: sklearn.available,
      ...(sklearn.note ? { note: sklearn.note } : {}),
      python: SKLEARN_PYTHON,
      version: sklearnVersions?.sklearnVersion ?? sklearn.version,
      numpy: sklearnVersions?.numpyVersion,
      pythonVersion: sklearnVersions?.python,
      threadpools: sklearnVersions?.threadpools,
    },
    methodology: METHODOLOGY,
    plans,
    totalSeconds,
    cases,
    targets,
  };
  const path = writeJson(resultsPath('core-em', options.quick), output);

  log('');
  log(
    `EM iteration time and memory (K = 3; medians over repetitions; ${totalSeconds.toFixed(0)} s in total)`,
  );
  log(resultsTable(cases));
  log('');
  log('ms/iter: core = median interval between onIteration callbacks (M-step + E-step);');
  log('         sklearn = median of timed _e_step + _m_step pairs from the same warm start.');
  log(
    'alt ms/iter: core = (fit(maxIter M) - fit(maxIter 0)) / M; sklearn = fit(max_iter M) / M (includes set-up).',
  );
  log('set-up ms: core fit with maxIter 0 (validation, summary or binning, one E-step).');
  log('mixseg/sklearn: median of per-repetition ratios (below 1: the core is faster / smaller).');
  log('peak = VmHWM of the child (its own high-water RSS). growth = peak - RSS before the data was read;');
  log('inputs are float32 (4 N D bytes). sklearn has no histogram path and no sample weights.');
  log('dLL: |core mean log-likelihood after M-1 M-steps - sklearn lower_bound_| (same start, same data).');
  if (!sklearn.available) log(`sklearn skipped: ${sklearn.note}`);
  log('');
  log('Targets (reported, not asserted):');
  for (const line of targetLines(targets)) log(`  ${line}`);
  log('');
  log(`raw numbers: ${path}`);
  return path;
}
