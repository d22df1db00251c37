/**
 * Runs subjects on a pool of worker threads: each worker holds one subject at a time, so memory
 * stays bounded by --jobs subjects whatever the size of the study. With a memory budget, a subject
 * also starts only when its estimated memory fits in what the running ones leave (memory-budget.ts),
 * and each subject gets a fresh worker, so that what the one before used goes back to the system.
 * A worker that dies (out of memory, say) fails its subject and is replaced. Without workers (the
 * in-process tests) the subjects run one after another in this thread.
 */
import { Worker } from 'node:worker_threads';
import { overBudgetMessage, planStarts, type SubjectMemoryEstimate } from './memory-budget.ts';
import type { SummaryRow } from './outputs.ts';
import { runSubject, type SubjectProgress, type SubjectTask, subjectInputs } from './subject.ts';
import { type RunMessage, WORKER_ROLE, type WorkerMessage } from './worker.ts';

export interface PoolCallbacks {
  start: (task: SubjectTask) => void;
  progress: (task: SubjectTask, progress: SubjectProgress) => void;
  finish: (row: SummaryRow) => void;
}

export interface PoolOptions {
  jobs: number;
  useWorkers: boolean;
  signal?: AbortSignal;
  /**
   * Bytes the running subjects' estimates may add up to (see memory-budget.ts); default: no
   * budget. A subject whose estimate alone exceeds it fails, by name, without starting.
   */
  memoryBudget?: number;
}

/** A subject to run, with its estimated peak memory when known (a task without one reserves nothing). */
export type PoolTask = SubjectTask & { memory?: SubjectMemoryEstimate | undefined };

/**
 * A new worker. In the bundle, this very file is the entry (worker.ts is inlined and serves when
 * loaded as a worker). From source (tsx, the tests' `pnpm mixseg`), a worker does not inherit
 * tsx's loader, so a small bootstrap registers it before importing worker.ts.
 */
