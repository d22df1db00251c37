/**
 * The EM core benchmark: time per EM iteration and peak memory of @mixseg/core's E-step
 * strategies, side by side with scikit-learn's GaussianMixture on exactly the same data, the same
 * warm start and the same number of iterations (K = 3, full covariances).
 *
 * Every contestant runs in a child process of its own (one per repetition) that reads the data
 * from a raw little-endian float32 file, so that peak RSS is per contestant and Node and Python
 * see the same bytes. Repetitions are interleaved (all contestants of repetition r, then
 * repetition r + 1), and speed-ups are ratios taken within a repetition, then their median.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type * as Core from '@mixseg/core';
import type { EStepStrategy, GaussianMixture, InitialParameters } from '@mixseg/core';
import { type CoreSnapshot, releaseCoreSnapshot, snapshotCore } from './core-snapshot.ts';
import {
  benchRoot,
  type ChildOutcome,
  formatNumber,
  formatTable,
  type MachineInfo,
  machineInfo,
  mebibytes,
  median,
  repoRoot,
  runJsonChild,
  writeJson,
} from './measure.ts';

/** What the worker child is asked to do (passed as one JSON argument). */
export interface WorkerConfig {
  /** file:// URL of the frozen copy of @mixseg/core to import (see core-snapshot.ts). */
  coreModule: string;
  file: string;
  nSamples: number;
  nFeatures: number;
  contestant: string;
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
interface WarmStart extends InitialParameters {
  weights: number[];
  means: number[][];
  covariances: number[][][];
}

interface ContestantSpec {
  name: string;
  strategy: Exclude<EStepStrategy, 'auto'>;
  withPrior: boolean;
}

type DatasetId = 'd1-int' | 'd1-float' | 'd3';

interface DatasetSpec {
  id: DatasetId;
  label: string;
  nFeatures: number;
  contestants: ContestantSpec[];
  warmStart: WarmStart;
}

interface SizePlan {
  nSamples: number;
  maxIter: number;
  repetitions: number;
  /** sklearn: E-step + M-step pairs timed per repetition. */
  sklearnLoopReps: number;
  /** sklearn: run the full `fit` in these repetitions only (it costs ~M + 3 iterations). */
  sklearnFitRepetitions: number;
}

const SKLEARN_PYTHON = '/usr/bin/python3';
const SKLEARN_SCRIPT = join(benchRoot, 'python', 'sklearn_em.py');
const WORKER_SCRIPT = join(benchRoot, 'src', 'worker-core-em.ts');
/** scikit-learn's default reg_covar, given to both sides (core's default is relative to the variance). */
const REG_COVAR = 1e-6;
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;

const PLANS: { quick: SizePlan[]; full: SizePlan[] } = {
  quick: [{ nSamples: 1e5, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 3 }],
  full: [
    { nSamples: 1e6, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 3 },
    { nSamples: 1e7, maxIter: 5, repetitions: 3, sklearnLoopReps: 3, sklearnFitRepetitions: 1 },
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
  {
    id: 'd1-int',
    label: 'D1 int',
    nFeatures: 1,
    contestants: [
      { name: 'histogram', strategy: 'histogram', withPrior: false },
      { name: 'tabulated', strategy: 'tabulated', withPrior: false },
      { name: 'tabulated+prior', strategy: 'tabulated', withPrior: true },
      { name: 'direct', strategy: 'direct', withPrior: false },
    ],
    warmStart: WARM_D1,
  },
  {
    id: 'd1-float',
    label: 'D1 float',
    nFeatures: 1,
    contestants: [{ name: 'direct', strategy: 'direct', withPrior: false }],
    warmStart: WARM_D1,
  },
  {
    id: 'd3',
    label: 'D3 full',
    nFeatures: 3,
    contestants: [{ name: 'direct', strategy: 'direct', withPrior: false }],
    warmStart: WARM_D3,
  },
];

const METHODOLOGY = {
  model: 'K = 3, covariance_type full, reg_covar 1e-6 (absolute, on both sides), tol 0, warm start',
  iterationTime:
    '@mixseg/core: median over the iterations of one fit of the interval between successive onIteration ' +
    'callbacks (each interval = one M-step + one E-step pass), then the median over repetitions. ' +
    'Chosen over (fit(maxIter M) - fit(maxIter 0)) / M because it excludes the O(N) set-up without ' +
    'subtracting two noisy wall times (the subtraction is meaningless for the histogram strategy, whose ' +
    'iterations cost microseconds next to an O(N) binning); the subtraction is kept as a cross-check ' +
    '("alt ms/iter"). The fit runs after an untimed warm-up fit on a small slice (JIT).',
  sklearnIterationTime:
    'median of timed gm._e_step(X) + gm._m_step(X, log_resp) pairs from the same warm start; "alt ms/iter" is ' +
    'GaussianMixture(tol=0, max_iter=M, *_init).fit(X) wall time / M, which also counts sklearn set-up ' +
    '(init_params="random_from_data" + parameter estimation, overridden by the *_init arrays) and its final E-step.',
  speedUp:
    'per repetition r: sklearn median iteration time of repetition r / core median iteration time of repetition r; ' +
    'reported value = median over repetitions.',
  memory:
    'each contestant in its own child process reading the float32 file itself. rssBefore = RSS at the start of ' +
    "the child, before the data is read; peak = VmHWM from /proc/self/status (high-water RSS of the child's " +
    'own address space) right after the timed fit (core) or at the end (sklearn). getrusage max RSS ' +
    '(process.resourceUsage().maxRSS, ru_maxrss) is recorded but not used: on Linux it keeps the high-water ' +
    'mark of the pre-exec copy of the forking parent, so a child reports at least the RSS the benchmark ' +
    'parent had when spawning it (up to ~400 MiB right after generating the 1e7 data). ' +
    'growth = peak - rssBefore (includes the input array itself, and for tabulated+prior the N x K float32 ' +
    'prior = 3x the input); peak/input = total peak RSS / input float32 bytes. The memory target uses ' +
    'growth < 4 x input float32 bytes.',
  data:
    'generated in TypeScript with @mixseg/core sample() (seeded), stored as float32: D1 int = rounded draws; ' +
    'D1 float = the same draws unrounded plus a jitter in [0.001, 0.01), nudged by 0.25 where float32 made ' +
    'them integers; D3 = three correlated features, same jitter. sklearn reads the same file as float64.',
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

/** Generates the data files of one sample size: D1 int and D1 float from the same draws, and D3. */
function generateData(core: typeof Core, nSamples: number, directory: string): Map<DatasetId, DataInfo> {
  const infos = new Map<DatasetId, DataInfo>();
  let started = performance.now();
  const draws1 = core.sample(TRUTH_D1, nSamples, 42).samples.data;
  const integers = new Float32Array(nSamples);
  for (let i = 0; i < nSamples; i++) integers[i] = Math.round(draws1[i]!);
  const intFile = join(directory, `d1-int-${nSamples}.f32`);
  writeFloat32(intFile, integers);
  infos.set('d1-int', describeData(intFile, integers, 1, performance.now() - started));
  started = performance.now();
  const floats = nonInteger(core, draws1, 43);
  const floatFile = join(directory, `d1-float-${nSamples}.f32`);
  writeFloat32(floatFile, floats.data);
  infos.set('d1-float', {
    ...describeData(floatFile, floats.data, 1, performance.now() - started),
    nudged: floats.nudged,
  });
  started = performance.now();
  const draws3 = core.sample(TRUTH_D3, nSamples, 44).samples.data;
  const d3 = nonInteger(core, draws3, 45);
  const d3File = join(directory, `d3-${nSamples}.f32`);
  writeFloat32(d3File, d3.data);
  infos.set('d3', { ...describeData(d3File, d3.data, 3, performance.now() - started), nudged: d3.nudged });
  return infos;
}

interface RunRecord<T> {
  repetition: number;
  /** 1-minute load average just before the child started (other work on the machine shows here). */
  loadAverage: number;
  wallMs: number;
  result?: T;
  error?: string;
  stderr?: string;
}

interface ContestantSummary {
  medianIterationMs: number;
  medianSubtractedIterationMs: number;
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
  speedUps: number[];
  medianSpeedUp: number;
  /** |core log-likelihood after M - 1 M-steps - sklearn lower_bound_| (same warm start, no prior). */
  logLikelihoodDifference?: number;
}

interface ContestantRecord {
  name: string;
  strategy: string;
  withPrior: boolean;
  runs: RunRecord<WorkerResult>[];
  summary?: ContestantSummary;
}

interface SklearnSummary {
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

interface CaseRecord {
  name: string;
  nSamples: number;
  dataset: DatasetId;
  label: string;
  nFeatures: number;
  maxIter: number;
  data: DataInfo;
  contestants: ContestantRecord[];
  sklearn: { skipped?: string; runs: RunRecord<SklearnResult>[]; summary?: SklearnSummary };
}

interface TargetRecord {
  target: string;
  caseName: string;
  contestant: string;
  value: number;
  threshold: string;
  pass: boolean | undefined;
  note?: string;
}

function caseName(nSamples: number, label: string): string {
  return `N=1e${Math.round(Math.log10(nSamples))} ${label}`;
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
  const speedUps: number[] = [];
  for (const run of ok) {
    const partner = sklearnRuns.find((s) => s.repetition === run.repetition)?.result;
    const reference = partner?.medianIterationMs;
    if (reference !== undefined) speedUps.push(reference / run.result!.medianIterationMs);
  }
  let logLikelihoodDifference: number | undefined;
  const fitted = sklearnRuns.find((s) => s.result?.lowerBound !== undefined)?.result;
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
    speedUps,
    medianSpeedUp: median(speedUps),
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

async function runCase(
  plan: SizePlan,
  dataset: DatasetSpec,
  data: DataInfo,
  sklearn: { available: boolean; note?: string },
  snapshot: CoreSnapshot,
  log: (line: string) => void,
): Promise<CaseRecord> {
  const name = caseName(plan.nSamples, dataset.label);
  const contestants: ContestantRecord[] = dataset.contestants.map((c) => ({
    name: c.name,
    strategy: c.strategy,
    withPrior: c.withPrior,
    runs: [],
  }));
  const sklearnRuns: RunRecord<SklearnResult>[] = [];
  for (let repetition = 0; repetition < plan.repetitions; repetition++) {
    const tag = `[${name}] rep ${repetition + 1}/${plan.repetitions}`;
    for (const [index, spec] of dataset.contestants.entries()) {
      const loadAverage = os.loadavg()[0]!;
      const outcome = await runWorker({
        coreModule: snapshot.moduleUrl,
        file: data.file,
        nSamples: plan.nSamples,
        nFeatures: dataset.nFeatures,
        contestant: spec.name,
        strategy: spec.strategy,
        withPrior: spec.withPrior,
        maxIter: plan.maxIter,
        regCovar: REG_COVAR,
        initialParameters: dataset.warmStart,
        warmUpSamples: 20_000,
      });
      const run = record(repetition, loadAverage, outcome);
      contestants[index]!.runs.push(run);
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
        file: data.file,
        nSamples: plan.nSamples,
        nFeatures: dataset.nFeatures,
        maxIter: plan.maxIter,
        loopReps: plan.sklearnLoopReps,
        fit,
        regCovar: REG_COVAR,
        initialParameters: dataset.warmStart,
      });
      const run = record(repetition, loadAverage, outcome);
      sklearnRuns.push(run);
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
  for (const contestant of contestants) {
    const summary = summariseContestant(contestant, sklearnRuns, plan.maxIter);
    if (summary) contestant.summary = summary;
  }
  const sklearnSummary = summariseSklearn(sklearnRuns, plan.maxIter);
  return {
    name,
    nSamples: plan.nSamples,
    dataset: dataset.id,
    label: dataset.label,
    nFeatures: dataset.nFeatures,
    maxIter: plan.maxIter,
    data,
    contestants,
    sklearn: {
      ...(sklearn.available ? {} : { skipped: sklearn.note ?? 'sklearn unavailable' }),
      runs: sklearnRuns,
      ...(sklearnSummary ? { summary: sklearnSummary } : {}),
    },
  };
}

function evaluateTargets(cases: CaseRecord[]): TargetRecord[] {
  const targets: TargetRecord[] = [];
  const speed = (dataset: DatasetId, contestant: string, minimum: number, target: string): void => {
    for (const c of cases.filter((x) => x.dataset === dataset)) {
      const summary = c.contestants.find((x) => x.name === contestant)?.summary;
      const value = summary?.medianSpeedUp ?? Number.NaN;
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
  speed('d1-int', 'tabulated+prior', 10, 'D1 integer, per-voxel tabulated path with priors >= 10x sklearn');
  speed('d1-float', 'direct', 1, 'D1 non-integer direct at least as fast as sklearn');
  speed('d3', 'direct', 3, 'D3 full direct >= 3x sklearn');
  speed('d1-int', 'histogram', 100, 'histogram path >= 100x sklearn');
  const largest = Math.max(...cases.map((c) => c.nSamples));
  for (const c of cases.filter((x) => x.nSamples === largest && x.nFeatures === 1)) {
    for (const contestant of c.contestants) {
      const s = contestant.summary;
      const value = s?.growthOverInput ?? Number.NaN;
      const notes: string[] = [];
      if (largest !== 1e7) notes.push(`run has no N = 1e7; evaluated at N = ${largest} instead`);
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
        pass: Number.isFinite(value) ? value < 4 : undefined,
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      });
    }
  }
  return targets;
}

function resultsTable(cases: CaseRecord[]): string {
  const headers = [
    'case',
    'contestant',
    'nIter',
    'ms/iter',
    'alt ms/iter',
    'fit0 ms',
    'peak MiB',
    'growth MiB',
    'growth/input',
    'peak/input',
    'vs sklearn',
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
        formatNumber(mebibytes(s.growthBytes)),
        formatNumber(s.growthOverInput),
        formatNumber(s.peakOverInput),
        Number.isFinite(s.medianSpeedUp) ? `${formatNumber(s.medianSpeedUp)}x` : 'n/a',
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
        formatNumber(mebibytes(sk.growthBytes)),
        formatNumber(sk.growthOverInput),
        formatNumber(sk.peakOverInput),
        '1x',
        '',
      ]);
    } else {
      rows.push([c.name, 'sklearn', c.sklearn.skipped ? 'skipped' : 'FAILED']);
    }
  }
  return formatTable(headers, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
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

/** Runs the benchmark, prints the table and targets, writes bench-results/core-em(.quick).json. */
export async function runCoreEm(options: CoreEmOptions): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const plans = options.quick ? PLANS.quick : PLANS.full;
  const machine: MachineInfo = machineInfo();
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
      for (const dataset of DATASETS) {
        cases.push(await runCase(plan, dataset, data.get(dataset.id)!, sklearn, snapshot, log));
      }
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
  const output = {
    benchmark: 'core-em',
    mode: options.quick ? 'quick' : 'full',
    machine,
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
  const path = writeJson(
    join(repoRoot, 'bench-results', options.quick ? 'core-em.quick.json' : 'core-em.json'),
    output,
  );

  log('');
  log(
    `EM iteration time and memory (K = 3, full; medians over repetitions; ${totalSeconds.toFixed(0)} s in total)`,
  );
  log(resultsTable(cases));
  log('');
  log('ms/iter: core = median interval between onIteration callbacks (M-step + E-step);');
  log('         sklearn = median of timed _e_step + _m_step pairs from the same warm start.');
  log(
    'alt ms/iter: core = (fit(maxIter M) - fit(maxIter 0)) / M; sklearn = fit(max_iter M) / M (includes set-up).',
  );
  log(
    'fit0 ms: core fit with maxIter 0 (validation, binning, one E-step). vs sklearn: median of per-repetition',
  );
  log(
    'ratios. peak = VmHWM of the child (its own high-water RSS; getrusage max RSS, which on Linux includes',
  );
  log(
    "the forking parent's RSS, is kept in the JSON only). growth = peak - RSS before the child read the data;",
  );
  log('inputs are float32 (4 N D bytes).');
  log('dLL: |core mean log-likelihood after M-1 M-steps - sklearn lower_bound_| (same start, same data).');
  if (!sklearn.available) log(`sklearn skipped: ${sklearn.note}`);
  log('');
  log('Targets (reported, not asserted):');
  for (const line of targetLines(targets)) log(`  ${line}`);
  log('');
  log(`raw numbers: ${path}`);
  return path;
}
