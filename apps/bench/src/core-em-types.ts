/**
 * What the EM core benchmark exchanges and keeps: the worker's and scikit-learn's one-line JSON
 * answers, the sweep's plan, and bench-results/core-em.json (cases, contestants, summaries, targets).
 */
import type { CovarianceType, EStepStrategy, InitialParameters } from '@mixseg/core';
import type { CoreSnapshot } from './core-snapshot.ts';
import type { GitRevision, MachineInfo } from './measure.ts';
import type { PairedRatio } from './paired-ratio.ts';

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

/** `d1`: one integer-valued feature (T1-like); `d3`: three correlated non-integer features. */
export type DatasetId = 'd1' | 'd3';

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

/** One generated data file: its shape, range and how many values are integers. */
export interface DataInfo {
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
