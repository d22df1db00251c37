/**
 * The worker-thread side of the batch pool: segments the subjects the main thread sends, one at
 * a time, and posts progress and the summary row back. In the bundle this module is part of
 * dist/mixseg.mjs, which is also the worker's entry: the check below runs it only in a worker
 * started by the pool.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runSubject, type SubjectTask } from './subject.ts';

/** Marks workers started by the pool (workerData.role). */
export const WORKER_ROLE = 'mixseg-segment-worker';

/** Main thread to worker. */
export interface RunMessage {
  type: 'run';
  id: number;
  task: SubjectTask;
}

/** Worker to main thread. */
export type WorkerMessage =
  | { type: 'progress'; id: number; stage: 'mixture' | 'spatial'; iteration: number }
  | { type: 'result'; id: number; row: import('./outputs.ts').SummaryRow };

function serve(): void {
  const port = parentPort!;
  port.on('message', async (message: RunMessage) => {
    let last = 0;
    const row = await runSubject(message.task, ({ stage, iteration }) => {
      // a few progress messages a second are plenty for a progress bar
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      port.postMessage({ type: 'progress', id: message.id, stage, iteration } satisfies WorkerMessage);
    });
    port.postMessage({ type: 'result', id: message.id, row } satisfies WorkerMessage);
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) serve();
