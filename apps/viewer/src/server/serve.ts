/**
 * The viewer's local server (Node only): serves the built viewer, one results folder under
 * `/data/`, a listing of that folder, and the study-review marks. It listens on 127.0.0.1 by
 * default and answers only for that host name (so that a page on another site cannot reach it
 * through DNS rebinding), serves nothing outside the two folders (every path is checked after
 * decoding and again after following symlinks), and writes only `review.tsv`, atomically.
 *
 * Routes:
 * - `GET /` and `GET /<asset>`: the built viewer (`distDir`).
 * - `GET /api/folder`: `{ name, files: [{ path, size }] }`, every regular file under the folder
 *   (paths relative, `/`-separated; hidden files and symlinks leaving the folder left out).
 * - `GET /data/<path>`: one file of the folder.
 * - `GET /api/review`: `{ marks: [{ subject, status, note, time }] }` from `review.tsv`.
 * - `PUT` or `POST /api/review` with a JSON body `{ subject, status: 'pass' | 'fail' | '', note }`:
 *   sets one subject's mark and answers with all marks.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatReviewTsv,
  parseReviewTsv,
  type ReviewMark,
  validateReviewMark,
} from '../shared/review-file.ts';

/** Options of {@link startViewerServer}. */
export interface ViewerServerOptions {
  /** The results folder to serve (read-only, except `review.tsv`). */
  folder: string;
  /** Interface to listen on. Default `127.0.0.1` (this machine only). */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /** The built viewer. Default `apps/viewer/dist` (beside this package's `src`). */
  distDir?: string;
}

/** A running server. */
export interface ViewerServer {
  /** The viewer's address, e.g. `http://127.0.0.1:43127/`. */
  url: string;
  /** Stops listening and closes open connections. */
  close: () => Promise<void>;
}

/** The review marks file, in the results folder. */
export const REVIEW_FILE = 'review.tsv';

const DEFAULT_DIST_DIR = fileURLToPath(new URL('../../dist', import.meta.url));
const MAX_LISTED_FILES = 20_000;
const MAX_LISTING_DEPTH = 6;
const MAX_BODY_BYTES = 64 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  // served as bytes: the viewer inflates .nii.gz itself (no Content-Encoding).
  '.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
};

