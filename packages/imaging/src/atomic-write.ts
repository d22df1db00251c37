/**
 * Every file is written to a temporary name in the same folder and renamed into place when
 * complete, so that an interrupted run never leaves a half-written output behind (a rename within
 * one file system is atomic).
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ImageFileError } from './types.ts';

/** The temporary name used while writing `path`: hidden, in the same folder, unique. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes bytes to `path` atomically (temporary file, then rename). Errors name the file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ImageFileError(path, `cannot write: ${(error as Error).message}`, { cause: error });
  }
}
