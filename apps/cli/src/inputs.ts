/**
 * From the command line to a list of subjects: files, folders (searched recursively), globs, or a
 * manifest with one row per subject. Each subject has its channels, an optional mask and the
 * output stem its files are named after.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from './cli-io.ts';
import { isGlob, parseGlob } from './glob.ts';

/** One subject of a batch. */
export interface Subject {
  /** Output names start with it: `<stem>_dseg.nii.gz`. */
  stem: string;
  /** Co-registered channel files (T1, T2, PD...), absolute paths; the first orders the labels. */
  channels: string[];
  /** A mask file for this subject (any nonzero voxel is inside). */
  mask?: string;
}

/** Extensions of the images read, longest first so that `.nii.gz` wins over `.gz`. */
export const IMAGE_EXTENSIONS = ['.nii.gz', '.nii', '.png', '.jpg', '.jpeg'] as const;

/** Files mixseg writes, which a folder search must not take for inputs. */
const OUTPUT_PATTERN =
  /_(dseg|probseg)\.nii(\.gz)?$|_preview\.png$|_desc-truth_|_desc-(biasfield|restore)\d*(_[A-Za-z0-9]+)?\.nii(\.gz)?$/;

/** The image extension of a path, or undefined. */
export function imageExtension(path: string): string | undefined {
  const lower = path.toLowerCase();
  return IMAGE_EXTENSIONS.find((extension) => lower.endsWith(extension));
}

/** `sub-01_T1w.nii.gz` -> `sub-01_T1w`. */
export function stemOf(path: string): string {
  const name = basename(path);
  const extension = imageExtension(name);
  return extension ? name.slice(0, name.length - extension.length) : name;
}

/** A path a folder or glob search could not read, and why; the search went on without it. */
export interface SkippedPath {
  /** Absolute path of the folder or file. */
  path: string;
  /** Why, in a few words: `permission denied`, `broken symbolic link`, `no longer exists`... */
  reason: string;
}

/** What {@link findInputs} found: the image files, and what it could not read. */
export interface InputSearch {
  /** Absolute paths, in argument order, each folder's and glob's files sorted; no duplicates. */
  files: string[];
  /** Folders and files left out because they could not be read, in the order met. */
  skipped: SkippedPath[];
}

/** File-system access of {@link findInputs}: node:fs/promises by default; tests may pass their own. */
export interface FindInputsOptions {
  /** Lists a folder (as `readdir(path, { withFileTypes: true })`). */
  readDirectory?: (path: string) => Promise<Dirent[]>;
  /** Follows a path to what it names (as `stat`). */
  statPath?: (path: string) => Promise<Stats>;
}

/** Why a path could not be read, from its errno code: a few words for the skip line. */
export function unreadableReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no longer exists';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOTDIR':
      return 'not a folder';
    case 'EIO':
      return 'input/output error (a failing disk or network mount?)';
    case 'ENAMETOOLONG':
      return 'path too long';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

interface Walk {
  /** Paths relative to the walk's folder, with `/`, sorted. */
  files: string[];
  skipped: SkippedPath[];
}

/**
 * Every file under `folder`, recursively, sorted, as paths relative to it with `/`. A subfolder
 * that cannot be listed, or a symbolic link to an image that leads nowhere, is skipped and
 * reported rather than ending the search; so is `folder` itself. `descend` prunes subfolders that
 * cannot hold a wanted file (a glob's).
 */
async function walk(
  folder: string,
  access: Required<FindInputsOptions>,
  descend: (relative: string) => boolean = () => true,
  prefix = '',
): Promise<Walk> {
  const here = join(folder, prefix);
  let entries: Dirent[];
  try {
    entries = await access.readDirectory(here);
  } catch (error) {
    return { files: [], skipped: [{ path: here, reason: unreadableReason(error) }] };
  }
  const result: Walk = { files: [], skipped: [] };
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    // hidden files, and a BIDS dataset's derivatives (other pipelines' outputs, or ours)
    if (entry.name.startsWith('.') || (entry.isDirectory() && entry.name === 'derivatives')) continue;
    if (entry.isDirectory()) {
      if (!descend(path)) continue;
      const inner = await walk(folder, access, descend, path);
      result.files.push(...inner.files);
      result.skipped.push(...inner.skipped);
    } else if (entry.isFile()) result.files.push(path);
    else if (entry.isSymbolicLink()) {
      // links are not followed into folders (no cycles); a link named like an image must lead to one
      if (!isInputImage(path)) continue;
      try {
        if ((await access.statPath(join(folder, path))).isFile()) result.files.push(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'ENOENT' ? 'broken symbolic link' : unreadableReason(error);
        result.skipped.push({ path: join(folder, path), reason });
      }
    }
  }
  return result;
}