// No inline scripts, no eval, no other origin: a hostile file or label name cannot run code even if
// it ever reached the page as markup.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the viewer's server for one results folder.
 *
 * @throws {Error} naming the folder when it does not exist or is not a folder, or naming distDir
 *   when the viewer has not been built (`pnpm --filter @mixseg/viewer build`).
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const folder = await realDirectory(options.folder, 'results folder');
  const distDir = await realDirectory(
    options.distDir ?? DEFAULT_DIST_DIR,
    'built viewer (run the build first)',
  );
  try {
    await stat(join(distDir, 'index.html'));
  } catch {
    throw new Error(`${distDir}: no index.html; build the viewer first (pnpm --filter @mixseg/viewer build)`);
  }

  // Review writes are queued so that two quick marks never lose one another.
  let reviewQueue: Promise<unknown> = Promise.resolve();
  const context: RequestContext = {
    folder,
    distDir,
    allowedHosts: new Set<string>(),
    updateReview: (mark) => {
      const next = reviewQueue.then(() => writeReviewMark(folder, mark));
      reviewQueue = next.catch(() => undefined);
      return next;
    },
  };

  const server = createServer((request, response) => {
    handle(request, response, context).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : 'internal error';
      if (!response.headersSent) sendJson(response, status, { error: message });
      else response.destroy();
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  for (const name of [urlHost, 'localhost', '127.0.0.1', '[::1]']) {
    context.allowedHosts.add(`${name}:${address.port}`);
  }
  return {
    url: `http://${urlHost}:${address.port}/`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}

interface RequestContext {
  folder: string;
  distDir: string;
  allowedHosts: Set<string>;
  updateReview: (mark: ReviewMark) => Promise<ReviewMark[]>;
}

async function handle(request: IncomingMessage, response: ServerResponse, context: RequestContext) {
  if (!context.allowedHosts.has(request.headers.host ?? '')) {
    throw new HttpError(421, 'unexpected Host header');
  }
  const rawPath = (request.url ?? '/').split('?')[0]!;
  const method = request.method ?? 'GET';
  if (rawPath === '/api/review') {
    if (method === 'GET' || method === 'HEAD') {
      sendJson(response, 200, { marks: await readReviewMarks(context.folder) });
      return;
    }
    if (method === 'PUT' || method === 'POST') {
      // A JSON content type cannot be sent cross-site without a CORS preflight, which this
      // server never grants: other pages cannot write marks.
      if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new HttpError(415, 'the body must be application/json');
      }
      const body = await readBody(request);
      let mark: ReviewMark;
      try {
        mark = validateReviewMark(JSON.parse(body));
      } catch (error) {
        throw new HttpError(400, (error as Error).message);
      }
      sendJson(response, 200, { marks: await context.updateReview(mark) });
      return;
    }
    throw new HttpError(405, `${method} is not allowed on /api/review`);
  }
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed`);
  if (rawPath === '/api/folder') {
    sendJson(response, 200, { name: basename(context.folder), files: await listFolder(context.folder) });
    return;
  }
  if (rawPath.startsWith('/data/')) {
    const file = await confinedFile(context.folder, rawPath.slice('/data/'.length));
    await sendFile(request, response, file);
    return;
  }
  const asset = rawPath === '/' ? 'index.html' : rawPath.slice(1);
  await sendFile(request, response, await confinedFile(context.distDir, asset));
}

async function realDirectory(path: string, what: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    throw new Error(`${path}: no such ${what}`);
  }
  if (!(await stat(real)).isDirectory()) throw new Error(`${path}: not a folder (${what})`);
  return real;
}

/**
 * The real path of a regular file inside `root` named by a URL path (still percent-encoded), or an
 * HttpError 400/404. Decodes once; refuses NUL, backslashes, empty, `.` and `..` segments and
 * hidden names; then checks that the real path (symlinks followed) is still inside `root`.
 */
export async function confinedFile(root: string, encodedPath: string): Promise<string> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding');
  }
  if (decoded.includes('\0') || decoded.includes('\\')) throw new HttpError(400, 'invalid path');
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new HttpError(400, 'invalid path');
  }
  if (segments.some((segment) => segment.startsWith('.'))) throw new HttpError(404, 'not found');
  const candidate = resolve(root, ...segments);
  if (!isInside(root, candidate)) throw new HttpError(400, 'invalid path');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (!isInside(root, real)) throw new HttpError(404, 'not found');
  if (!(await stat(real)).isFile()) throw new HttpError(404, 'not found');
  return real;
}

function isInside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function sendFile(request: IncomingMessage, response: ServerResponse, file: string): Promise<void> {
  const info = await stat(file);
  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    response.on('close', resolvePromise);
    stream.pipe(response);
  });
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Every regular file under `folder`, relative `/`-separated paths, sorted; hidden names skipped. */
async function listFolder(folder: string): Promise<{ path: string; size: number }[]> {
  const files: { path: string; size: number }[] = [];
  const walk = async (directory: string, prefix: string, depth: number): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_FILES) return;
      if (entry.name.startsWith('.')) continue;
      const path = join(directory, entry.name);
      let target = path;
      if (entry.isSymbolicLink()) {
        try {
          target = await realpath(path);
        } catch {
          continue;
        }
        if (!isInside(folder, target)) continue;
      }
      const info = await lstat(target);
      if (info.isDirectory()) {
        if (depth < MAX_LISTING_DEPTH && !entry.isSymbolicLink()) {
          await walk(path, `${prefix}${entry.name}/`, depth + 1);
        }
      } else if (info.isFile()) {
        files.push({ path: `${prefix}${entry.name}`, size: info.size });
      }
    }
  };
  await walk(folder, '', 0);
  return files;
}

async function readReviewMarks(folder: string): Promise<ReviewMark[]> {
  let text: string;
  try {
    text = await readFile(join(folder, REVIEW_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseReviewTsv(text);
}

/** Sets one subject's mark in review.tsv: read, update, write a temporary file, rename. */
async function writeReviewMark(folder: string, mark: ReviewMark): Promise<ReviewMark[]> {
  const marks = await readReviewMarks(folder);
  const index = marks.findIndex((existing) => existing.subject === mark.subject);
  if (index >= 0) marks[index] = mark;
  else marks.push(mark);
  const path = join(folder, REVIEW_FILE);
  const temporary = join(folder, `.${REVIEW_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temporary, formatReviewTsv(marks));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new Error(`${path}: cannot write: ${(error as Error).message}`, { cause: error });
  }
  return marks;
}
