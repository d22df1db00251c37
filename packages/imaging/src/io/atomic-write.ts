/**
 * Every file is written to a temporary name in the same folder and renamed into place when
 * complete, so that an interrupted run never leaves a half-written output behind (a rename within
 * one file system is atomic). A write that fails removes its temporary file and says, in one line
 * naming the file, what failed.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ImageFileError } from '../types.ts';

/** The temporary name used while writing `path`: hidden, in the same folder, unique. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The errno code of an error or of the first error in its `cause` chain that has one. */
function errnoCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Why a file or folder could not be written, in a few words that start with "cannot write", from
 * the errno code of the error (or of its cause): ENOSPC "cannot write: no space left on the
 * device", EACCES, EPERM and EROFS "cannot write here (read-only or permission denied)", ENOTDIR
 * "cannot write: part of the path is a file, not a folder", and so on; for an unknown error, its
 * message's first line.
 */
export function writeErrorReason(error: unknown): string {
  const code = errnoCode(error);
  switch (code) {
    case 'ENOSPC':
      return 'cannot write: no space left on the device';
    case 'EDQUOT':
      return 'cannot write: disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'cannot write here (read-only or permission denied)';
    case 'ENOTDIR':
      return 'cannot write: part of the path is a file, not a folder';
    case 'ENOENT':
      return 'cannot write: its folder does not exist';
    case 'EISDIR':
      return 'cannot write: a folder of that name is in the way';
    case 'EEXIST':
      return 'cannot write: a file of that name is in the way';
    case 'EFBIG':
      return 'cannot write: the file is too large for the file system';
    case 'ENAMETOOLONG':
      return 'cannot write: the name is too long';
    case 'EMFILE':
    case 'ENFILE':
      return 'cannot write: too many open files';
    case 'EIO':
      return 'cannot write: input/output error (a failing disk or network mount?)';
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return `cannot write: ${message.split('\n')[0]}`;
    }
  }
}

/**
 * Writes bytes to `path` atomically (temporary file, then rename).
 *
 * @throws {ImageFileError} naming `path`, with {@link writeErrorReason} as its reason and the
 *   file-system error as its cause, when the temporary file cannot be written or renamed; the
 *   temporary file is removed first.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    // the error that matters is the write's: one removing the temporary file must not hide it
    await rm(temporary, { force: true }).catch(() => {});
    throw new ImageFileError(path, writeErrorReason(error), { cause: error });
  }
}
