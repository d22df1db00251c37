/**
 * The server's failures as HTTP answers: a status and a one-line reason that names the path
 * relative to the results folder (never the server's own stack or an absolute path of the folder).
 */

/** A failure the server answers with `status` and `{ error: message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A file-system error met on `path` (as the reply should name it: relative to the results
 * folder) as an HttpError: 404 when missing, 403 when permission is denied, 503 when the process
 * is out of file descriptors, 500 otherwise, each with a one-line reason.
 */
export function fileSystemHttpError(error: unknown, path: string): HttpError {
  if (error instanceof HttpError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  switch (code) {
    case 'ENOENT':
      return new HttpError(404, `${path}: no such file`);
    case 'ENOTDIR':
      return new HttpError(404, `${path}: no such file (a folder on the way is a file)`);
    case 'EISDIR':
      return new HttpError(404, `${path}: a folder, not a file`);
    case 'EACCES':
    case 'EPERM':
      return new HttpError(403, `${path}: permission denied`);
    case 'EROFS':
      return new HttpError(403, `${path}: read-only file system`);
    case 'ELOOP':
      return new HttpError(500, `${path}: too many levels of symlinks (a loop)`);
    case 'EMFILE':
    case 'ENFILE':
      return new HttpError(503, `${path}: too many open files on the server; try again`);
    default: {
      // Node's own message names the absolute path; keep its first clause (the errno text).
      const text = (error as Error | undefined)?.message?.split(',')[0] ?? String(error);
      return new HttpError(500, `${path}: ${code ? `${code} ` : ''}${text.replace(/^[A-Z]+: /, '')}`);
    }
  }
}

/** `text` on one line: control characters (line breaks in file names, say) escaped. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
