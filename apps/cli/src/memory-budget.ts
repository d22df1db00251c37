/**
 * Memory budget of a batch: each subject's peak memory estimated from its image headers before
 * anything is decoded, a budget for the subjects running at once (from the machine's memory and
 * its cgroup limit, or --memory-budget), and the choice of which waiting subjects may start. A
 * 1 MB `.nii.gz` can declare 1024^3 voxels; without this, two of them in parallel get the whole
 * process killed by the kernel, with no summary and no message.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { type DataType, ImageFileError, readNiftiHeader } from '@mixseg/imaging/node';
import { InvalidArgumentError } from 'commander';
import sharp, { type Metadata } from 'sharp';
import { imageExtension } from './inputs.ts';

/*
 * The model, measured (node 20, 2 cores, 23 GB; `/usr/bin/time -v`, maximum resident set size) on
 * segment() from @mixseg/imaging/node with the default options followed by writing the label map
 * and the K probability and K partial-volume maps, as a subject does, one process per image, from
 * source with tsx (a process that only imports the package: 112 MB):
 *
 *   image (voxels V, in the nonzero mask M)          V       M      K   peak RSS
 *   MNI152 2 mm brain, float32                     0.90 M  0.26 M   3    225 MB
 *   MNI152 2 mm with skull, int16                  0.90 M  0.86 M   3    279 MB
 *   phantom 128^3, int16                           2.10 M  0.65 M   3    294 MB
 *   phantom 192^3, int16                           7.08 M  2.20 M   3    705 MB
 *   MNI152 1 mm brain, float32                     7.22 M  1.83 M   3    693 MB
 *   SRI24 spgr 1 mm, int16                         8.93 M  1.45 M   3    783 MB
 *   IBSR_01, int16                                 8.39 M  1.15 M   3    760 MB
 *   ICBM 2009a whole head, uint8                   8.68 M  1.89 M   3    790 MB
 *   chris_t1 with skull, uint8                     9.14 M  5.08 M   3    996 MB
 *   phantom 256^3, int16                          16.78 M  5.20 M   3   1431 MB
 *   SRI24 spgr, K = 2 / K = 5                      8.93 M  1.45 M 2/5  681 / 1157 MB
 *   phantom 192^3, K = 5                           7.08 M  2.20 M   5    972 MB
 *   SRI24 spgr + late + erly (3 channels)          8.93 M  1.45 M   3    868 MB
 *
 * Least squares over the one-channel runs: peak = 156 MB + 9.2 B x V + 18.6 B x K x V + 42.6 B x M
 * (every run within 3%, but for the 32^3 phantom, 124 MB against 158, and K = 2, 8% above). The
 * segmentation itself (segment() without writing) is 177 MB + 8.6 B x V + 135 B x M: the label
 * and probability maps written at the end are what scales with V. The whole command (`mixseg
 * segment`, one worker thread) peaked at 109 MB for the main thread alone (--version), 172 MB
 * with a 32^3 subject, 938 MB with SRI24 and 1476 MB with the 256^3 phantom.
 *
 * A header gives V, not M, so the estimate takes M = V (the worst case, a whole-head image whose
 * noisy background is all nonzero: MNI152 with skull has M = 0.95 V): SRI24 is estimated at
 * 1.08 GB for 0.73 GB used, the 256^3 phantom 1.93 GB for 1.38 GB. The fixed part is a worker
 * thread (172 - 109 = 63 MB) and the heap's slack (156 - 112 = 44 MB). One int16 channel is in the
 * measured constant (4 bytes a voxel decoded, 2 inflated); each channel, the mask file and each
 * atlas map add what they decode to and what their file inflates to.
 */

/** Fixed bytes of one subject: its worker thread and the heap's slack. */
export const SUBJECT_FIXED_BYTES = 110e6;
/** Bytes per voxel whatever the classes, every voxel taken as in the mask (the first channel's own 6 B excluded). */
export const BYTES_PER_VOXEL = 46;
/** Bytes per voxel and class: probabilities, partial-volume fractions and their written maps. */
export const BYTES_PER_VOXEL_AND_CLASS = 19;

