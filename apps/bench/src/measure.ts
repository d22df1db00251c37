/**
 * Small helpers shared by the benchmarks: robust statistics, machine description, plain-text
 * tables, result files and child processes that answer with one JSON document on stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the monorepo (apps/bench/src/ -> ../../..). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Root of the bench package (where `tsx` resolves from). */
export const benchRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Median of a non-empty list (mean of the two middle values for even lengths); NaN when empty. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Where a benchmark's JSON goes: `bench-results/<name>.json` for full runs, and
 * `bench-results/quick/<name>.json` for `--quick` smoke runs (kept apart, and out of git, so that
 * a quick run never replaces the numbers of a full one).
 */
export function resultsPath(name: string, quick: boolean): string {
  return join(resultsDirectory(quick), `${name}.json`);
}

/** `bench-results/` for full runs, `bench-results/quick/` for `--quick` runs. */
export function resultsDirectory(quick: boolean): string {
  return quick ? join(repoRoot, 'bench-results', 'quick') : join(repoRoot, 'bench-results');
}

/** Which code was measured: the commit, and whether the working tree differed from it. */
export interface GitRevision {
  commit: string | undefined;
  /** Short form of `commit`. */
  shortCommit: string | undefined;
  branch: string | undefined;
  /** `git status --porcelain` lines of tracked files outside bench-results/ (empty: clean). */
  uncommitted: string[];
}

/** The repository's HEAD and working-tree state; undefined fields when git is unavailable. */
export function gitRevision(): GitRevision {
  const git = (args: readonly string[]): string | undefined => {
    const run = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
    return run.status === 0 ? run.stdout.trimEnd() : undefined;
  };
  const commit = git(['rev-parse', 'HEAD']);
  const status = git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench-results']);
  return {
    commit,
    shortCommit: commit?.slice(0, 7),
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD']),
    uncommitted: status ? status.split('\n') : [],
  };
}

/** Successive differences: `[t1 - t0, t2 - t1, ...]`. */
export function intervals(timestamps: readonly number[]): number[] {
  const result: number[] = [];
  for (let i = 1; i < timestamps.length; i++) result.push(timestamps[i]! - timestamps[i - 1]!);
  return result;
}

/** What the numbers were measured on. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  totalMemoryBytes: number;
  totalMemoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  endianness: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(2)),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    endianness: os.endianness(),
    date: new Date().toISOString(),
  };
}

/** A plain-text table; columns listed in `rightAligned` (by index) are right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number> = new Set(),
): string {
  const widths = headers.map((header, c) =>
    Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Fixed-point formatting that keeps small numbers readable ("n/a" for NaN). */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 100) return value.toFixed(Math.max(0, digits - 2));
  if (magnitude >= 1) return value.toFixed(digits - 1);
  if (magnitude >= 0.01) return value.toFixed(digits);
  return value.toPrecision(digits);
}

/** Writes pretty-printed JSON, creating the folder. Returns the path. */
export function writeJson(path: string, data: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** What a child process left behind. */
export interface ChildOutcome<T> {
  /** The JSON document printed last on stdout, when there is one. */
  result: T | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Wall time of the whole child, start-up included. */
  wallMs: number;
  /** Why `result` is missing (crash, timeout, unparsable output). */
  error?: string;
}

/**
 * Runs a command whose stdout ends with one JSON line and parses it. Never throws for a failed
 * child: the failure is reported in `error` so that one crashing contestant does not stop a run.
 */
export function runJsonChild<T>(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildOutcome<T>> {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let finished = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      const text = Buffer.concat(stdout).toString('utf8').trim();
      const lastLine = text.split('\n').at(-1) ?? '';
      let result: T | undefined;
      let error: string | undefined;
      if (spawnError) error = `could not start ${command}: ${spawnError.message}`;
      else if (timedOut) error = `timed out after ${options.timeoutMs} ms`;
      else {
        try {
          result = JSON.parse(lastLine) as T;
        } catch {
          error = `exit code ${exitCode}${signal ? `, signal ${signal}` : ''}; no JSON on stdout`;
        }
        if (result !== undefined && exitCode !== 0) error = `exit code ${exitCode}`;
      }
      resolvePromise({
        result,
        exitCode,
        signal,
        stderr: Buffer.concat(stderr).toString('utf8'),
        wallMs: performance.now() - started,
        ...(error ? { error } : {}),
      });
    };
    child.on('error', (spawnError) => finish(null, null, spawnError));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** Current and high-water RSS of this process's own address space (Linux /proc/self/status). */
export interface ProcStatus {
  vmRssKiB: number;
  vmHwmKiB: number;
}

/**
 * Reads VmRSS and VmHWM, or undefined off Linux. Unlike getrusage's max RSS (what
 * `process.resourceUsage().maxRSS` and Python's `ru_maxrss` report), VmHWM starts afresh at exec:
 * getrusage keeps the high-water mark of the pre-exec copy of the forking parent, so a child
 * spawned by a parent holding a lot of memory reports at least the parent's RSS.
 */
export function procStatus(): ProcStatus | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const vmRssKiB = field('VmRSS');
  const vmHwmKiB = field('VmHWM');
  return vmRssKiB === undefined || vmHwmKiB === undefined ? undefined : { vmRssKiB, vmHwmKiB };
}

/** Bytes to MiB. */
export function mebibytes(bytes: number): number {
  return bytes / 2 ** 20;
}