function startWorker(): Worker {
  const workerData = { role: WORKER_ROLE };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** The summary row of a subject that failed before or outside runSubject. */
function failedRow(task: SubjectTask, error: string): SummaryRow {
  return {
    subject: task.subject.stem,
    status: 'failed',
    inputs: subjectInputs(task.subject),
    dseg: null,
    volumesMl: {},
    partialVolumesMl: {},
    iterations: null,
    converged: null,
    seconds: null,
    error,
  };
}

/** How {@link runScheduled} runs tasks `0..count-1`. */
export interface ScheduleOptions {
  /** Most tasks running at once. */
  jobs: number;
  /** Bytes the running tasks' estimates may add up to; default: no limit. */
  budget?: number;
  /** A task's estimated bytes; undefined reserves nothing. */
  bytesOf?: (index: number) => number | undefined;
  /** Once aborted, no task starts; the running ones are waited for. */
  signal?: AbortSignal;
}

/**
 * Runs tasks `0..count-1`, at most `jobs` at once, starting each only when its estimate fits in
 * what the running ones leave of the budget (see {@link planStarts}: in task order, later tasks
 * that fit may pass one that waits). A task whose estimate exceeds the whole budget is handed to
 * `neverFits` at once instead of being run. Resolves when every started task has settled; rejects
 * with the first error of `run` after the others settle (no task starts after it).
 *
 * @throws {RangeError} when jobs is not a positive integer, or (from planStarts) an estimate is not
 *   a finite number >= 0 or the budget is not > 0.
 */
export function runScheduled(
  count: number,
  options: ScheduleOptions,
  handlers: { run: (index: number) => Promise<void>; neverFits: (index: number) => void },
): Promise<void> {
  if (!(Number.isInteger(options.jobs) && options.jobs >= 1)) {
    throw new RangeError(`jobs must be a positive integer, got ${options.jobs}`);
  }
  const budget = options.budget ?? Number.POSITIVE_INFINITY;
  const bytesOf = (index: number) => options.bytesOf?.(index) ?? 0;
  let waiting = Array.from({ length: count }, (_, index) => index);
  let running = 0;
  let inUse = 0;
  let failed = false;
  let failure: unknown;
  return new Promise<void>((resolve, reject) => {
    const fill = () => {
      if (!failed && !options.signal?.aborted) {
        let plan: ReturnType<typeof planStarts>;
        try {
          plan = planStarts(waiting.map(bytesOf), { inUse, budget, slots: options.jobs - running });
        } catch (error) {
          failed = true;
          failure = error;
          plan = { start: [], neverFit: [] };
        }
        const leaving = new Set([...plan.start, ...plan.neverFit]);
        const starting = plan.start.map((position) => waiting[position]!);
        const refused = plan.neverFit.map((position) => waiting[position]!);
        waiting = waiting.filter((_, position) => !leaving.has(position));
        for (const index of refused) handlers.neverFits(index);
        for (const index of starting) {
          const bytes = bytesOf(index);
          running++;
          inUse += bytes;
          let started: Promise<void>;
          try {
            started = handlers.run(index);
          } catch (error) {
            started = Promise.reject(error);
          }
          started
            .catch((error: unknown) => {
              if (!failed) {
                failed = true;
                failure = error;
              }
            })
            .finally(() => {
              running--;
              inUse -= bytes;
              fill();
            });
        }
      }
      if (running === 0) {
        if (failed) reject(failure);
        else resolve();
      }
    };
    fill();
  });
}

/**
 * Runs every task; the rows come back in task order (a task not run because the signal aborted
 * has no row). Stops starting new tasks once `signal` aborts. With `options.memoryBudget`, tasks
 * carrying a `memory` estimate are started within the budget, and one whose estimate exceeds the
 * budget alone gets a failed row naming its file, its voxels and the budget.
 */
export async function runPool(
  tasks: readonly PoolTask[],
  callbacks: PoolCallbacks,
  options: PoolOptions,
): Promise<SummaryRow[]> {
  const rows: SummaryRow[] = new Array(tasks.length);
  const finish = (index: number, row: SummaryRow) => {
    rows[index] = row;
    callbacks.finish(row);
  };
  const budget = options.memoryBudget;
  const neverFits = (index: number) => {
    const task = tasks[index]!;
    finish(index, failedRow(task, overBudgetMessage(task.memory!, budget!)));
  };
  const schedule: ScheduleOptions = {
    jobs: options.useWorkers ? Math.max(1, options.jobs) : 1,
    ...(budget === undefined ? {} : { budget }),
    bytesOf: (index) => tasks[index]!.memory?.bytes,
    ...(options.signal ? { signal: options.signal } : {}),
  };

  if (!options.useWorkers) {
    await runScheduled(tasks.length, schedule, {
      neverFits,
      run: async (index) => {
        const task = tasks[index]!;
        callbacks.start(task);
        finish(index, await runSubject(task, (progress) => callbacks.progress(task, progress)));
      },
    });
    return rows;
  }

  const workers = new Set<Worker>();
  const idle: Worker[] = [];
  const onAbort = () => {
    for (const worker of workers) void worker.terminate();
  };
  options.signal?.addEventListener('abort', onAbort);

  const acquireWorker = (): Worker => {
    const reused = idle.pop();
    if (reused) return reused;
    const worker = startWorker();
    workers.add(worker);
    // an idle worker that dies is not handed a task
    worker.on('exit', () => {
      workers.delete(worker);
      const position = idle.indexOf(worker);
      if (position >= 0) idle.splice(position, 1);
    });
    return worker;
  };

  /** Runs one task on an idle worker or a new one; undefined when interrupted. */
  const runOnWorker = (index: number): Promise<SummaryRow | undefined> =>
    new Promise((resolveRow) => {
      const task = tasks[index]!;
      const worker = acquireWorker();
      let settled = false;
      let reason: string | undefined;
      const settle = (row: SummaryRow | undefined) => {
        if (settled) return;
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolveRow(row);
      };
      const onMessage = (message: WorkerMessage) => {
        if (message.id !== index) return;
        if (message.type === 'progress') {
          callbacks.progress(task, { stage: message.stage, iteration: message.iteration });
          return;
        }
        // with a budget, a fresh worker per subject: the memory of this one is returned now
        if (budget === undefined && !options.signal?.aborted) idle.push(worker);
        else void worker.terminate();
        settle(message.row);
      };
      // a worker that dies (out of memory, say) fails its subject; the next task gets a fresh one
      const onError = (error: Error) => {
        reason = error.message;
      };
      const onExit = (code: number) => {
        if (options.signal?.aborted) settle(undefined);
        else {
          settle(
            failedRow(
              task,
              `${task.subject.channels[0]}: the worker thread died: ${reason ?? `exit code ${code}`}`,
            ),
          );
        }
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      callbacks.start(task);
      worker.postMessage({ type: 'run', id: index, task } satisfies RunMessage);
    });

  try {
    await runScheduled(tasks.length, schedule, {
      neverFits,
      run: async (index) => {
        const row = await runOnWorker(index);
        if (row) finish(index, row);
      },
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all([...workers].map((worker) => worker.terminate()));
  }
  return rows;
}