/** What an image file will take in memory, from its header alone. */
export interface ImageHeader {
  path: string;
  /** Voxels of the volume read (nx x ny x nz; width x height for a PNG or JPEG). */
  nVoxels: number;
  /** Bytes per voxel of the decoded volume: 4 (Float32Array) or 8 (Float64Array). */
  valueBytes: number;
  /** Bytes per voxel of the file's data once inflated (every volume of a 4-D file, every colour channel of a PNG). */
  storedBytesPerVoxel: number;
}

/** The image headers of one subject. */
export interface SubjectHeaders {
  /** Co-registered channels, the first naming the subject. */
  channels: readonly ImageHeader[];
  mask?: ImageHeader;
  /** Tissue-probability maps of --atlas (each subject's worker reads them). */
  atlas?: readonly ImageHeader[];
}

/** A subject's estimated peak memory, with what the failure message needs. */
export interface SubjectMemoryEstimate {
  /** The subject's first channel. */
  file: string;
  /** Voxels of its grid. */
  voxels: number;
  /** Estimated peak bytes. */
  bytes: number;
}

const WIDE_TYPES: ReadonlySet<DataType> = new Set(['int32', 'uint32', 'float64']);

/**
 * Reads what an image will need without decoding it: the NIfTI header (at most a few kilobytes
 * inflated), or a PNG's or JPEG's dimensions from sharp's metadata.
 *
 * @throws {ImageFileError} naming the file when its header cannot be read.
 */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  const extension = imageExtension(path);
  if (extension === '.nii' || extension === '.nii.gz') {
    const header = await readNiftiHeader(path);
    return {
      path,
      nVoxels: header.nVoxels,
      valueBytes: WIDE_TYPES.has(header.datatype) ? 8 : 4,
      storedBytesPerVoxel: header.bytesPerVoxel * header.nVolumes,
    };
  }
  let metadata: Metadata;
  try {
    metadata = await sharp(path).metadata();
  } catch (error) {
    throw new ImageFileError(path, `cannot read the image header: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { width, height } = metadata;
  if (!width || !height) throw new ImageFileError(path, 'the image header gives no width and height');
  const sampleBytes = metadata.depth === 'ushort' || metadata.depth === 'short' ? 2 : 1;
  return {
    path,
    nVoxels: width * height,
    valueBytes: 4,
    // the raw pixels sharp decodes (every channel), and a byte a pixel for the file itself
    storedBytesPerVoxel: (metadata.channels ?? 4) * sampleBytes + 1,
  };
}

/** Bytes of one image read into memory: the decoded volume plus the file's inflated data. */
function imageBytes(header: ImageHeader): number {
  return header.nVoxels * (header.valueBytes + header.storedBytesPerVoxel);
}

/**
 * Estimated peak bytes of segmenting one subject with `classes` classes (default 3) in a worker
 * thread, writing its outputs: see the model above. Every voxel is taken as inside the mask, so
 * the estimate is an upper bound for skull-stripped images (about 1.4x for SRI24).
 *
 * @throws {RangeError} when no channel is given or classes is not a positive integer.
 */
export function estimateSubjectBytes(headers: SubjectHeaders, options: { classes?: number } = {}): number {
  const classes = options.classes ?? 3;
  const first = headers.channels[0];
  if (!first) throw new RangeError('at least one channel header is needed');
  if (!(Number.isInteger(classes) && classes >= 1)) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }
  const voxels = first.nVoxels;
  let bytes = SUBJECT_FIXED_BYTES + voxels * (BYTES_PER_VOXEL + BYTES_PER_VOXEL_AND_CLASS * classes);
  for (const channel of headers.channels) bytes += imageBytes(channel);
  if (headers.mask) bytes += imageBytes(headers.mask);
  if (headers.atlas && headers.atlas.length > 0) {
    for (const map of headers.atlas) bytes += imageBytes(map);
    // each map resampled onto the subject's grid, then one value per class and voxel
    bytes += voxels * 4 * (1 + classes);
  }
  return bytes;
}

/**
 * A subject's estimate from its files' headers, or undefined when a header cannot be read: the
 * subject then runs without a reservation and fails on reading, with the reader's own message.
 */
export async function estimateSubjectMemory(
  files: { channels: readonly string[]; mask?: string | undefined; atlas?: readonly string[] | undefined },
  options: { classes?: number } = {},
): Promise<SubjectMemoryEstimate | undefined> {
  try {
    const channels = await Promise.all(files.channels.map(readImageHeader));
    const mask = files.mask === undefined ? undefined : await readImageHeader(files.mask);
    const atlas = files.atlas === undefined ? undefined : await Promise.all(files.atlas.map(readImageHeader));
    return {
      file: files.channels[0]!,
      voxels: channels[0]!.nVoxels,
      bytes: estimateSubjectBytes(
        { channels, ...(mask ? { mask } : {}), ...(atlas ? { atlas } : {}) },
        options,
      ),
    };
  } catch {
    return undefined;
  }
}

/** Where cgroup v2 and v1 keep a memory limit. */
export interface MemoryLimitSources {
  /** Physical memory; default os.totalmem(). */
  totalMemory?: number;
  /** Mount point of the cgroup file system; default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
  /** This process's cgroup membership; default `/proc/self/cgroup`. */
  procCgroup?: string;
}

function readLimit(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  const value = Number(text);
  // "max" (v2) or a page-rounded 2^63 (v1) mean no limit
  return /^\d+$/.test(text) && value > 0 && value < 2 ** 62 ? value : undefined;
}

/**
 * The smallest memory limit of this process's cgroups, in bytes, or undefined when none is set:
 * cgroup v2's `memory.max` of the process's own cgroup and every parent up to the root (a SLURM
 * job step's cgroup sits below the job's, which holds `--mem`), and cgroup v1's
 * `memory.limit_in_bytes`. Inside a container the root is the container's cgroup.
 */
export function cgroupMemoryLimit(sources: MemoryLimitSources = {}): number | undefined {
  const root = sources.cgroupRoot ?? '/sys/fs/cgroup';
  // the root's own limits (v2 memory.max, v1 memory/memory.limit_in_bytes) even without /proc
  const folders = new Set<string>(['', 'memory']);
  let membership = '';
  try {
    membership = readFileSync(sources.procCgroup ?? '/proc/self/cgroup', 'utf8');
  } catch {
    // not Linux, or no /proc: the root's limit only
  }
  for (const line of membership.split('\n')) {
    // v2: "0::/path"; v1: "N:memory:/path" (or "N:memory,other:/path")
    const match = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (!match) continue;
    const [, controllers, path] = match as unknown as [string, string, string];
    const v1 = controllers.split(',').includes('memory');
    if (controllers !== '' && !v1) continue;
    const parts = path.split('/').filter(Boolean);
    for (let depth = parts.length; depth >= 0; depth--) {
      const relative = parts.slice(0, depth).join('/');
      folders.add(v1 ? `memory/${relative}` : relative);
    }
  }
  let limit: number | undefined;
  for (const folder of folders) {
    const base = folder === '' ? root : `${root}/${folder}`.replace(/\/+$/, '');
    for (const file of ['memory.max', 'memory.limit_in_bytes']) {
      const value = readLimit(`${base}/${file}`);
      if (value !== undefined && (limit === undefined || value < limit)) limit = value;
    }
  }
  return limit;
}

/** The memory this process may use: the machine's, or its cgroup's limit when that is lower. */
export function availableMemory(sources: MemoryLimitSources = {}): number {
  const total = sources.totalMemory ?? totalmem();
  const limit = cgroupMemoryLimit(sources);
  return limit !== undefined && limit < total ? limit : total;
}

/** Share of the available memory the default budget takes: the rest is the main thread, the OS, the page cache. */
export const DEFAULT_BUDGET_FRACTION = 0.75;

/** The default budget: 75% of {@link availableMemory} (the machine's memory, or the cgroup's limit when lower). */
export function defaultMemoryBudget(sources: MemoryLimitSources = {}): number {
  return Math.floor(DEFAULT_BUDGET_FRACTION * availableMemory(sources));
}

const UNIT_POWERS: Readonly<Record<string, number>> = { b: 0, k: 1, m: 2, g: 3, t: 4 };

/**
 * A memory budget from the command line, in bytes:
 * - a size with a unit, K, M, G or T (optionally followed by `B` or `iB`, any case), in powers of
 *   1024 as SLURM's `--mem` and Docker's `--memory` read them: `8G`, `8000M`, `1.5TiB`, `512MB`;
 *   `B` for bytes;
 * - a fraction of the available memory (the machine's, or the cgroup's limit when lower): a number
 *   from 0 to 1 (`0.5`), or a percentage (`50%`).
 * A number above 1 without a unit is refused (bytes or gigabytes?).
 *
 * @param available - bytes a fraction is of; default {@link availableMemory}().
 * @throws {RangeError} saying what was expected, for anything else or a budget of 0.
 */
export function parseMemoryBudget(text: string, available: number = availableMemory()): number {
  const trimmed = text.trim();
  const expected = 'expected a size such as 8G or 8000M, or a fraction of the memory such as 0.5 or 50%';
  const sized = /^(\d+(?:\.\d+)?|\.\d+)\s*([bkmgt])(?:i?b)?$/i.exec(trimmed);
  let bytes: number;
  if (sized) {
    bytes = Number(sized[1]) * 1024 ** UNIT_POWERS[sized[2]!.toLowerCase()]!;
  } else {
    const fraction = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(trimmed);
    if (!fraction) throw new RangeError(`memory budget: ${expected}, got ${JSON.stringify(text)}`);
    const share = Number(fraction[1]) / (fraction[2] ? 100 : 1);
    if (share > 1) {
      throw new RangeError(
        fraction[2]
          ? `memory budget: a percentage of the memory is at most 100%, got ${text}`
          : `memory budget: ${text} has no unit: give ${text}G or ${text}M, or a fraction from 0 to 1`,
      );
    }
    bytes = share * available;
  }
  bytes = Math.floor(bytes);
  if (!(bytes > 0)) throw new RangeError(`memory budget: must be more than 0, got ${JSON.stringify(text)}`);
  return bytes;
}

/** {@link parseMemoryBudget} for commander's `.option(..., parser)`: throws InvalidArgumentError. */
export function memoryBudgetArgument(value: string): number {
  try {
    return parseMemoryBudget(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message.replace(/^memory budget: /, '')}.`);
  }
}