function isInputImage(path: string): boolean {
  return imageExtension(path) !== undefined && !OUTPUT_PATTERN.test(basename(path));
}

/** `a (permission denied), b (broken symbolic link) and 3 more`, paths relative to `cwd`. */
function describeSkipped(skipped: readonly SkippedPath[], cwd: string): string {
  const shown = skipped.slice(0, 5).map((s) => `${relative(cwd, s.path) || '.'} (${s.reason})`);
  return skipped.length > 5 ? `${shown.join(', ')} and ${skipped.length - 5} more` : shown.join(', ');
}

/**
 * The image files named by the arguments: a file as is; a folder's images (`.nii`, `.nii.gz`,
 * `.png`, `.jpg`, `.jpeg`) found recursively, leaving out hidden files, `derivatives` folders (BIDS)
 * and mixseg's own outputs; a glob's matching images (`*`, `?`, `[..]`, `**`, `{a,b}`, read as
 * `parseGlob` says; for shells that do not expand it, or lists too long for them).
 *
 * What cannot be read (a subfolder without permission, a broken symbolic link, a folder removed
 * during the search) is skipped and listed in `skipped`, so that one bad folder does not stop a
 * study: the caller prints one line per skipped path and goes on with `files`.
 *
 * @throws {UsageError} for a file or folder argument that does not exist; for a folder or glob
 *   that yields no image and skipped nothing (a typo, most likely); and when no argument yields an
 *   image at all, naming what could not be read.
 */
export async function findInputs(
  patterns: readonly string[],
  cwd: string,
  options: FindInputsOptions = {},
): Promise<InputSearch> {
  const access: Required<FindInputsOptions> = {
    readDirectory: options.readDirectory ?? ((path) => readdir(path, { withFileTypes: true })),
    statPath: options.statPath ?? ((path) => stat(path)),
  };
  const found: string[] = [];
  const skipped: SkippedPath[] = [];
  for (const pattern of patterns) {
    if (isGlob(pattern)) {
      const glob = parseGlob(pattern);
      const base = resolve(cwd, glob.base || '.');
      let search: Walk = { files: [], skipped: [] };
      try {
        if ((await access.statPath(base)).isDirectory()) {
          search = await walk(base, access, glob.couldMatchBelow);
        }
      } catch (error) {
        // a base folder that does not exist matches nothing; one that cannot be read is said
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') {
          search.skipped.push({ path: base, reason: unreadableReason(error) });
        }
      }
      const matched = search.files.filter((file) => glob.matches(file) && isInputImage(file));
      if (matched.length === 0 && search.skipped.length === 0) {
        throw new UsageError(`no image matches ${pattern}`);
      }
      found.push(...matched.map((file) => join(base, file)));
      skipped.push(...search.skipped);
      continue;
    }
    const path = resolve(cwd, pattern);
    let info: Stats;
    try {
      info = await access.statPath(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`no such file or folder: ${pattern}`);
      skipped.push({ path, reason: unreadableReason(error) });
      continue;
    }
    if (info.isDirectory()) {
      const search = await walk(path, access);
      const images = search.files.filter(isInputImage);
      if (images.length === 0 && search.skipped.length === 0) {
        throw new UsageError(`no image (.nii, .nii.gz, .png, .jpg) in folder ${pattern}`);
      }
      found.push(...images.map((file) => join(path, file)));
      skipped.push(...search.skipped);
    } else found.push(path);
  }
  if (found.length === 0 && skipped.length > 0) {
    throw new UsageError(
      `no readable image in ${patterns.join(' ')}: could not read ${describeSkipped(skipped, cwd)}`,
    );
  }
  return { files: [...new Set(found)], skipped };
}

