/**
 * Where a command writes and what it knows of its surroundings: the real process for the bin,
 * strings for the in-process tests.
 */
import { isAbsolute } from 'node:path';

export interface CliIo {
  /** Results: tables, JSON. */
  stdout: (text: string) => void;
  /** Progress, log lines, errors. */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bar rather than log lines). */
  isTTY: boolean;
  /** Terminal width for the progress bar. */
  columns: number;
  env: Record<string, string | undefined>;
  /** Relative paths are resolved against this folder. */
  cwd: string;
  /**
   * Whether commands handle SIGINT/SIGTERM (`segment`: stop the workers, remove their temporary
   * files; `view`: stop serving).
   */
  handleSignals: boolean;
  /** Whether `segment` runs subjects on worker threads (false: one by one in this thread). */
  useWorkers: boolean;
  /**
   * Stops a command that runs until interrupted (`view`) when aborted, as Ctrl-C does for the bin:
   * how the in-process tests end it.
   */
  signal?: AbortSignal;
}

/** The package scripts that run mixseg from the sources: `mixseg` in the root's and in apps/cli's package.json. */
const MIXSEG_SCRIPT = { event: 'mixseg', packages: ['mixseg', '@mixseg/cli'] } as const;

/**
 * The folder relative paths on the command line are meant from. `pnpm mixseg ...` (and `npm run
 * mixseg`) runs the script in the package's folder, not where it was typed; pnpm and npm keep that
 * folder in `INIT_CWD`. It is used only when this process is our own `mixseg` script
 * (`npm_lifecycle_event` and `npm_package_name`): an installed mixseg called from another
 * project's script keeps that script's folder, as every command does.
 */
export function invocationFolder(env: Record<string, string | undefined>, cwd: string): string {
  const { INIT_CWD: initCwd, npm_lifecycle_event: event, npm_package_name: packageName } = env;
  const fromOurScript =
    event === MIXSEG_SCRIPT.event &&
    MIXSEG_SCRIPT.packages.some((name) => name === packageName) &&
    initCwd !== undefined &&
    isAbsolute(initCwd);
  return fromOurScript ? initCwd : cwd;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 80,
    env: process.env,
    cwd: invocationFolder(process.env, process.cwd()),
    handleSignals: true,
    useWorkers: true,
  };
}

/** A wrong command line (exit code 2): bad option value, missing input, conflicting options. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An output that cannot be written (a read-only or full output folder): one line, exit code 1. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}

/** Exit codes: 0 success, 1 some input failed (the rest completed), 2 usage error. */
export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
