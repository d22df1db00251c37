/**
 * The input images that a results folder's sidecars (`<stem>_dseg.json`) name: the only files
 * outside the folder that the server may serve. A sidecar's `Sources` are paths relative to the
 * sidecar's own folder (`../../data/sub-01_T1w.nii.gz`) or BIDS URIs (`bids:raw:sub-01/anat/...`,
 * resolved through the folder's `dataset_description.json` `DatasetLinks`, whose paths are
 * relative to the results folder; `bids::path` is the results folder itself); older sidecars have
 * `Inputs`, absolute paths. Only images (the extensions `mixseg segment` reads) are served, and
 * only regular files. Resolved sources are cached per sidecar, keyed by the sidecar's and the
 * dataset description's inode, size and modification time.
 */
import type { Stats } from 'node:fs';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputEntry } from './folder-listing.ts';
import { fileSystemHttpError, HttpError } from './http-error.ts';
import { isInside } from './request-path.ts';
import { timeSlices } from './time-slices.ts';

/** The sidecars' names end with this. */
export const SIDECAR_SUFFIX = '_dseg.json';
/** Extensions of the images `mixseg segment` reads: the only inputs served. */
export const INPUT_EXTENSIONS = ['.nii.gz', '.nii', '.png', '.jpg', '.jpeg'] as const;
/** The URL prefix of inputs: `inputs/<sidecar path>/<n>`. */
export const INPUTS_ROUTE = 'inputs';
const DATASET_DESCRIPTION = 'dataset_description.json';
/** A sidecar is a few kilobytes; a bigger one is not read. */
const MAX_SIDECAR_BYTES = 16 * 1024 * 1024;

interface ResolvedSource {
  source: string;
  /** Absolute path, symlinks not yet followed. */
  file?: string;
  error?: string;
  /** Whether it is refused (not an image) rather than not found. */
  refused?: boolean;
}

/** `inputs/<sidecar path, each segment percent-encoded>/<n>`. */
export function inputUrl(sidecarPath: string, n: number): string {
  return `${INPUTS_ROUTE}/${sidecarPath.split('/').map(encodeURIComponent).join('/')}/${n}`;
}

function signature(info: Pick<Stats, 'ino' | 'size' | 'mtimeMs'> | undefined): string {
  return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '-';
}

interface DatasetLinks {
  key: string;
  links: Record<string, unknown> | undefined;
  problem?: string;
}

/**
 * The sidecars' inputs of one results folder (`folder`: its real, absolute path). The file-system
 * calls are synchronous (a stat or two per sidecar, microseconds) and the loops over many
 * sidecars yield every few milliseconds (see time-slices.ts).
 */
export class SidecarInputs {
  private readonly cache = new Map<string, { key: string; sources: ResolvedSource[] }>();
  private description: DatasetLinks = { key: '', links: undefined };

  constructor(readonly folder: string) {}

  /**
   * The inputs of the sidecar at `sidecarPath` (relative to the folder, `/`-separated), each with
   * its URL and size or the reason it cannot be served.
   *
   * @throws {HttpError} naming the sidecar when it cannot be read or is not valid JSON.
   */
  entries(sidecarPath: string, info?: Stats, description = this.datasetLinks()): InputEntry[] {
    return this.sources(sidecarPath, info, description).map(({ source, file, error }, n): InputEntry => {
      const name = basename(source.replace(/^bids:[^:]*:/, '').replace(/\\/g, '/'));
      if (file === undefined) return { source, name, error: error ?? 'not resolved' };
      const found = this.servable(file);
      if (typeof found === 'string') return { source, name, error: found };
      return {
        source,
        name,
        url: inputUrl(sidecarPath, n),
        ...(isInside(this.folder, found.real)
          ? { path: relative(this.folder, found.real).split(sep).join('/') }
          : {}),
        size: found.size,
      };
    });
  }

  /**
   * The real path of the sidecar's n-th input, to be served.
   *
   * @throws {HttpError} 404 (no such input or file) or 403 (not an image), naming the sidecar and
   *   the source.
   */
  file(sidecarPath: string, n: number): string {
    const sources = this.sources(sidecarPath);
    const entry = sources[n];
    if (entry === undefined) {
      throw new HttpError(404, `${sidecarPath}: no input ${n} (it names ${sources.length})`);
    }
    const what = `${sidecarPath}: input ${n} (${JSON.stringify(entry.source)})`;
    if (entry.file === undefined) {
      throw new HttpError(entry.refused ? 403 : 404, `${what}: ${entry.error}; not served`);
    }
    const found = this.servable(entry.file);
    if (typeof found === 'string') {
      throw new HttpError(found.startsWith('permission') ? 403 : 404, `${what}: ${found}`);
    }
    return found.real;
  }

  /**
   * Whether `realTarget` (a real path) is an input named by a sidecar in the folder's directory
   * `directory` (absolute, inside the folder): the test for a symlink there that leads out of the
   * folder.
   */
  async namesInput(directory: string, realTarget: string): Promise<boolean> {
    let names: string[];
    try {
      names = readdirSync(directory).filter((name) => name.endsWith(SIDECAR_SUFFIX) && !name.startsWith('.'));
    } catch {
      return false;
    }
    const prefix = relative(this.folder, directory).split(sep).join('/');
    const description = this.datasetLinks();
    const pause = timeSlices();
    for (const name of names) {
      await pause();
      let sources: ResolvedSource[];
      try {
        // a sidecar that is itself a symlink out of the folder does not count
        if (!isInside(this.folder, realpathSync.native(join(directory, name)))) continue;
        sources = this.sources(prefix === '' ? name : `${prefix}/${name}`, undefined, description);
      } catch {
        continue;
      }
      for (const { file } of sources) {
        if (file === undefined) continue;
        const found = this.servable(file);
        if (typeof found !== 'string' && found.real === realTarget) return true;
      }
    }
    return false;
  }

