/**
 * Runs subjects on a pool of worker threads: each worker holds one subject at a time, so memory
 * stays bounded by --jobs subjects whatever the size of the study. A worker that dies (out of
 * memory, say) fails its subject and is replaced. Without workers (the in-process tests) the
 * subjects run one after another in this thread.
 */
import { Worker } from 'node:worker_threads';
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
}

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

/** Runs every task; the rows come back in task order. Stops starting new tasks once `signal` aborts. */
export async function runPool(
  tasks: readonly SubjectTask[],
  callbacks: PoolCallbacks,
  options: PoolOptions,
): Promise<SummaryRow[]> {
  const rows: SummaryRow[] = new Array(tasks.length);
  if (!options.useWorkers) {
    for (let i = 0; i < tasks.length && !options.signal?.aborted; i++) {
      const task = tasks[i]!;
      callbacks.start(task);
      const row = await runSubject(task, (progress) => callbacks.progress(task, progress));
      rows[i] = row;
      callbacks.finish(row);
    }
    return rows;
  }

  let next = 0;
  const nWorkers = Math.min(options.jobs, tasks.length);
  const workers = new Set<Worker>();
  options.signal?.addEventListener('abort', () => {
    for (const worker of workers) void worker.terminate();
  });

  const runWorker = (): Promise<void> =>
    new Promise((resolveWorker) => {
      if (next >= tasks.length || options.signal?.aborted) return resolveWorker();
      const worker = startWorker();
      workers.add(worker);
      let current = -1;
      const dispatch = () => {
        if (next >= tasks.length || options.signal?.aborted) {
          current = -1;
          void worker.terminate();
          return;
        }
        current = next++;
        callbacks.start(tasks[current]!);
        worker.postMessage({ type: 'run', id: current, task: tasks[current]! } satisfies RunMessage);
      };
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          callbacks.progress(tasks[message.id]!, { stage: message.stage, iteration: message.iteration });
          return;
        }
        rows[message.id] = message.row;
        callbacks.finish(message.row);
        dispatch();
      });
      const failCurrent = (reason: string) => {
        if (current < 0 || rows[current] !== undefined || options.signal?.aborted) return;
        const task = tasks[current]!;
        const row: SummaryRow = {
          subject: task.subject.stem,
          status: 'failed',
          inputs: subjectInputs(task.subject),
          dseg: null,
          volumesMl: {},
          partialVolumesMl: {},
          iterations: null,
          converged: null,
          seconds: null,
          error: `${task.subject.channels[0]}: the worker thread died: ${reason}`,
        };
        rows[current] = row;
        callbacks.finish(row);
      };
      // a worker that dies (out of memory, say) fails its subject; a fresh one carries on
      worker.on('error', (error) => failCurrent(error.message));
      worker.on('exit', (code) => {
        workers.delete(worker);
        failCurrent(`exit code ${code}`);
        current = -1;
        if (next < tasks.length && !options.signal?.aborted) void runWorker().then(resolveWorker);
        else resolveWorker();
      });
      dispatch();
    });

  await Promise.all(Array.from({ length: nWorkers }, runWorker));
  return rows;
}
