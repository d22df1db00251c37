/**
 * The viewer's local server (Node only): serves the built viewer, one results folder under
 * `/data/`, the input images that the folder's sidecars name under `/inputs/`, a listing of that
 * folder, and the study-review marks. It listens on 127.0.0.1 by default and answers only for that
 * host name (so that a page on another site cannot reach it through DNS rebinding), serves nothing
 * else outside the folder (every path is checked after decoding and again after following
 * symlinks), and writes only `review.tsv`, atomically and under a lock that other servers on the
 * same folder respect.
 *
 * Routes (answers to failures are `{ error }` with a one-line reason naming the path relative to
 * the folder, and one line on the server's log):
 * - `GET /` and `GET /<asset>`: the built viewer (`distDir`).
 * - `GET /api/folder`: the {@link FolderListing} `{ name, files: [{ path, size }], truncated,
 *   maxFiles, problems: [{ path, reason }], inputs: { <sidecar path>: [{ source, name, url?, path?,
 *   size?, error? }] } }`: every regular file under the folder (paths relative, `/`-separated;
 *   hidden files left out; symlinks leaving the folder only when a sidecar beside them names their
 *   target), what could not be listed and why, and each sidecar's inputs with the URL to fetch
 *   them. With an ETag (304 for If-None-Match).
 * - `GET /data/<path>`: one file of the folder (ETag, Last-Modified, 304, one Range as 206).
 * - `GET /inputs/<sidecar path>/<n>`: the sidecar's n-th input (`Sources`, else `Inputs`,
 *   non-string entries left out), wherever it is, if it is an image (.nii, .nii.gz, .png, .jpg).
 * - `GET /api/review`: `{ marks: [{ subject, status, note, time }] }` from `review.tsv`.
 * - `PUT` or `POST /api/review` with a JSON body `{ subject, status: 'pass' | 'fail' | '', note }`:
 *   sets one subject's mark and answers with all marks.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import type { FolderListing } from './folder-listing.ts';
import { fileSystemHttpError, HttpError, oneLine } from './http-error.ts';
import { type ListFolderOptions, listFolder, OUTSIDE_SYMLINK } from './list-folder.ts';
import { isInside, realInside, requestPath } from './request-path.ts';
import { type ReviewMark, validateReviewMark } from './review-file.ts';
import { type ReviewStoreOptions, readReviewMarks, saveReviewMark } from './review-store.ts';
import { sendFile } from './send-file.ts';
import { INPUTS_ROUTE, SIDECAR_SUFFIX, SidecarInputs } from './sidecar-inputs.ts';

/** Options of {@link startViewerServer}. */
export interface ViewerServerOptions {
  /** The results folder to serve (read-only, except `review.tsv`). */
  folder: string;
  /** Interface to listen on. Default `127.0.0.1` (this machine only). */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /**
   * The built viewer page: a folder holding `index.html` and its assets (apps/viewer's `dist`, or
   * the copy the packed CLI ships). Its owner passes it: this package knows no app's layout.
   */
  distDir: string;
  /**
   * Where the server reports failures: one line per call, no line ending (`mixseg view: 403 GET
   * /data/sub-01/x.nii.gz: sub-01/x.nii.gz: permission denied`). Default: standard error.
   */
  log?: (line: string) => void;
  /** Limits of the folder listing (defaults: 500,000 files, 8 folder levels). */
  listing?: ListFolderOptions;
  /** Timings of review.tsv's lock. */
  review?: ReviewStoreOptions;
}

