/**
 * The results folder's listing (`GET /api/folder`, a {@link FolderListing}): every regular file under the folder, the
 * inputs each sidecar names, and what could not be listed and why. Hidden names are left out;
 * symlinks to files inside the folder are listed, symlinks to files outside only when a sidecar
 * beside them names that file as an input; symlinked folders are not followed (no loops).
 */
import type { Dirent, Stats } from 'node:fs';
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FolderListing, ListedFile, ListingProblem } from './folder-listing.ts';
import { fileSystemHttpError } from './http-error.ts';
import { isInside } from './request-path.ts';
import { SIDECAR_SUFFIX, type SidecarInputs } from './sidecar-inputs.ts';
import { timeSlices } from './time-slices.ts';

/** Options of {@link listFolder}. */
export interface ListFolderOptions {
  /** Most files listed. Default 500,000 (about 40 MB of JSON). */
  maxFiles?: number;
  /** Deepest folder level listed (the folder itself is 0). Default 8. */
  maxDepth?: number;
}

const DEFAULT_MAX_FILES = 500_000;
const DEFAULT_MAX_DEPTH = 8;

function reason(error: unknown, path: string): string {
  return fileSystemHttpError(error, path).message.slice(path.length + 2);
}

/**
 * Lists `folder` (its real path; `inputs` belongs to the same folder). Synchronous file-system
 * calls in slices of a few milliseconds (see time-slices.ts).
 *
 * @throws {HttpError} naming `.` when the folder itself cannot be read.
 */
export async function listFolder(
  folder: string,
  name: string,
  inputs: SidecarInputs,
  options: ListFolderOptions = {},
): Promise<FolderListing> {
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const problems: ListingProblem[] = [];
  const sidecars: { path: string; info: Stats | undefined }[] = [];
  const files: ListedFile[] = [];
  let truncated = false;
  const pause = timeSlices();

  /** The file's stat, or undefined (with the problem noted) when it is not listed. */
  const fileInfo = async (directory: string, entry: Dirent, path: string): Promise<Stats | undefined> => {
    const absolute = join(directory, entry.name);
    try {
      if (entry.isFile()) return lstatSync(absolute);
      let target: string;
      try {
        target = realpathSync.native(absolute);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problems.push({
          path,
          reason: code === 'ENOENT' ? 'a broken symlink (its target does not exist)' : reason(error, path),
        });
        return undefined;
      }
      const info = statSync(target);
      if (info.isDirectory()) {
        problems.push({ path, reason: 'a symlink to a folder; not followed' });
        return undefined;
      }
      if (!isInside(folder, target) && !(await inputs.namesInput(directory, target))) {
        problems.push({ path, reason: OUTSIDE_SYMLINK });
        return undefined;
      }
      return info;
    } catch (error) {
      problems.push({ path, reason: reason(error, path) });
      return undefined;
    }
  };

  const walk = async (directory: string, prefix: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      if (prefix === '') throw fileSystemHttpError(error, '.');
      const path = prefix.slice(0, -1);
      problems.push({ path, reason: reason(error, path) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (truncated) return;
      if (entry.name.startsWith('.')) continue;
      await pause();
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        if (depth >= maxDepth)
          problems.push({ path, reason: `deeper than ${maxDepth} folder levels; not listed` });
        else await walk(join(directory, entry.name), `${path}/`, depth + 1);
        continue;
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue; // sockets, pipes, devices
      const info = await fileInfo(directory, entry, path);
      if (info === undefined || !info.isFile()) continue;
      if (files.length === maxFiles) {
        truncated = true;
        return;
      }
      files.push({ path, size: info.size });
      if (entry.name.endsWith(SIDECAR_SUFFIX))
        sidecars.push({ path, info: entry.isFile() ? info : undefined });
    }
  };

  await walk(folder, '', 0);
  const named = await inputs.entriesOf(sidecars, (path, why) => problems.push({ path, reason: why }));
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { name, files, truncated, maxFiles, problems, inputs: named };
}

/** Why a symlink out of the folder is neither listed nor served. */
export const OUTSIDE_SYMLINK =
  'a symlink to a file outside the results folder that no sidecar beside it names as an input; not served';
