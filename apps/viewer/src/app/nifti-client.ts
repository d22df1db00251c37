/**
 * Parses NIfTI files off the main thread, in a small pool of parse workers (nifti-worker.ts). Each
 * file is fetched (or handed over), inflated and parsed once, by @mixseg/imaging's parseNifti; the
 * page gets the volume and the uncompressed file that NiiVue then reads. Work for what is about to
 * be shown (`now`) goes ahead of prefetching (`background`), and a group of background work can be
 * promoted when the user asks for it.
 */
import type { Volume } from '@mixseg/imaging';
import type { NiftiRequest, NiftiResponse } from './nifti-protocol.ts';

/** A parsed file: its volume and the uncompressed file for NiiVue. */
export interface ParsedNifti {
  volume: Volume;
  file: Uint8Array;
}

/** Where a file comes from: a URL (resolved against the page) or its bytes (handed over, not copied). */
export type NiftiSource = { url: string } | { bytes: Uint8Array };

/** `now` for what the user waits for, `background` for prefetching. */
export type LoadPriority = 'now' | 'background';

/** Options of {@link loadNifti}. */
export interface NiftiLoadOptions {
  /** Default `now`. */
  priority?: LoadPriority;
  /** A name for {@link promote} (the subject the file belongs to). */
  group?: string;
  /** Aborts the load while it waits in the queue (a running parse finishes, unused). */
  signal?: AbortSignal;
}

interface Task {
  request: NiftiRequest;
  transfer: Transferable[];
  priority: LoadPriority;
  group: string | undefined;
  signal: AbortSignal | undefined;
  resolve: (parsed: ParsedNifti) => void;
  reject: (error: Error) => void;
}

/** Workers: two parse in parallel on a 2-core machine, up to four where there are more cores. */
const MAX_WORKERS = Math.max(2, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));

const queue: Task[] = [];
const idle: Worker[] = [];
const running = new Map<Worker, Task>();
let nextId = 1;

/** Fetches (or takes) a NIfTI file and parses it in a worker. Rejects with an error naming the file. */
export function loadNifti(
  source: NiftiSource,
  name: string,
  options: NiftiLoadOptions = {},
): Promise<ParsedNifti> {
  return new Promise<ParsedNifti>((resolve, reject) => {
    const request: NiftiRequest = { id: nextId++, name };
    const transfer: Transferable[] = [];
    if ('url' in source) request.url = new URL(source.url, location.href).href;
    else {
      // a view on part of a buffer is copied; a whole buffer is handed over
      const bytes =
        source.bytes.byteOffset === 0 && source.bytes.byteLength === source.bytes.buffer.byteLength
          ? source.bytes
          : source.bytes.slice();
      request.bytes = bytes.buffer as ArrayBuffer;
      transfer.push(request.bytes);
    }
    const task: Task = {
      request,
      transfer,
      priority: options.priority ?? 'now',
      group: options.group,
      signal: options.signal,
      resolve,
      reject,
    };
    if (task.signal?.aborted) {
      reject(abortError(name));
      return;
    }
    task.signal?.addEventListener('abort', () => {
      const index = queue.indexOf(task);
      if (index >= 0) {
        queue.splice(index, 1);
        reject(abortError(name));
      }
    });
    queue.push(task);
    dispatch();
  });
}

/** Moves a group's queued background loads ahead, as `now` work. */
export function promote(group: string): void {
  for (const task of queue) if (task.group === group) task.priority = 'now';
  dispatch();
}

function abortError(name: string): Error {
  return new DOMException(`${name}: loading was cancelled`, 'AbortError');
}

function nextTask(): Task | undefined {
  const index = queue.findIndex((task) => task.priority === 'now');
  return queue.splice(Math.max(index, 0), 1)[0];
}

function dispatch(): void {
  while (queue.length > 0) {
    const worker = idle.pop() ?? (running.size < MAX_WORKERS ? startWorker() : undefined);
    if (!worker) return;
    const task = nextTask()!;
    running.set(worker, task);
    worker.postMessage(task.request, task.transfer);
  }
}

function startWorker(): Worker {
  const worker = new Worker(new URL('./nifti-worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<NiftiResponse>) => {
    const task = running.get(worker);
    running.delete(worker);
    idle.push(worker);
    const message = event.data;
    if (task && task.request.id === message.id) {
      if (message.type === 'done') task.resolve({ volume: message.volume, file: message.file });
      else task.reject(new Error(message.message));
    }
    dispatch();
  };
  worker.onerror = (event) => {
    // the worker itself failed (its script did not load, or it ran out of memory): drop it
    event.preventDefault();
    const task = running.get(worker);
    running.delete(worker);
    worker.terminate();
    task?.reject(
      new Error(`${task.request.name}: the parse worker failed (${event.message || 'no message'})`),
    );
    dispatch();
  };
  return worker;
}
