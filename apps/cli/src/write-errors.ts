/**
 * One line for a file or folder mixseg could not write (a full disk, a read-only or unwritable
 * output folder), naming it and saying what failed, for the terminal instead of a stack trace.
 */
import { ImageFileError, writeErrorReason } from '@mixseg/imaging/node';

/**
 * `<path>: cannot write: no space left on the device`, `<path>: cannot write here (read-only or
 * permission denied)`, `<path>: cannot write: part of the path is a file, not a folder`... from
 * the errno code of `error` or of its cause (see imaging's writeErrorReason). An ImageFileError
 * that already names `path` (what writeFileAtomic throws) keeps its message. Always one line.
 *
 * @param error - what the write, rename or mkdir threw.
 * @param path - the file or folder that was being written, as the user should see it.
 */
export function describeWriteError(error: unknown, path: string): string {
  if (error instanceof ImageFileError && error.path === path) return error.message.split('\n')[0]!;
  return `${path}: ${writeErrorReason(error)}`;
}