/**
 * The image files named by the arguments, as {@link findInputs} finds them, without the list of
 * what it skipped.
 *
 * @deprecated Use {@link findInputs}, and print its `skipped` (one line per path): this leaves
 *   unreadable folders out silently.
 */
export async function findInputFiles(patterns: readonly string[], cwd: string): Promise<string[]> {
  return (await findInputs(patterns, cwd)).files;
}

/** One single-channel subject per file, named after the file. */
export function subjectsFromFiles(files: readonly string[]): Subject[] {
  return files.map((file) => ({ stem: stemOf(file), channels: [file] }));
}

/** Manifest columns with a meaning of their own; every other column is a channel. */
const STEM_COLUMNS = ['stem', 'subject', 'output'];
const MASK_COLUMN = 'mask';

/**
 * Reads a subjects manifest: tab-separated, a header row, one row per subject. Columns `stem`
 * (or `subject`/`output`): the output stem (default: the first channel's file stem); `mask`: an
 * optional mask file; every other column is a channel (t1, t2, pd...), in column order, the first
 * ordering the labels. Relative paths are relative to the manifest's folder; empty lines and lines
 * starting with `#` are skipped.
 *
 * @throws {UsageError} naming the manifest and line for an unreadable file, no channel column, a
 *   row with the wrong number of fields or an empty channel.
 */
export async function readManifest(path: string, cwd: string): Promise<Subject[]> {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read manifest ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const lines = text
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '' && !line.startsWith('#'));
  const header = lines.shift();
  if (!header)
    throw new UsageError(`manifest ${path} is empty: expected a header row (e.g. t1<TAB>t2<TAB>stem)`);
  const columns = header.line.split('\t').map((name) => name.trim().toLowerCase());
  const stemColumn = columns.findIndex((name) => STEM_COLUMNS.includes(name));
  const maskColumn = columns.indexOf(MASK_COLUMN);
  const channelColumns = columns.map((_, index) => index).filter((i) => i !== stemColumn && i !== maskColumn);
  if (channelColumns.length === 0) {
    throw new UsageError(`manifest ${path}: no channel column in the header (${columns.join(', ')})`);
  }
  const folder = dirname(file);
  const at = (value: string) => (isAbsolute(value) ? value : resolve(folder, value));
  return lines.map(({ line, number }) => {
    const fields = line.split('\t').map((field) => field.trim());
    if (fields.length !== columns.length) {
      throw new UsageError(
        `manifest ${path} line ${number}: ${fields.length} fields, the header has ${columns.length}`,
      );
    }
    const channels = channelColumns.map((i) => {
      if (!fields[i]) throw new UsageError(`manifest ${path} line ${number}: empty ${columns[i]}`);
      return at(fields[i]);
    });
    const stem = (stemColumn >= 0 && fields[stemColumn]) || stemOf(channels[0]!);
    if (stem.includes('/') || stem.includes('\\')) {
      throw new UsageError(
        `manifest ${path} line ${number}: the stem ${stem} must be a file name, not a path`,
      );
    }
    const mask = maskColumn >= 0 && fields[maskColumn] ? at(fields[maskColumn]) : undefined;
    return mask ? { stem, channels, mask } : { stem, channels };
  });
}

/**
 * Subjects sorted by stem (a stable order whatever the shell or file system listed), after
 * checking that no two share a stem (their outputs would overwrite each other).
 *
 * @throws {UsageError} listing the clashes.
 */
export function orderSubjects(subjects: readonly Subject[], cwd: string): Subject[] {
  const byStem = new Map<string, Subject[]>();
  for (const subject of subjects) byStem.set(subject.stem, [...(byStem.get(subject.stem) ?? []), subject]);
  const clashes = [...byStem.entries()].filter(([, list]) => list.length > 1);
  if (clashes.length > 0) {
    const described = clashes
      .slice(0, 5)
      .map(([stem, list]) => `${stem} (${list.map((s) => relative(cwd, s.channels[0]!)).join(', ')})`);
    throw new UsageError(
      `inputs with the same name would write the same outputs: ${described.join('; ')}; ` +
        'give each an output stem in a --manifest',
    );
  }
  return [...subjects].sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
}
