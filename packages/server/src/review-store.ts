/**
 * review.tsv on disk, safe with several viewers (server processes, possibly on several machines
 * sharing the folder) saving at once. Each save is a read-modify-write under an exclusive lock
 * file, `.review.tsv.lock` beside it, created with `O_CREAT | O_EXCL` (atomic on local file
 * systems and NFS v3+); the new text goes to a temporary file that is flushed and then renamed
 * over review.tsv, so a reader sees the old file or the new one, never a part. A lock left by a
 * process that died is broken once its modification time is older than `staleLockMs`: a save
 * holds the lock for milliseconds, so a lock that old belongs to no running save. Before the
 * rename a save checks that the lock is still its own, else it starts again (a save slower than
 * `staleLockMs`, or a clock skewed between machines, costs a retry, not a mark). What is left is a
 * window of microseconds, between that check and the rename, in which a saver that has just
 * broken a stale lock could read review.tsv before the rename lands.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileSystemHttpError, HttpError } from './http-error.ts';
import {
  formatReviewTable,
  parseReviewTable,
  ReviewFileError,
  type ReviewMark,
  reviewMarks,
  setReviewMark,
} from './review-file.ts';

/** The review marks file, in the results folder. */
export const REVIEW_FILE = 'review.tsv';
/** The lock file beside it (hidden: the listing leaves it out). */
export const REVIEW_LOCK_FILE = `.${REVIEW_FILE}.lock`;

/** Options of {@link saveReviewMark}. */
export interface ReviewStoreOptions {
  /** A lock file older than this is left by a dead process and broken (ms). Default 10,000. */
  staleLockMs?: number;
  /** Give up (503) after waiting this long for the lock (ms). Default 30,000. */
  lockTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readText(folder: string): Promise<string | undefined> {
  try {
    return await readFile(join(folder, REVIEW_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileSystemHttpError(error, REVIEW_FILE);
  }
}

/**
 * The marks in the folder's review.tsv (none when there is no file).
 *
 * @throws {HttpError} naming review.tsv when it cannot be read or has no subject and status columns.
 */
export async function readReviewMarks(folder: string): Promise<ReviewMark[]> {
  const text = await readText(folder);
  if (text === undefined) return [];
  try {
    return reviewMarks(parseReviewTable(text));
  } catch (error) {
    if (error instanceof ReviewFileError) throw new HttpError(409, `${REVIEW_FILE}: ${error.message}`);
    throw error;
  }
}

/**
 * Sets one subject's mark in the folder's review.tsv, keeping every other row and column, and
 * returns all marks as written.
 *
 * @throws {HttpError} 409 when review.tsv is not a review file (no subject and status columns:
 *   it is left as it is), 403 when the folder cannot be written, 503 when the lock stays taken.
 */
export async function saveReviewMark(
  folder: string,
  mark: ReviewMark,
  options: ReviewStoreOptions = {},
): Promise<ReviewMark[]> {
  const staleLockMs = options.staleLockMs ?? 10_000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  const lockPath = join(folder, REVIEW_LOCK_FILE);
  const token = `${process.pid}@${hostname()} ${randomBytes(8).toString('hex')}\n`;
  const started = Date.now();
  for (;;) {
    await acquireLock(lockPath, token, staleLockMs, started + lockTimeoutMs);
    try {
      const result = await rewrite(folder, mark, async () => (await readOwner(lockPath)) === token);
      if (result !== undefined) return result;
      // the lock was broken and taken by another saver meanwhile: do it again on its result
    } finally {
      if ((await readOwner(lockPath)) === token) await rm(lockPath, { force: true });
    }
  }
}

async function readOwner(lockPath: string): Promise<string | undefined> {
  try {
    return await readFile(lockPath, 'utf8');
  } catch {
    return undefined;
  }
}

async function acquireLock(lockPath: string, token: string, staleLockMs: number, deadline: number) {
  const cannotWrite = (error: unknown) => {
    const failure = fileSystemHttpError(error, REVIEW_LOCK_FILE);
    const reason = failure.message.slice(REVIEW_LOCK_FILE.length + 2);
    return new HttpError(failure.status, `${REVIEW_FILE}: cannot write in the results folder: ${reason}`);
  };
  for (let attempt = 0; ; attempt++) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotWrite(error);
    }
    if (handle !== undefined) {
      try {
        await handle.writeFile(token);
      } catch (error) {
        await rm(lockPath, { force: true });
        throw cannotWrite(error);
      } finally {
        await handle.close();
      }
      return;
    }
    let age: number;
    try {
      age = Date.now() - (await stat(lockPath)).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (age > staleLockMs) {
      // Moved aside, then deleted. Should another saver have broken it and taken a new lock
      // meanwhile, that saver finds the lock no longer its own before writing, and starts again.
      const aside = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
      try {
        await rename(lockPath, aside);
        await rm(aside, { force: true });
      } catch {
        // the other one moved it
      }
      continue;
    }
    if (Date.now() > deadline) {
      const owner = ((await readOwner(lockPath)) ?? '').trim().split(' ')[0] || 'unknown';
      throw new HttpError(
        503,
        `${REVIEW_FILE}: locked by another viewer (${REVIEW_LOCK_FILE}, process ${owner}) for too long; try again`,
      );
    }
    // short random waits: two savers do not keep colliding
    await sleep(2 + Math.random() * Math.min(50, 5 * (attempt + 1)));
  }
}

/**
 * Reads review.tsv, sets the mark, writes a temporary file and renames it over review.tsv if
 * `stillLocked()`; undefined when it is not (nothing written).
 */
async function rewrite(
  folder: string,
  mark: ReviewMark,
  stillLocked: () => Promise<boolean>,
): Promise<ReviewMark[] | undefined> {
  const path = join(folder, REVIEW_FILE);
  const text = await readText(folder);
  let table: ReturnType<typeof parseReviewTable>;
  try {
    table = setReviewMark(parseReviewTable(text ?? ''), mark);
  } catch (error) {
    if (error instanceof ReviewFileError) {
      throw new HttpError(
        409,
        `${REVIEW_FILE}: ${error.message}; not overwritten (rename it to start a new review file)`,
      );
    }
    throw error;
  }
  let mode: number | undefined;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch {
    mode = undefined;
  }
  const temporary = join(folder, `.${REVIEW_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(formatReviewTable(table));
      if (mode !== undefined) await handle.chmod(mode); // keep a shared file's group permissions
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!(await stillLocked())) {
      await unlink(temporary);
      return undefined;
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const failure = fileSystemHttpError(error, REVIEW_FILE);
    throw new HttpError(
      failure.status,
      `${REVIEW_FILE}: cannot write: ${failure.message.slice(REVIEW_FILE.length + 2)}`,
    );
  }
  await syncFolder(folder);
  return reviewMarks(table);
}

/** Flushes the folder's entry for the renamed file (where the platform allows opening folders). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here (Windows): the rename is still atomic
  }
}
