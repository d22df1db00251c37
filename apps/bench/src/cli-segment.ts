/**
 * The CLI benchmark: `mixseg segment` as a user runs it (the bundled dist/mixseg.mjs under plain
 * node, default options: ppf prior, probability maps written) on one SRI24-sized 1 mm volume
 * (`../shared/data/sri24/spgr.nii.gz`, 240 x 240 x 155): wall time and peak RSS of the whole
 * process; then the throughput of a batch of 8 such volumes (the same file under 8 names, as
 * symlinks) with --jobs 1 and --jobs 2, measured in the same run. Peak RSS comes from GNU time
 * (`/usr/bin/time -f %M`, the process with its worker threads); without it that column is n/a.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { formatNumber, formatTable, machineInfo, median, repoRoot, writeJson } from './measure.ts';

const INPUT = join(repoRoot, '..', 'shared', 'data', 'sri24', 'spgr.nii.gz');
const CLI_ROOT = join(repoRoot, 'apps', 'cli');
const BIN = join(CLI_ROOT, 'dist', 'mixseg.mjs');
const GNU_TIME = '/usr/bin/time';

interface Run {
  seconds: number;
  peakRssMiB: number | undefined;
  /** User + system CPU seconds of the process (all its threads), from GNU time. */
  cpuSeconds: number | undefined;
  exitCode: number;
  /** 1-minute load average when the run started: other work on the machine competes for the cores. */
  loadAverage: number;
}

/** Runs the binary once; wall time from here, peak RSS from GNU time when present. */
function runMixseg(args: string[]): Promise<Run> {
  const withTime = existsSync(GNU_TIME);
  const command = withTime ? GNU_TIME : process.execPath;
  const fullArgs = withTime
    ? ['-f', 'peak-rss-kib %M cpu-s %U %S', process.execPath, BIN, ...args]
    : [BIN, ...args];
  const loadAverage = os.loadavg()[0]!;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, fullArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const match = /peak-rss-kib (\d+) cpu-s ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) {
        reject(new Error(`mixseg ${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({
        seconds,
        peakRssMiB: match ? Number(match[1]) / 1024 : undefined,
        cpuSeconds: match ? Number(match[2]) + Number(match[3]) : undefined,
        exitCode: code,
        loadAverage,
      });
    });
  });
}

/** CPU use in percent of one core: 200 % is two cores kept busy. */
function cpuPercent(run: Run): string {
  return run.cpuSeconds === undefined ? 'n/a' : ((100 * run.cpuSeconds) / run.seconds).toFixed(0);
}

export interface CliBenchOptions {
  quick: boolean;
  log?: (line: string) => void;
}

export async function runCliSegment(options: CliBenchOptions): Promise<string | undefined> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (!existsSync(INPUT)) {
    log(
      `SKIPPED: ${INPUT} not found (the shared data folder ../shared/data beside the repository is absent).`,
    );
    return undefined;
  }
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: CLI_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building apps/cli (node build.mjs) failed');
  const machine = machineInfo();
  const repetitions = options.quick ? 1 : 3;
  const batchSize = options.quick ? 2 : 8;
  log(
    `cli benchmark (${options.quick ? 'quick' : 'full'}): ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}; ` +
      `GNU time ${existsSync(GNU_TIME) ? 'found' : 'absent (no peak RSS)'}`,
  );
  const directory = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-cli-'));
  try {
    const single: Run[] = [];
    for (let r = 0; r < repetitions; r++) {
      const run = await runMixseg(['segment', INPUT, '-o', join(directory, `single-${r}`), '--jobs', '1']);
      log(
        `  segment, one volume, run ${r + 1}: ${run.seconds.toFixed(2)} s, peak RSS ${run.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB`,
      );
      single.push(run);
    }
    const batchInputs = join(directory, 'batch-inputs');
    mkdirSync(batchInputs);
    for (let i = 1; i <= batchSize; i++) {
      symlinkSync(INPUT, join(batchInputs, `sub-${String(i).padStart(2, '0')}_T1w.nii.gz`));
    }
    const batch: Record<string, Run> = {};
    for (const jobs of [1, 2]) {
      const run = await runMixseg([
        'segment',
        batchInputs,
        '-o',
        join(directory, `batch-jobs-${jobs}`),
        '--jobs',
        String(jobs),
      ]);
      log(
        `  batch of ${batchSize}, --jobs ${jobs}: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB`,
      );
      batch[jobs] = run;
    }
    const singleSeconds = median(single.map((r) => r.seconds));
    const singleRss = median(single.map((r) => r.peakRssMiB ?? Number.NaN));
    const throughput = (run: Run) => (batchSize / run.seconds) * 60;
    const speedUp = batch[1]!.seconds / batch[2]!.seconds;
    const rows = [
      [
        'segment, 1 volume',
        formatNumber(singleSeconds),
        formatNumber(singleRss, 4),
        cpuPercent(single[0]!),
        '',
        '',
      ],
      ...[1, 2].map((jobs) => [
        `batch of ${batchSize}, --jobs ${jobs}`,
        formatNumber(batch[jobs]!.seconds),
        formatNumber(batch[jobs]!.peakRssMiB ?? Number.NaN, 4),
        cpuPercent(batch[jobs]!),
        formatNumber(throughput(batch[jobs]!)),
        jobs === 2 ? `${speedUp.toFixed(2)}x` : '1x',
      ]),
    ];
    log('');
    log(
      formatTable(
        [
          'run (SRI24 spgr, 240x240x155, 1 mm)',
          'wall s',
          'peak RSS MiB',
          'CPU %',
          'volumes / min',
          'speed-up',
        ],
        rows,
        new Set([1, 2, 3, 4, 5]),
      ),
    );
    const path = writeJson(join(repoRoot, 'bench-results', `cli${options.quick ? '.quick' : ''}.json`), {
      machine,
      input: INPUT,
      command: 'node apps/cli/dist/mixseg.mjs segment <input> -o <dir> --jobs N (default options)',
      single: { runs: single, medianSeconds: singleSeconds, medianPeakRssMiB: singleRss },
      batch: { size: batchSize, jobs1: batch[1], jobs2: batch[2], speedUp },
    });
    const busiest = Math.max(...Object.values(batch).map((run) => run.loadAverage));
    if (busiest > 0.5) {
      log(
        `NOTE: the load average was up to ${busiest.toFixed(2)} on ${machine.cores} cores when a batch started: ` +
          'other work competed for the cores, so the --jobs 2 speed-up is a lower bound (see CPU %).',
      );
    }
    log(`\nwrote ${path}`);
    return path;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
