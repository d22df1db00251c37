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
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type * as Core from '@mixseg/core';
import type { CovarianceType } from '@mixseg/core';
import {
  COVARIANCE_TYPES,
  type ContestantSpec,
  contestantsFor,
  DATASETS,
  generateData,
  PLANS,
  warmStartFor,
} from './core-em-cases.ts';
import {
  evaluateTargets,
  resultsTable,
  summariseContestant,
  summariseSklearn,
  targetLines,
} from './core-em-summary.ts';
import type {
  CaseRecord,
  CoreEmOutput,
  DataInfo,
  DatasetId,
  RunRecord,
  SizePlan,
  SklearnResult,
  WarmStart,
  WorkerConfig,
  WorkerResult,
} from './core-em-types.ts';
import { type CoreSnapshot, releaseCoreSnapshot, snapshotCore } from './core-snapshot.ts';
import {
  benchRoot,
  type ChildOutcome,
  formatNumber,
  gitRevision,
  type MachineInfo,
  machineInfo,
  resultsPath,
  runJsonChild,
  writeJson,
} from './measure.ts';

const SKLEARN_PYTHON = '/usr/bin/python3';
const SKLEARN_SCRIPT = join(benchRoot, 'python', 'sklearn_em.py');
const WORKER_SCRIPT = join(benchRoot, 'src', 'worker-core-em.ts');
/** scikit-learn's default reg_covar, given to both sides (core's default is relative to the variance). */
const REG_COVAR = 1e-6;
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;

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
