/**
 * The viewer benchmark: builds the viewer (`pnpm --filter @mixseg/viewer build`), runs its browser
 * timing test (apps/viewer/test/browser-timing.test.ts: a 1 mm study of four subjects served by the
 * real server, opened and stepped through in headless Chromium), and copies the figures the test
 * writes (apps/viewer/test-results/viewer-timings.json) into bench-results/viewer.json beside the
 * machine, the git revision and the load average, as the other benchmarks record them. The test
 * measures; this only runs it and keeps its numbers with the others.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  formatTable,
  type GitRevision,
  gitRevision,
  type MachineInfo,
  machineInfo,
  repoRoot,
  resultsPath,
  writeJson,
} from './measure.ts';

const TIMING_TEST = 'apps/viewer/test/browser-timing.test.ts';
const TIMINGS_FILE = join(repoRoot, 'apps', 'viewer', 'test-results', 'viewer-timings.json');
/** How often the load average is sampled while the test runs. */
const LOAD_SAMPLE_MS = 5000;

/** A median and the runs it was taken over, in ms. */
export interface TimingRuns {
  median: number;
  runs: number[];
}

/** What apps/viewer/test/browser-timing.test.ts writes (viewer-timings.json). */
export interface ViewerTimings {
  label: string;
  /** When the test wrote the figures (ISO 8601). */
  time: string;
  study: {
    subjects: number;
    dims: number[];
    spacingMm: number[];
    probabilityMaps: number;
    bytes: Record<string, number>;
  };
  /** `page.goto` to the first subject drawn, one run per fresh page. */
  firstDrawnMs: TimingRuns;
  /** The page's long tasks (over 50 ms) summed over each of those runs. */
  firstDrawnLongTaskMs: TimingRuns;
  /** `j` to the next subject drawn after looking at the current one for `dwellMs`. */
  stepAfterDwellMs: TimingRuns & { dwellMs: number; longTaskMs: number[] };
  /** `j` to the next subject drawn, pressed as soon as the previous one is drawn. */
  stepImmediateMs: TimingRuns & { longTaskMs: number[] };
}

/** bench-results/viewer.json. */
export interface ViewerOutput {
  benchmark: 'viewer';
  mode: 'quick' | 'full';
  machine: MachineInfo;
  git: GitRevision;
  /**
   * 1-minute load averages: before the build, when the test started (other work on the machine),
   * the highest sampled during the test (which counts the test's own browser and server), after it
   * (testStart is absent in results written before it was recorded).
   */
  loadAverage: { before: number; testStart?: number; max: number; after: number };
  commands: string[];
  buildSeconds: number;
  testSeconds: number;
  timings: ViewerTimings;
  methodology: string;
}

const METHODOLOGY =
  'Headless Chromium (playwright-core) on the built viewer served by the real server; times from the ' +
  "test's side: page.goto to the first subject drawn (data-loaded set, then two frames), and j to the next " +
  'subject drawn, after a dwell and immediately; long tasks are the PerformanceObserver longtask entries ' +
  '(over 50 ms) summed over each interval. Figures are reported, never asserted.';

/** Runs a command from the repository root, its output passed through; resolves its exit code. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

/**
 * Builds the viewer, runs its timing test and writes bench-results/[quick/]viewer.json (the test
 * has no quick mode: `--quick` only keeps the result apart). Returns the path written.
 *
 * @throws Error when the build or the test fails, or the test wrote no figures during this run
 */
export async function runViewer(
  options: { quick: boolean },
  log: (line: string) => void = (line) => console.log(line),
): Promise<string> {
  const machine = machineInfo();
  const git = gitRevision();
  const loadBefore = os.loadavg()[0]!;
  const build = ['pnpm', ['--filter', '@mixseg/viewer', 'build']] as const;
  const test = ['pnpm', ['vitest', 'run', TIMING_TEST]] as const;
  const commands = [build, test].map(([command, args]) => [command, ...args].join(' '));

  log(`$ ${commands[0]}`);
  let started = performance.now();
  const buildCode = await run(build[0], [...build[1]]);
  if (buildCode !== 0) throw new Error(`${commands[0]} failed (exit code ${buildCode})`);
  const buildSeconds = (performance.now() - started) / 1000;

  log(`$ ${commands[1]}`);
  const testStarted = new Date();
  const loadTestStart = os.loadavg()[0]!;
  let loadMax = loadTestStart;
  const sampler = setInterval(() => {
    loadMax = Math.max(loadMax, os.loadavg()[0]!);
  }, LOAD_SAMPLE_MS);
  started = performance.now();
  let testCode: number | null;
  try {
    testCode = await run(test[0], [...test[1]], { ...process.env, MIXSEG_TIMING_LABEL: 'pnpm bench viewer' });
  } finally {
    clearInterval(sampler);
  }
  const testSeconds = (performance.now() - started) / 1000;
  if (testCode !== 0) throw new Error(`${commands[1]} failed (exit code ${testCode})`);
  if (!existsSync(TIMINGS_FILE)) {
    throw new Error(
      `${TIMINGS_FILE} is missing after the timing test (was it skipped? it needs /usr/bin/chromium)`,
    );
  }
  const timings = JSON.parse(readFileSync(TIMINGS_FILE, 'utf8')) as ViewerTimings;
  if (!(Date.parse(timings.time) >= testStarted.getTime())) {
    throw new Error(
      `${TIMINGS_FILE} was written at ${timings.time}, before this run: the test did not report`,
    );
  }
  const loadAfter = os.loadavg()[0]!;
  const output: ViewerOutput = {
    benchmark: 'viewer',
    mode: options.quick ? 'quick' : 'full',
    machine,
    git,
    loadAverage: {
      before: loadBefore,
      testStart: loadTestStart,
      max: Math.max(loadMax, loadAfter),
      after: loadAfter,
    },
    commands,
    buildSeconds,
    testSeconds,
    timings,
    methodology: METHODOLOGY,
  };
  const path = writeJson(resultsPath('viewer', options.quick), output);
  const rows: [string, TimingRuns][] = [
    ['first drawn (URL to first subject)', timings.firstDrawnMs],
    [`step after ${timings.stepAfterDwellMs.dwellMs} ms dwell (j)`, timings.stepAfterDwellMs],
    ['step immediately (j)', timings.stepImmediateMs],
  ];
  log('');
  log(
    formatTable(
      ['viewer, 1 mm study of 4', 'median ms', 'runs ms'],
      rows.map(([name, t]) => [name, String(t.median), t.runs.join(', ')]),
      new Set([1, 2]),
    ),
  );
  log(
    `load average ${loadTestStart.toFixed(2)} when the test started, up to ${output.loadAverage.max.toFixed(2)} ` +
      `during it (its own browser and server included), on ${machine.cores} cores`,
  );
  log(`wrote ${path}`);
  return path;
}
