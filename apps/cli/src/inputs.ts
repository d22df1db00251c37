/**
 * From the command line to a list of subjects: files, folders (searched recursively), globs, or a
 * manifest with one row per subject. Each subject has its channels, an optional mask and the
 * output stem its files are named after.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from './cli-io.ts';

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
  /_(dseg|probseg)\.nii(\.gz)?$|_preview\.png$|_desc-truth_|_desc-biasfield\d*\.nii(\.gz)?$/;

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

function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** A glob as a regular expression over `/`-separated relative paths: `**` any folders, `*` `?` `[..]` within a name. */
function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more folders
      if (pattern[i + 2] === '/') {
        source += '(?:[^/]*/)*';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Every file under `folder`, recursively, sorted, as paths relative to it with `/`. */
async function walk(folder: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(folder, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    // hidden files, and a BIDS dataset's derivatives (other pipelines' outputs, or ours)
    if (entry.name.startsWith('.') || (entry.isDirectory() && entry.name === 'derivatives')) continue;
    if (entry.isDirectory()) files.push(...(await walk(folder, path)));
    else if (entry.isFile() || entry.isSymbolicLink()) files.push(path);
  }
  return files;
}

function isInputImage(path: string): boolean {
  return imageExtension(path) !== undefined && !OUTPUT_PATTERN.test(basename(path));
}

/**
 * The image files named by the arguments: a file as is; a folder's images (`.nii`, `.nii.gz`,
 * `.png`, `.jpg`, `.jpeg`) found recursively, leaving out hidden files, `derivatives` folders (BIDS)
 * and mixseg's own outputs; a
 * glob's matching images (for shells that do not expand it, or lists too long for them).
 *
 * @throws {UsageError} for an argument that names nothing, or a folder or glob without images.
 */
export async function findInputFiles(patterns: readonly string[], cwd: string): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of patterns) {
    if (isGlob(pattern)) {
      const normalised = pattern.split(sep).join('/');
      const parts = normalised.split('/');
      const firstGlob = parts.findIndex(isGlob);
      const base = resolve(cwd, parts.slice(0, firstGlob).join('/') || '.');
      const matcher = globRegExp(parts.slice(firstGlob).join('/'));
      let files: string[] = [];
      try {
        files = await walk(base);
      } catch {
        // a base folder that does not exist matches nothing
      }
      const matched = files.filter((file) => matcher.test(file) && isInputImage(file));
      if (matched.length === 0) throw new UsageError(`no image matches ${pattern}`);
      found.push(...matched.map((file) => join(base, file)));
      continue;
    }
    const path = resolve(cwd, pattern);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`no such file or folder: ${pattern}`);
    }
    if (info.isDirectory()) {
      const images = (await walk(path)).filter(isInputImage);
      if (images.length === 0) {
        throw new UsageError(`no image (.nii, .nii.gz, .png, .jpg) in folder ${pattern}`);
      }
      found.push(...images.map((file) => join(path, file)));
    } else found.push(path);
  }
  return [...new Set(found)];
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