  /** The inputs of many sidecars (folder-relative paths, with their stats when known), in their order. */
  async entriesOf(
    sidecars: readonly { path: string; info?: Stats | undefined }[],
    onProblem: (path: string, reason: string) => void,
  ): Promise<Record<string, InputEntry[]>> {
    const result: Record<string, InputEntry[]> = {};
    const description = this.datasetLinks();
    const pause = timeSlices();
    for (const { path, info } of sidecars) {
      await pause();
      try {
        result[path] = this.entries(path, info, description);
      } catch (error) {
        onProblem(path, fileSystemHttpError(error, path).message.slice(path.length + 2));
      }
    }
    return result;
  }

  private servable(file: string): { real: string; size: number } | string {
    try {
      const real = realpathSync.native(file);
      const info = statSync(real);
      if (!info.isFile()) return `not a regular file (${file})`;
      return { real, size: info.size };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return `permission denied (${file})`;
      if (code === 'ENOENT' || code === 'ENOTDIR') return `no such file (${file})`;
      return `cannot be read: ${code ?? (error as Error).message} (${file})`;
    }
  }

  private sources(sidecarPath: string, info?: Stats, description = this.datasetLinks()): ResolvedSource[] {
    const absolute = join(this.folder, ...sidecarPath.split('/'));
    let sidecarInfo = info;
    try {
      sidecarInfo ??= statSync(absolute);
    } catch (error) {
      throw fileSystemHttpError(error, sidecarPath);
    }
    const key = `${signature(sidecarInfo)}|${description.key}`;
    const cached = this.cache.get(sidecarPath);
    if (cached?.key === key) return cached.sources;
    if (sidecarInfo.size > MAX_SIDECAR_BYTES) {
      throw new HttpError(
        500,
        `${sidecarPath}: larger than ${MAX_SIDECAR_BYTES} bytes; not read as a sidecar`,
      );
    }
    let record: unknown;
    try {
      record = JSON.parse(readFileSync(absolute, 'utf8'));
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new HttpError(500, `${sidecarPath}: not valid JSON (${error.message})`);
      }
      throw fileSystemHttpError(error, sidecarPath);
    }
    const fields = record !== null && typeof record === 'object' ? (record as Record<string, unknown>) : {};
    const list = Array.isArray(fields['Sources'])
      ? fields['Sources']
      : Array.isArray(fields['Inputs'])
        ? fields['Inputs']
        : [];
    const folderOfSidecar = dirname(absolute);
    const sources = (list as unknown[])
      .filter((source): source is string => typeof source === 'string')
      .map((source) => this.resolveSource(source, folderOfSidecar, description));
    this.cache.set(sidecarPath, { key, sources });
    return sources;
  }

  private resolveSource(source: string, folderOfSidecar: string, description: DatasetLinks): ResolvedSource {
    if (source.includes('\0')) return { source, error: 'not a path', refused: true };
    const lower = source.toLowerCase();
    if (!INPUT_EXTENSIONS.some((extension) => lower.endsWith(extension))) {
      return { source, error: `not an image (${INPUT_EXTENSIONS.join(', ')})`, refused: true };
    }
    const uri = /^bids:([^:]*):(.*)$/s.exec(source);
    if (!uri) return { source, file: resolve(folderOfSidecar, source) };
    const [, name, path] = uri as unknown as [string, string, string];
    let root: string;
    if (name === '') root = this.folder;
    else {
      if (description.links === undefined) {
        return { source, error: description.problem ?? `${DATASET_DESCRIPTION} has no DatasetLinks` };
      }
      const link = Object.hasOwn(description.links, name) ? description.links[name] : undefined;
      if (typeof link !== 'string') {
        return { source, error: `${DATASET_DESCRIPTION} has no DatasetLinks.${name}` };
      }
      if (link.startsWith('file://')) {
        try {
          root = fileURLToPath(link);
        } catch {
          return { source, error: `DatasetLinks.${name} is not a local file URL (${link})` };
        }
      } else if (/^[a-z][a-z0-9+.-]+:/i.test(link) && !isAbsolute(link)) {
        return { source, error: `DatasetLinks.${name} is a URL (${link}), not a local folder` };
      } else root = resolve(this.folder, link);
    }
    if (isAbsolute(path)) return { source, error: 'a BIDS URI with an absolute path' };
    return { source, file: resolve(root, path) };
  }

  /** DatasetLinks of the folder's dataset_description.json, re-read when the file changes. */
  private datasetLinks(): DatasetLinks {
    const path = join(this.folder, DATASET_DESCRIPTION);
    let info: Stats | undefined;
    try {
      info = statSync(path);
    } catch {
      info = undefined;
    }
    const key = signature(info);
    if (key === this.description.key) return this.description;
    if (info === undefined) {
      this.description = {
        key,
        links: undefined,
        problem: `no ${DATASET_DESCRIPTION} in the results folder`,
      };
      return this.description;
    }
    try {
      const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
      const links = value?.['DatasetLinks'];
      this.description =
        links !== null && typeof links === 'object' && !Array.isArray(links)
          ? { key, links: links as Record<string, unknown> }
          : { key, links: undefined, problem: `${DATASET_DESCRIPTION} has no DatasetLinks` };
    } catch (error) {
      this.description = {
        key,
        links: undefined,
        problem: `${DATASET_DESCRIPTION} cannot be read (${error instanceof SyntaxError ? 'not valid JSON' : fileSystemHttpError(error, DATASET_DESCRIPTION).message})`,
      };
    }
    return this.description;
  }
}
