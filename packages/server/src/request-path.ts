/**
 * From a request's URL path to a file under a root folder, never outside it by the path itself:
 * the path is decoded once and checked segment by segment, then resolved, and the real path (after
 * symlinks) is reported as inside or outside the root for the caller to decide on.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileSystemHttpError, HttpError } from './http-error.ts';

/** Whether `path` lies below `root` (both absolute and resolved; `root` itself is not below). */
export function isInside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The segments of a URL path (still percent-encoded) below a root, or an HttpError 400/404.
 * Decodes once; refuses NUL, backslashes, empty, `.` and `..` segments; hidden names are not found.
 */
export function requestPath(encodedPath: string): { segments: string[]; display: string } {
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
  return { segments, display: segments.join('/') };
}

/**
 * The real path of `segments` under `root` (symlinks followed) and whether it left the root; an
 * HttpError naming `display` when it does not exist (or is a broken symlink), cannot be reached or
 * is not a regular file.
 */
export async function realInside(
  root: string,
  segments: string[],
  display: string,
): Promise<{ real: string; outside: boolean; candidate: string }> {
  const candidate = resolve(root, ...segments);
  if (!isInside(root, candidate)) throw new HttpError(400, 'invalid path');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await isSymbolicLink(candidate))) {
      throw new HttpError(404, `${display}: a broken symlink (its target does not exist)`);
    }
    throw fileSystemHttpError(error, display);
  }
  const outside = !isInside(root, real);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(real);
  } catch (error) {
    throw fileSystemHttpError(error, display);
  }
  if (!info.isFile()) throw new HttpError(404, `${display}: not a file`);
  return { real, outside, candidate };
}

async function isSymbolicLink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}
