/**
 * The end-to-end benchmark's processes: `mixseg segment` (the bundled CLI under plain node) and the
 * peers' python/segment_job.py, each under GNU time (wall time, peak RSS, CPU time), and the medians
 * of one tool's runs on one input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { EndToEndInput, EndToEndTool, ProcessRun, SingleResult } from './cli-segment-types.ts';
import { benchRoot, median, repoRoot } from './measure.ts';

/** The CLI's package, whose bundle (dist/mixseg.mjs) is what a user runs. */
export const CLI_ROOT = join(repoRoot, 'apps', 'cli');
const BIN = join(CLI_ROOT, 'dist', 'mixseg.mjs');
/** GNU time, for peak RSS and CPU time (without it those columns are n/a). */
export const GNU_TIME = '/usr/bin/time';
/** The Python the peers run under. */
export const PYTHON = '/usr/bin/python3';
const JOB_SCRIPT = join(benchRoot, 'python', 'segment_job.py');
const TIMEOUT_MS = 30 * 60 * 1000;
/**
 * The peers run single-threaded (OpenBLAS and scikit-learn's OpenMP k-means would otherwise use
 * both cores), so that --jobs N means N cores for every tool, as mixseg runs one thread per job.
 */
const SINGLE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** Runs a command under GNU time when present; never throws for a failed command. */
function timedProcess(
  command: string,
  args: string[],
  repetition: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProcessRun> {
  const withTime = existsSync(GNU_TIME);
  const fullCommand = withTime ? GNU_TIME : command;
  const fullArgs = withTime ? ['-f', 'peak-rss-kib %M cpu-s %U %S', command, ...args] : args;
  const loadAverage = os.loadavg()[0]!;
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(fullCommand, fullArgs, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const finish = (code: number | null, error?: string): void => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const match = /peak-rss-kib (\d+) cpu-s ([\d.]+) ([\d.]+)/.exec(stderr);
      const failed = error ?? (timedOut ? 'timed out' : code !== 0 ? `exit code ${code}` : undefined);
      resolve({
        repetition,
        seconds,
        peakRssMiB: match ? Number(match[1]) / 1024 : undefined,
        cpuSeconds: match ? Number(match[2]) + Number(match[3]) : undefined,
        exitCode: code,
        loadAverage,
        ...(failed ? { error: `${failed}: ${stderr.trim().split('\n').slice(-4).join(' | ')}` } : {}),
      });
    };
    child.on('error', (error) => finish(null, error.message));
    child.on('close', (code) => finish(code));
  });
}

/** `mixseg segment` on some inputs with --jobs, under GNU time. */
export function runMixseg(
  inputs: string[],
  mask: string | undefined,
  out: string,
  jobs: number,
  repetition: number,
) {
  return timedProcess(
    process.execPath,
    [BIN, 'segment', ...inputs, ...(mask ? ['--mask', mask] : []), '-o', out, '--jobs', String(jobs)],
    repetition,
  );
}

/** A peer's python/segment_job.py on some inputs with --jobs, single-threaded, under GNU time. */
export function runPeer(
  peer: 'sklearn' | 'dipy',
  inputs: string[],
  mask: string | undefined,
  out: string,
  jobs: number,
  repetition: number,
) {
  return timedProcess(
    PYTHON,
    [JOB_SCRIPT, peer, '--out', out, ...(mask ? ['--mask', mask] : []), '--jobs', String(jobs), ...inputs],
    repetition,
    { ...process.env, ...SINGLE_THREAD },
  );
}

/** Whether a Python module (and nibabel) can be imported. */
export function probe(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import nibabel, ${module}`]).status === 0;
}

/** CPU use in percent of one core: 200 % is two cores kept busy. */
export function cpuPercent(run: ProcessRun): number {
  return run.cpuSeconds === undefined ? Number.NaN : (100 * run.cpuSeconds) / run.seconds;
}

/** The medians of one tool's runs on one input. */
export function summariseSingle(
  input: EndToEndInput['id'],
  tool: EndToEndTool,
  runs: ProcessRun[],
): SingleResult {
  const ok = runs.filter((r) => !r.error);
  return {
    input,
    tool,
    runs,
    medianSeconds: median(ok.map((r) => r.seconds)),
    medianPeakRssMiB: median(ok.map((r) => r.peakRssMiB ?? Number.NaN)),
    medianCpuPercent: median(ok.map(cpuPercent)),
  };
}
