/**
 * One file as an HTTP reply, revalidated rather than downloaded again: a strong `ETag` (inode,
 * size and modification time in nanoseconds) and `Last-Modified`, `304 Not Modified` for
 * `If-None-Match` (or, without it, `If-Modified-Since`), and one byte range (`Range: bytes=a-b`,
 * `bytes=a-`, `bytes=-n`) as `206 Partial Content`, honouring `If-Range`. Several ranges in one
 * request are answered with the whole file (RFC 9110 lets a server ignore Range). The file is
 * opened before any header is sent, so that a file that cannot be read gets a status and a reason
 * rather than a dropped reply.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileSystemHttpError, HttpError } from './http-error.ts';

/** Content types by extension; anything else is `application/octet-stream`. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  // served as bytes: the viewer inflates .nii.gz itself (no Content-Encoding), so ranges are of
  // the compressed file.
  '.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
};

/**
 * Sends `file` (an absolute path already checked to be servable) as the reply to a GET or HEAD.
 * `displayPath` names it in error replies (relative to the served folder).
 *
 * @throws {HttpError} 403/404/500 naming `displayPath` when the file cannot be opened; after the
 *   headers are sent, a read error rejects with the fs error (the caller logs it and drops the
 *   connection, the only thing left to do).
 */
export async function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  file: string,
  displayPath: string,
  headers: OutgoingHttpHeaders = {},
): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw fileSystemHttpError(error, displayPath);
  }
  let streaming = false;
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) throw new HttpError(404, `${displayPath}: not a regular file`);
    const size = Number(info.size);
    const etag = `"${info.ino.toString(36)}-${info.size.toString(36)}-${info.mtimeNs.toString(36)}"`;
    const modified = new Date(Number(info.mtimeMs));
    const common: OutgoingHttpHeaders = {
      ...headers,
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      ETag: etag,
      'Last-Modified': modified.toUTCString(),
      'Accept-Ranges': 'bytes',
      // always revalidate (the folder changes when subjects are segmented again): a 304 costs
      // one round trip, not the file.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    if (notModified(request, etag, modified)) {
      response.writeHead(304, common);
      response.end();
      return;
    }
    const range = requestedRange(request, size, etag, modified);
    if (range === 'unsatisfiable') {
      const body = JSON.stringify({ error: `${displayPath}: the range is outside the file (${size} bytes)` });
      response.writeHead(416, {
        ...common,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Range': `bytes */${size}`,
        'Content-Length': Buffer.byteLength(body),
      });
      response.end(body);
      return;
    }
    const [start, end] = range ?? [0, size - 1];
    response.writeHead(range ? 206 : 200, {
      ...common,
      'Content-Length': Math.max(0, end - start + 1),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (request.method === 'HEAD' || end < start) {
      response.end();
      return;
    }
    streaming = true;
    const stream = handle.createReadStream({ start, end, autoClose: true });
    let readError: unknown;
    stream.on('error', (error) => {
      readError = error;
    });
    try {
      await pipeline(stream, response);
    } catch (error) {
      // The reader failing is the server's problem (reported by the caller); the client going
      // away mid-file is not.
      if (readError !== undefined) throw readError;
      if (!response.destroyed && !response.writableFinished) throw error;
    }
  } finally {
    // the read stream closes the handle itself once it has been created
    if (!streaming) await handle.close();
  }
}

/** Whether the client's copy is current: If-None-Match (weak comparison), else If-Modified-Since. */
function notModified(request: IncomingMessage, etag: string, modified: Date): boolean {
  const noneMatch = request.headers['if-none-match'];
  if (noneMatch !== undefined) {
    const bare = etag.replace(/^W\//, '');
    return noneMatch
      .split(',')
      .map((tag) => tag.trim())
      .some((tag) => tag === '*' || tag.replace(/^W\//, '') === bare);
  }
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  // HTTP dates have whole seconds
  return Number.isFinite(since) && Math.floor(modified.getTime() / 1000) <= Math.floor(since / 1000);
}

/**
 * The byte range asked for, as [first, last] (inclusive), or undefined for the whole file (no
 * Range, a malformed or multiple one, or an If-Range that no longer matches).
 */
function requestedRange(
  request: IncomingMessage,
  size: number,
  etag: string,
  modified: Date,
): [number, number] | 'unsatisfiable' | undefined {
  const header = request.headers.range;
  if (header === undefined) return undefined;
  const ifRange = request.headers['if-range']?.toString().trim();
  if (ifRange !== undefined) {
    const current = ifRange.startsWith('"')
      ? ifRange === etag // strong comparison only
      : Date.parse(ifRange) === Math.floor(modified.getTime() / 1000) * 1000;
    if (!current) return undefined;
  }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  if (match[2] !== '' && Number(match[2]) < start) return undefined; // invalid: ignored
  if (start >= size) return 'unsatisfiable';
  return [start, match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)];
}