/** A running server. */
export interface ViewerServer {
  /** The viewer's address, e.g. `http://127.0.0.1:43127/`. */
  url: string;
  /** Stops listening and closes open connections. */
  close: () => Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Listing problems logged per listing; the rest are in the listing's JSON. */
const MAX_LOGGED_PROBLEMS = 20;

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
  const distDir = await realDirectory(options.distDir, 'built viewer (run the build first)');
  try {
    await stat(join(distDir, 'index.html'));
  } catch {
    throw new Error(`${distDir}: no index.html; build the viewer first (pnpm --filter @mixseg/viewer build)`);
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  // Saves of this process are queued (the lock file orders them with other processes').
  let reviewQueue: Promise<unknown> = Promise.resolve();
  const loggedProblems = new Set<string>();
  const context: RequestContext = {
    folder,
    distDir,
    allowedHosts: new Set<string>(),
    inputs: new SidecarInputs(folder),
    listingOptions: options.listing ?? {},
    updateReview: (mark) => {
      const next = reviewQueue.then(() => saveReviewMark(folder, mark, options.review));
      reviewQueue = next.catch(() => undefined);
      return next;
    },
    logProblems: (listing) => {
      const fresh = listing.problems
        .map((problem) => `${problem.path}: ${problem.reason}`)
        .filter((line) => !loggedProblems.has(line));
      for (const line of fresh.slice(0, MAX_LOGGED_PROBLEMS)) {
        loggedProblems.add(line);
        log(`mixseg view: not listed: ${oneLine(line)}`);
      }
      if (fresh.length > MAX_LOGGED_PROBLEMS) {
        log(`mixseg view: not listed: ${fresh.length - MAX_LOGGED_PROBLEMS} more (the listing's "problems")`);
      }
    },
  };

  const server = createServer((request, response) => {
    handle(request, response, context).catch((error: unknown) => {
      const failure = error instanceof HttpError ? error : undefined;
      const status = failure?.status ?? 500;
      const message = failure?.message ?? `internal error: ${(error as Error)?.message ?? String(error)}`;
      const path = (request.url ?? '/').split('?')[0]!;
      if (!(status === 404 && path === '/favicon.ico')) {
        const afterHeaders = response.headersSent ? ' (reply cut short)' : '';
        log(
          oneLine(
            `mixseg view: ${status} ${request.method} ${path.slice(0, 300)}: ${message}${afterHeaders}`,
          ),
        );
      }
      if (!response.headersSent) sendJson(response, status, { error: oneLine(message) });
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
  inputs: SidecarInputs;
  listingOptions: ListFolderOptions;
  updateReview: (mark: ReviewMark) => Promise<ReviewMark[]>;
  logProblems: (listing: FolderListing) => void;
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
    const listing = await listFolder(
      context.folder,
      basename(context.folder),
      context.inputs,
      context.listingOptions,
    );
    context.logProblems(listing);
    sendJson(response, 200, listing, request);
    return;
  }
  if (rawPath.startsWith('/data/')) {
    const { real, display } = await folderFile(context, rawPath.slice('/data/'.length));
    await sendFile(request, response, real, display, { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
    return;
  }
  if (rawPath.startsWith(`/${INPUTS_ROUTE}/`)) {
    const rest = rawPath.slice(INPUTS_ROUTE.length + 2);
    const slash = rest.lastIndexOf('/');
    const number = rest.slice(slash + 1);
    if (slash < 0 || !/^\d{1,6}$/.test(number)) {
      throw new HttpError(400, `expected /${INPUTS_ROUTE}/<sidecar path>/<input number>`);
    }
    const { segments, display } = requestPath(rest.slice(0, slash));
    if (!display.endsWith(SIDECAR_SUFFIX))
      throw new HttpError(404, `${display}: not a sidecar (*${SIDECAR_SUFFIX})`);
    const sidecar = await realInside(context.folder, segments, display);
    if (sidecar.outside) throw new HttpError(403, `${display}: ${OUTSIDE_SYMLINK}`);
    const file = context.inputs.file(display, Number(number));
    await sendFile(request, response, file, `${display}: input ${number}`, {
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    });
    return;
  }
  const asset = rawPath === '/' ? 'index.html' : rawPath.slice(1);
  const { segments, display } = requestPath(asset);
  const found = await realInside(context.distDir, segments, display);
  if (found.outside) throw new HttpError(404, `${display}: not found`);
  await sendFile(request, response, found.real, display, {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  });
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
 * A file of the results folder named by a `/data/` URL path. A symlink that leads out of the
 * folder is served only when a sidecar in the symlink's folder names its target as an input (the
 * image linked beside its results), else refused with 403 and the reason.
 */
async function folderFile(
  context: RequestContext,
  encodedPath: string,
): Promise<{ real: string; display: string }> {
  const { segments, display } = requestPath(encodedPath);
  const { real, outside, candidate } = await realInside(context.folder, segments, display);
  if (!outside) return { real, display };
  let directory: string;
  try {
    directory = await realpath(dirname(candidate));
  } catch (error) {
    throw fileSystemHttpError(error, display);
  }
  if (directory !== context.folder && !isInside(context.folder, directory)) {
    throw new HttpError(
      403,
      `${display}: in a symlinked folder that leads out of the results folder; not served`,
    );
  }
  if (await context.inputs.namesInput(directory, real)) return { real, display };
  throw new HttpError(403, `${display}: ${OUTSIDE_SYMLINK}`);
}

/**
 * A JSON reply. With `request` (a GET of data that may not have changed), it carries an ETag of
 * the body and answers 304 to a matching If-None-Match; else it is never cached.
 */
function sendJson(response: ServerResponse, status: number, value: unknown, request?: IncomingMessage): void {
  const body = JSON.stringify(value);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': request ? 'no-cache' : 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  if (request) {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    headers['ETag'] = etag;
    const noneMatch = request.headers['if-none-match'] ?? '';
    if (noneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
  }
  headers['Content-Length'] = Buffer.byteLength(body);
  response.writeHead(status, headers);
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
