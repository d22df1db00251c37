/**
 * The mixseg bin. In the bundle this file is also the worker threads' entry: worker.ts (imported
 * below) serves subjects when loaded as a worker, and the command line runs only on the main thread.
 */
import { isMainThread } from 'node:worker_threads';
import { processIo } from './cli-io.ts';
import { runCli } from './program.ts';
import './worker.ts';

if (isMainThread) {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
