/**
 * Web Worker: fetches (or receives) one NIfTI file and parses it with @mixseg/imaging's parseNifti,
 * off the page's main thread. A .nii.gz is inflated once, by the browser's native gzip
 * (DecompressionStream); the inflated file goes back with the parsed volume (both transferred, not
 * copied), so that NiiVue reads it without inflating it again.
 *
 * parseNifti stays the judge of every file: when the native inflater fails, or its output does not
 * parse, the original bytes are parsed again by parseNifti's own inflater, whose error (naming the
 * file and what is wrong with it) is the one reported.
 */
import { parseNifti } from '@mixseg/imaging';
import type { NiftiRequest, NiftiResponse } from './nifti-protocol.ts';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<NiftiRequest>) => void) | null;
  postMessage(message: NiftiResponse, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  void handle(event.data);
};

async function handle(request: NiftiRequest): Promise<void> {
  const { id, name } = request;
  try {
    const bytes = request.bytes ? new Uint8Array(request.bytes) : await fetchBytes(request.url!, name);
    let file: Uint8Array | undefined = bytes;
    let volume: ReturnType<typeof parseNifti> | undefined;
    if (isGzip(bytes)) {
      try {
        file = await inflate(bytes);
        volume = parseNifti(file, name);
      } catch {
        // the portable path below decides, and names what is wrong
        volume = undefined;
      }
      if (!volume) {
        volume = parseNifti(bytes, name);
        file = bytes; // NiiVue inflates this rare file itself
      }
    } else volume = parseNifti(bytes, name);
    const transfer: Transferable[] = [volume.data.buffer as ArrayBuffer];
    if (file.buffer !== volume.data.buffer) transfer.push(file.buffer as ArrayBuffer);
    scope.postMessage({ id, type: 'done', volume, file }, transfer);
  } catch (error) {
    scope.postMessage({ id, type: 'error', message: (error as Error).message ?? String(error) });
  }
}

async function fetchBytes(url: string, name: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`${name}: cannot be fetched (${(error as Error).message})`);
  }
  if (!response.ok) throw new Error(`${name}: the server answered ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