/** Bytes for people, in powers of 1024 as the budget is given: `6.4 GB`, `850 MB`, `12 GB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown =
    value >= 100 || unit === 0 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}

/** The failure of a subject whose estimate exceeds the whole budget, naming its file. */
export function overBudgetMessage(estimate: SubjectMemoryEstimate, budget: number): string {
  return (
    `${estimate.file}: needs about ${formatBytes(estimate.bytes)} for ${estimate.voxels} voxels, ` +
    `more than the memory budget of ${formatBytes(budget)} (--memory-budget)`
  );
}

/** Which waiting tasks start now (positions in the waiting list) and which can never fit. */
export interface StartPlan {
  start: number[];
  neverFit: number[];
}

/**
 * Chooses the waiting tasks that may start now: in order, each whose estimate fits in what the
 * running ones leave of the budget, while slots (free jobs) remain; a task that does not fit waits
 * and later ones that fit may pass it (it starts once enough running ones finish, and the list is
 * finite, so it is never starved for good). A task whose estimate exceeds the whole budget can
 * never start: it is listed in `neverFit`, not waited for.
 *
 * @param waiting - each waiting task's estimated bytes, in task order; undefined counts as 0.
 * @throws {RangeError} for an estimate or `inUse` that is not a finite number >= 0, or a budget
 *   that is not > 0.
 */
export function planStarts(
  waiting: readonly (number | undefined)[],
  { inUse, budget, slots }: { inUse: number; budget: number; slots: number },
): StartPlan {
  if (!(budget > 0)) throw new RangeError(`budget must be > 0 bytes, got ${budget}`);
  if (!(Number.isFinite(inUse) && inUse >= 0)) {
    throw new RangeError(`bytes in use must be a finite number >= 0, got ${inUse}`);
  }
  let left = budget - inUse;
  let free = slots;
  const plan: StartPlan = { start: [], neverFit: [] };
  for (const [position, estimate] of waiting.entries()) {
    const bytes = estimate ?? 0;
    if (!(Number.isFinite(bytes) && bytes >= 0)) {
      throw new RangeError(`an estimate must be a finite number >= 0 bytes, got ${estimate}`);
    }
    if (bytes > budget) plan.neverFit.push(position);
    else if (free > 0 && bytes <= left) {
      plan.start.push(position);
      left -= bytes;
      free--;
    }
  }
  return plan;
}
