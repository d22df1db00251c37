/**
 * Where a command writes and what it knows of its surroundings: the real process for the bin,
 * strings for the in-process tests.
 */

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

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 80,
    env: process.env,
    cwd: process.cwd(),
    handleSignals: true,
    useWorkers: true,
  };
}

/** A wrong command line (exit code 2): bad option value, missing input, conflicting options. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes: 0 success, 1 some input failed (the rest completed), 2 usage error. */
export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
