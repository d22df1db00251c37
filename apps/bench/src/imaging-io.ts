/**
 * The imaging I/O benchmark: how long @mixseg/imaging takes to read a real MR volume
 * (`../shared/data/sri24/spgr.nii.gz`, 240 x 240 x 155 int16) and to write a label map and K = 3
 * probability maps on its grid, side by side with nibabel doing the same work.
 *
 * The synthetic segmentation is made once here, from the volume itself, and written as raw files
 * (uint8 labels; little-endian float32 probabilities, voxel-major nVoxels x K, the layout
 * `writeProbabilityMaps` takes), which both contestants read before their timed writes: the same
 * bytes go into both writers, and any reordering (voxel-major to one volume per class) is inside
 * the timed writes on both sides. Each contestant runs in a child process of its own, so that its
 * peak RSS (VmHWM) is its own. The files are gzipped at different levels by default (mixseg: the
 * level its writer uses, found by re-encoding; nibabel: `Opener.default_compresslevel`), so
 * nibabel is also run at mixseg's level.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Volume } from '@mixseg/imaging';
import { readNifti } from '@mixseg/imaging/node';
import {
  benchRoot,
  type ChildOutcome,
  formatNumber,
  formatTable,
  gitRevision,
  type MachineInfo,
  machineInfo,
  mebibytes,
  median,
  repoRoot,
  resultsPath,
  runJsonChild,
  writeJson,
} from './measure.ts';

/** Where each contestant writes its outputs. */
export interface IoOutputs {
  labels: string;
  /** One 4-D file, volume k = class k. */
  probabilities: string;
  /** One 3-D file per class. */
  perClass: string[];
}

/** What the Node child is asked to do (passed as one JSON argument). */
export interface ImagingWorkerConfig {
  input: string;
  /** [nx, ny, nz] of the input, as the benchmark parent read it. */
  dims: [number, number, number];
  labelsFile: string;
  probabilitiesFile: string;
  nClasses: number;
  repetitions: number;
  outputs: IoOutputs;
}

/** What both children report (one JSON line on stdout); times in ms. */
export interface IoResult {
  /** 1 + repetitions reads: [0] is the first call in a fresh process (cold), the rest are warm. */
  readMs: number[];
  coldReadMs: number;
  medianWarmReadMs: number;
  /** Of the last read: float64 sum and count of nonzero voxels, shape, element type. */
  readChecksum: { sum: number; nonzero: number; shape: number[]; dtype: string };
  writeLabelsMs: number[];
  writeProbabilitiesMs: number[];
  /** Time to write all K per-class files (one sample per repetition). */
  writePerClassMs: number[];
  rssBeforeBytes: number;
  vmHwmBeforeKiB: number;
  rssAfterReadsBytes: number;
  /** Peak RSS after the reads, before the raw labels and probabilities are loaded. */
  vmHwmAfterReadsKiB: number;
  /** Peak RSS at the end (KiB). */
  peakRssKiB: number;
  peakSource: string;
}

/** What nibabel_io.py reports in "bench" mode. */
export interface NibabelResult extends Partial<IoResult> {
  available: boolean;
  error?: string;
  nibabelVersion?: string;
  numpyVersion?: string;
  python?: string;
  /** indexed_gzip version when installed (nibabel then uses it for .gz reads), else null. */
  indexedGzip?: string | null;
  defaultCompressLevel?: number;
  compressLevel?: number;
}

/** What nibabel_io.py reports in "verify" mode: every output of every tool, read back by nibabel. */
interface VerifyResult {
  available: boolean;
  error?: string;
  tools?: Record<string, { ok: boolean; files: Record<string, unknown>[] }>;
}

type ContestantId = 'mixseg' | 'nibabel' | 'nibabel-matched';

interface ContestantRecord {
  id: ContestantId;
  label: string;
  /** gzip level used for the outputs (undefined: unknown). */
  gzipLevel: number | undefined;
  wallMs: number;
  result?: IoResult;
  error?: string;
  stderr?: string;
  /** nibabel only: versions and levels as the child reported them. */
  nibabel?: Omit<NibabelResult, keyof IoResult>;
  outputs: IoOutputs;
  files?: OutputFiles;
  summary?: ContestantSummary;
}

interface FileInfo {
  bytes: number;
  /** gzip header XFL byte: 4 = fastest (level 1), 2 = best (level 9), 0 = any other level. */
  gzipXfl: number | undefined;
}

interface OutputFiles {
  labels: FileInfo;
  probabilities: FileInfo;
  perClass: FileInfo[];
  perClassBytes: number;
}

/** One tool's medians, as bench-results/imaging-io.json holds them. */
export interface ContestantSummary {
  coldReadMs: number;
  medianWarmReadMs: number;
  medianWriteLabelsMs: number;
  medianWriteProbabilitiesMs: number;
  medianWritePerClassMs: number;
  peakRssKiB: number;
  peakAfterReadsKiB: number;
  rssBeforeBytes: number;
}

interface SyntheticSegmentation {
  labels: Uint8Array;
  probabilities: Float32Array;
  description: Record<string, unknown>;
}

const NIBABEL_PYTHON = '/usr/bin/python3';
const NIBABEL_SCRIPT = join(benchRoot, 'python', 'nibabel_io.py');
const WORKER_SCRIPT = join(benchRoot, 'src', 'worker-imaging-io.ts');
const INPUT = join(repoRoot, '..', 'shared', 'data', 'sri24', 'spgr.nii.gz');
const N_CLASSES = 3;
const REPETITIONS = { quick: 1, full: 5 };
const CHILD_TIMEOUT_MS = 15 * 60 * 1000;

const METHODOLOGY = {
  input:
    '../shared/data/sri24/spgr.nii.gz (SRI24 atlas T1 SPGR, 240 x 240 x 155, int16, gzip): read through the ' +
    'page cache (the benchmark parent reads it first), so reads measure decompression and decoding, not the disk.',
  read:
    'mixseg: readNifti(path) (returns scaled float32 voxels); nibabel: nib.load(path).get_fdata(dtype=np.float32). ' +
    '1 + R calls in one fresh child process: the first is reported as cold (includes JIT compilation / lazy ' +
    'imports on first use; module imports themselves are done before), the median of the other R as warm.',
  write:
    'R repetitions in the same child, each operation timed on its own, median reported: the uint8 label map ' +
    '(mixseg: writeLabelMap; nibabel: Nifti1Image(labels, affine, input header), set_data_dtype(uint8), ' +
    "set_intent('label'), nib.save), the K = 3 probabilities as one 4-D float32 file (writeProbabilityMaps(path); " +
    'nibabel: the (nx, ny, nz, K) view of the voxel-major array) and as 3 per-class 3-D float32 files ' +
    '(writeProbabilityMaps([3 paths]); nibabel: 3 saves of [..., k]); all .nii.gz, overwritten each repetition. ' +
    'mixseg writes to a temporary name and renames it into place (atomic); nibabel writes in place.',
  data:
    'labels: 0 outside the nonzero mask of the input, inside 1 / 2 / 3 by the tertiles of the nonzero voxel ' +
    'values; probabilities: softmax of -(v - c_k)^2 / (2 w^2) with c_k the 1/6, 1/2 and 5/6 quantiles of the ' +
    'nonzero values and w = (c_3 - c_1) / 4, 0 outside the mask (smooth in intensity, summing to 1 inside). ' +
    'Made once in the benchmark parent, stored as raw files that both children read outside the timed parts.',
  gzip:
    "nibabel's default is Opener.default_compresslevel (zlib); mixseg's level is found by re-encoding its label " +
    'map with node:zlib at levels 0 to 9 until the bytes are identical. When they differ, nibabel is also run with ' +
    "Opener.default_compresslevel set to mixseg's level (the 'nibabel @ mixseg level' columns): the like-for-like " +
    'comparison of write speed and file size.',
  memory:
    'peak = VmHWM (/proc/self/status) of each child at its end: reads, the raw labels (8.9 MB) and ' +
    'probabilities (107 MB) and every write; "after reads" = VmHWM right after the reads.',
  ratio: 'mixseg ms / nibabel ms: below 1 means mixseg is faster.',
  verification:
    "every output of both tools is read back with nibabel and compared with the expected arrays (exact) and the input's " +
    'affine, sform/qform codes and, for label maps, intent_code 1002.',
};

function writeRaw(path: string, data: Uint8Array | Float32Array): void {
  if (os.endianness() !== 'LE')
    throw new Error('this benchmark writes little-endian raw files on LE hosts only');
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Labels by tertiles and smooth probabilities from the voxel values (see METHODOLOGY.data). */
function syntheticSegmentation(volume: Volume, nClasses: number): SyntheticSegmentation {
  const values = volume.data;
  const nVoxels = values.length;
  let maskVoxels = 0;
  for (let i = 0; i < nVoxels; i++) if (values[i] !== 0) maskVoxels++;
  if (maskVoxels === 0) throw new Error(`${volume.source.path} has no nonzero voxel`);
  const nonzero = new Float64Array(maskVoxels);
  for (let i = 0, j = 0; i < nVoxels; i++) if (values[i] !== 0) nonzero[j++] = values[i]!;
  nonzero.sort();
  const quantile = (q: number): number => nonzero[Math.min(maskVoxels - 1, Math.floor(q * maskVoxels))]!;
  const thresholds = Array.from({ length: nClasses - 1 }, (_, k) => quantile((k + 1) / nClasses));
  const centres = Array.from({ length: nClasses }, (_, k) => quantile((2 * k + 1) / (2 * nClasses)));
  const width = Math.max((centres[nClasses - 1]! - centres[0]!) / 4, 1);

  const labels = new Uint8Array(nVoxels);
  const probabilities = new Float32Array(nVoxels * nClasses);
  const classCounts = new Array<number>(nClasses + 1).fill(0);
  const logits = new Float64Array(nClasses);
  for (let i = 0; i < nVoxels; i++) {
    const v = values[i]!;
    if (v === 0) {
      classCounts[0]!++;
      continue;
    }
    let label = 1;
    while (label < nClasses && v >= thresholds[label - 1]!) label++;
    labels[i] = label;
    classCounts[label]!++;
    let maxLogit = -Infinity;
    for (let k = 0; k < nClasses; k++) {
      const z = (v - centres[k]!) / width;
      logits[k] = -0.5 * z * z;
      if (logits[k]! > maxLogit) maxLogit = logits[k]!;
    }
    let total = 0;
    for (let k = 0; k < nClasses; k++) {
      logits[k] = Math.exp(logits[k]! - maxLogit);
      total += logits[k]!;
    }
    for (let k = 0; k < nClasses; k++) probabilities[i * nClasses + k] = logits[k]! / total;
  }
  return {
    labels,
    probabilities,
    description: { nVoxels, maskVoxels, thresholds, centres, width, classCounts },
  };
}

/** The first 10 bytes of a gzip file: XFL is byte 8. */
function fileInfo(path: string): FileInfo {
  const bytes = statSync(path).size;
  const header = new Uint8Array(10);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 10, 0);
  } finally {
    closeSync(fd);
  }
  const isGzip = header[0] === 0x1f && header[1] === 0x8b;
  return { bytes, gzipXfl: isGzip ? header[8] : undefined };
}

function outputFiles(outputs: IoOutputs): OutputFiles {
  const perClass = outputs.perClass.map(fileInfo);
  return {
    labels: fileInfo(outputs.labels),
    probabilities: fileInfo(outputs.probabilities),
    perClass,
    perClassBytes: perClass.reduce((sum, f) => sum + f.bytes, 0),
  };
}

/**
 * The zlib gzip level that reproduces `path` byte for byte (mixseg gzips with node:zlib, which is
 * deterministic for a given zlib), or undefined when none does.
 */
function inferGzipLevel(path: string): number | undefined {
  const gz = new Uint8Array(readFileSync(path));
  const raw = gunzipSync(gz);
  for (let level = 0; level <= 9; level++) {
    const candidate = gzipSync(raw, { level });
    if (candidate.length === gz.length && candidate.every((byte, i) => byte === gz[i])) return level;
  }
  return undefined;
}

function outputsIn(directory: string, nClasses: number): IoOutputs {
  mkdirSync(directory, { recursive: true });
  return {
    labels: join(directory, 'labels.nii.gz'),
    probabilities: join(directory, 'probabilities.nii.gz'),
    perClass: Array.from({ length: nClasses }, (_, k) => join(directory, `probability-${k}.nii.gz`)),
  };
}

function probeNibabel(): {
  available: boolean;
  version?: string;
  defaultCompressLevel?: number;
  note?: string;
} {
  const probe = spawnSync(
    NIBABEL_PYTHON,
    [
      '-c',
      'import json, nibabel, nibabel.openers; print(json.dumps([nibabel.__version__, nibabel.openers.Opener.default_compresslevel]))',
    ],
    { encoding: 'utf8' },
  );
  if (probe.status === 0) {
    const [version, defaultCompressLevel] = JSON.parse(probe.stdout.trim()) as [string, number];
    return { available: true, version, defaultCompressLevel };
  }
  return {
    available: false,
    note: `${NIBABEL_PYTHON} -c 'import nibabel' failed (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}); nibabel columns skipped`,
  };
}

/** Version, commit, uncommitted changes and a hash of packages/imaging/src (the code under test). */
function imagingProvenance(): Record<string, unknown> {
  const git = (args: string[]): string | undefined => {
    const run = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
    return run.status === 0 ? run.stdout.trimEnd() : undefined;
  };
  const source = join(repoRoot, 'packages', 'imaging', 'src');
  const hash = createHash('sha256');
  for (const name of readdirSync(source).sort()) {
    if (name.endsWith('.ts')) hash.update(`${name}\0`).update(readFileSync(join(source, name)));
  }
  const packageJson = JSON.parse(
    readFileSync(join(repoRoot, 'packages', 'imaging', 'package.json'), 'utf8'),
  ) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const status = git(['status', '--porcelain', '--', 'packages/imaging']);
  return {
    version: packageJson.version,
    headCommit: git(['rev-parse', 'HEAD']),
    uncommitted: status ? status.split('\n') : [],
    sourceHash: hash.digest('hex'),
  };
}

function summarise(result: IoResult): ContestantSummary {
  return {
    coldReadMs: result.coldReadMs,
    medianWarmReadMs: median(result.readMs.slice(1)),
    medianWriteLabelsMs: median(result.writeLabelsMs),
    medianWriteProbabilitiesMs: median(result.writeProbabilitiesMs),
    medianWritePerClassMs: median(result.writePerClassMs),
    peakRssKiB: result.peakRssKiB,
    peakAfterReadsKiB: result.vmHwmAfterReadsKiB,
    rssBeforeBytes: result.rssBeforeBytes,
  };
}

function record(
  base: Pick<ContestantRecord, 'id' | 'label' | 'gzipLevel' | 'outputs'>,
  outcome: ChildOutcome<IoResult | NibabelResult>,
): ContestantRecord {
  const result = outcome.result as (IoResult & NibabelResult) | undefined;
  const failed = outcome.error !== undefined || result === undefined || result.available === false;
  const contestant: ContestantRecord = { ...base, wallMs: outcome.wallMs };
  if (failed) {
    contestant.error = outcome.error ?? result?.error ?? 'no result';
    contestant.stderr = outcome.stderr.slice(-4000);
    return contestant;
  }
  const {
    available: _available,
    error: _error,
    nibabelVersion,
    numpyVersion,
    python,
    indexedGzip,
    defaultCompressLevel,
    compressLevel,
    ...timings
  } = result;
  if (base.id !== 'mixseg') {
    contestant.nibabel = {
      available: true,
      nibabelVersion,
      numpyVersion,
      python,
      indexedGzip,
      defaultCompressLevel,
    };
    contestant.gzipLevel = compressLevel;
  }
  contestant.result = timings as IoResult;
  contestant.files = outputFiles(base.outputs);
  contestant.summary = summarise(contestant.result);
  return contestant;
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? formatNumber(a / b)
    : 'n/a';
const ms = (value: number | undefined): string => (value === undefined ? 'n/a' : formatNumber(value));

function timeTable(contestants: ContestantRecord[], repetitions: number): string {
  const mixseg = contestants.find((c) => c.id === 'mixseg');
  const others = contestants.filter((c) => c.id !== 'mixseg');
  const headers = ['operation', 'mixseg ms'];
  for (const other of others) headers.push(`${other.label} ms`, `ratio vs ${other.label}`);
  const rows: [string, (s: ContestantSummary) => number][] = [
    ['read spgr.nii.gz, cold (1st call)', (s) => s.coldReadMs],
    [`read spgr.nii.gz, warm (median of ${repetitions})`, (s) => s.medianWarmReadMs],
    ['write label map (uint8, .nii.gz)', (s) => s.medianWriteLabelsMs],
    ['write probabilities, one 4-D float32 .nii.gz', (s) => s.medianWriteProbabilitiesMs],
    [`write probabilities, ${N_CLASSES} x 3-D float32 .nii.gz`, (s) => s.medianWritePerClassMs],
  ];
  const table = rows.map(([name, pick]) => {
    const mine = mixseg?.summary ? pick(mixseg.summary) : undefined;
    const cells = [name, ms(mine)];
    for (const other of others) {
      const theirs = other.summary ? pick(other.summary) : undefined;
      cells.push(ms(theirs), ratio(mine, theirs));
    }
    return cells;
  });
  return formatTable(headers, table, new Set(headers.map((_, i) => i).filter((i) => i > 0)));
}

function sizeTable(contestants: ContestantRecord[]): string {
  const headers = ['output', ...contestants.map((c) => `${c.label} bytes (gzip ${c.gzipLevel ?? '?'})`)];
  const rows: [string, (f: OutputFiles) => number][] = [
    ['label map', (f) => f.labels.bytes],
    ['probabilities 4-D', (f) => f.probabilities.bytes],
    [`probabilities, ${N_CLASSES} files (total)`, (f) => f.perClassBytes],
  ];
  const table = rows.map(([name, pick]) => [
    name,
    ...contestants.map((c) => (c.files ? String(pick(c.files)) : 'n/a')),
  ]);
  return formatTable(headers, table, new Set(headers.map((_, i) => i).filter((i) => i > 0)));
}

function memoryTable(contestants: ContestantRecord[]): string {
  const headers = ['process', 'RSS at start MiB', 'peak after reads MiB', 'peak MiB'];
  const rows = contestants.map((c) => {
    const s = c.summary;
    if (!s) return [c.label, 'FAILED', '', ''];
    return [
      c.label,
      formatNumber(mebibytes(s.rssBeforeBytes)),
      formatNumber(s.peakAfterReadsKiB / 1024),
      formatNumber(s.peakRssKiB / 1024),
    ];
  });
  return formatTable(headers, rows, new Set([1, 2, 3]));
}

export interface ImagingIoOptions {
  quick: boolean;
  log?: (line: string) => void;
}

/**
 * Runs the benchmark, prints the tables, writes bench-results/imaging-io(.quick).json and returns
 * its path; returns undefined (after saying why) when the input volume is absent.
 */
export async function runImagingIo(options: ImagingIoOptions): Promise<string | undefined> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (!existsSync(INPUT)) {
    log(
      `SKIPPED: ${INPUT} not found (the shared data folder ../shared/data beside the repository is absent).`,
    );
    return undefined;
  }
  const repetitions = options.quick ? REPETITIONS.quick : REPETITIONS.full;
  const machine: MachineInfo = machineInfo();
  const nibabel = probeNibabel();
  const imagingBefore = imagingProvenance();
  log(
    `imaging I/O benchmark (${options.quick ? 'quick' : 'full'}, ${repetitions} repetition(s)): ${machine.cores} cores, ` +
      `${machine.cpuModel}, Node ${machine.node}; nibabel ${nibabel.available ? nibabel.version : 'unavailable'}`,
  );
  if (!nibabel.available) log(`NOTE: ${nibabel.note}`);
  if ((imagingBefore['uncommitted'] as string[]).length > 0) {
    log('NOTE: packages/imaging differs from HEAD (the working tree is what is measured):');
    for (const line of imagingBefore['uncommitted'] as string[]) log(`  ${line}`);
  }

  const directory = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-io-'));
  const started = performance.now();
  const loadBefore = os.loadavg();
  const contestants: ContestantRecord[] = [];
  let input: Record<string, unknown>;
  let synthetic: Record<string, unknown>;
  let mixsegLevel: number | undefined;
  let verification: VerifyResult | undefined;
  let checksumsAgree: boolean | undefined;
  try {
    const volume = await readNifti(INPUT);
    input = {
      path: INPUT,
      bytes: statSync(INPUT).size,
      dims: volume.dims,
      datatype: volume.source.datatype,
      nVolumes: volume.source.nVolumes,
    };
    const segmentation = syntheticSegmentation(volume, N_CLASSES);
    synthetic = segmentation.description;
    const labelsFile = join(directory, 'labels.u8');
    const probabilitiesFile = join(directory, 'probabilities.f32');
    writeRaw(labelsFile, segmentation.labels);
    writeRaw(probabilitiesFile, segmentation.probabilities);
    const common = {
      input: INPUT,
      dims: volume.dims,
      labelsFile,
      probabilitiesFile,
      nClasses: N_CLASSES,
      repetitions,
    };

    log(`mixseg: ${1 + repetitions} reads, ${repetitions} x 3 writes in a child process`);
    const mixsegOutputs = outputsIn(join(directory, 'mixseg'), N_CLASSES);
    const workerConfig: ImagingWorkerConfig = { ...common, outputs: mixsegOutputs };
    const mixsegOutcome = await runJsonChild<IoResult>(
      process.execPath,
      ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify(workerConfig)],
      { cwd: benchRoot, timeoutMs: CHILD_TIMEOUT_MS },
    );
    const mixseg = record(
      { id: 'mixseg', label: 'mixseg', gzipLevel: undefined, outputs: mixsegOutputs },
      mixsegOutcome,
    );
    contestants.push(mixseg);
    if (mixseg.result) {
      mixsegLevel = inferGzipLevel(mixsegOutputs.labels);
      mixseg.gzipLevel = mixsegLevel;
    } else {
      log(
        `mixseg FAILED (${mixseg.error})\n${mixsegOutcome.stderr.trim().split('\n').slice(-12).join('\n')}`,
      );
    }

    if (nibabel.available) {
      const runs: { id: ContestantId; label: string; level: number | undefined }[] = [
        { id: 'nibabel', label: 'nibabel', level: undefined },
      ];
      if (mixsegLevel !== undefined && mixsegLevel !== nibabel.defaultCompressLevel) {
        runs.push({ id: 'nibabel-matched', label: `nibabel@${mixsegLevel}`, level: mixsegLevel });
      }
      for (const run of runs) {
        log(`${run.label}: ${1 + repetitions} reads, ${repetitions} x 3 writes in a child process`);
        const outputs = outputsIn(join(directory, run.id), N_CLASSES);
        const outcome = await runJsonChild<NibabelResult>(
          NIBABEL_PYTHON,
          [
            NIBABEL_SCRIPT,
            JSON.stringify({ mode: 'bench', ...common, compressLevel: run.level ?? null, outputs }),
          ],
          { cwd: benchRoot, timeoutMs: CHILD_TIMEOUT_MS },
        );
        const contestant = record({ id: run.id, label: run.label, gzipLevel: run.level, outputs }, outcome);
        contestants.push(contestant);
        if (!contestant.result) {
          log(`${run.label} FAILED (${contestant.error})\n${outcome.stderr.trim().slice(-2000)}`);
        }
      }

      const verified = contestants.filter((c) => c.result);
      if (verified.length > 0) {
        const outcome = await runJsonChild<VerifyResult>(
          NIBABEL_PYTHON,
          [
            NIBABEL_SCRIPT,
            JSON.stringify({
              mode: 'verify',
              ...common,
              outputs: Object.fromEntries(verified.map((c) => [c.id, c.outputs])),
            }),
          ],
          { cwd: benchRoot, timeoutMs: CHILD_TIMEOUT_MS },
        );
        verification = outcome.result ?? {
          available: false,
          error: `${outcome.error}: ${outcome.stderr.slice(-2000)}`,
        };
      }
      const mine = mixseg.result?.readChecksum;
      const theirs = contestants.find((c) => c.id === 'nibabel')?.result?.readChecksum;
      if (mine && theirs) checksumsAgree = mine.sum === theirs.sum && mine.nonzero === theirs.nonzero;
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const imagingAfter = imagingProvenance();
  const nibabelInfo = contestants.find((c) => c.nibabel)?.nibabel;

  const output = {
    benchmark: 'imaging-io',
    mode: options.quick ? 'quick' : 'full',
    repetitions,
    machine,
    git: gitRevision(),
    versions: {
      node: machine.node,
      mixsegImaging: imagingBefore,
      imagingChangedDuringRun: imagingAfter['sourceHash'] !== imagingBefore['sourceHash'],
      nibabel: nibabelInfo?.nibabelVersion ?? nibabel.version,
      numpy: nibabelInfo?.numpyVersion,
      python: nibabelInfo?.python,
      pythonExecutable: NIBABEL_PYTHON,
      indexedGzip: nibabelInfo?.indexedGzip,
    },
    gzip: {
      mixsegLevel: mixsegLevel ?? null,
      mixsegLevelSource: 'inferred: node:zlib gzipSync at this level reproduces the label map byte for byte',
      nibabelDefaultCompressLevel: nibabelInfo?.defaultCompressLevel ?? nibabel.defaultCompressLevel,
      nibabelLevelSource: 'nib.openers.Opener.default_compresslevel',
    },
    loadAverage: { before: loadBefore, after: os.loadavg() },
    methodology: METHODOLOGY,
    input,
    synthetic,
    totalSeconds,
    contestants,
    readChecksumsAgree: checksumsAgree ?? null,
    verification: verification ?? null,
  };
  const path = writeJson(resultsPath('imaging-io', options.quick), output);

  log('');
  log(
    `NIfTI read/write time (medians over ${repetitions} repetition(s), each in one child process per tool; ` +
      `${totalSeconds.toFixed(0)} s in total)`,
  );
  log(timeTable(contestants, repetitions));
  log('ratio = mixseg ms / other ms (below 1: mixseg is faster).');
  if (contestants.some((c) => c.id === 'nibabel-matched')) {
    log(
      `nibabel@${mixsegLevel}: nibabel writing at mixseg's gzip level; its reads are the same work as nibabel's (a second sample).`,
    );
  }
  log('');
  log('Output sizes (bytes; the final repetition):');
  log(sizeTable(contestants));
  log('');
  log('Memory (VmHWM of each child: its own high-water RSS):');
  log(memoryTable(contestants));
  log('');
  const nibabelDefault = nibabelInfo?.defaultCompressLevel ?? nibabel.defaultCompressLevel;
  log(
    `gzip: mixseg writes with zlib level ${mixsegLevel ?? 'unknown'} (inferred by byte-identical re-encoding); ` +
      `nibabel with zlib level ${nibabelDefault ?? 'unknown'} (nib.openers.Opener.default_compresslevel)` +
      (contestants.some((c) => c.id === 'nibabel-matched')
        ? `; nibabel@${mixsegLevel} = nibabel with default_compresslevel = ${mixsegLevel}, the like-for-like comparison.`
        : '.'),
  );
  const xfl = contestants
    .filter((c) => c.files)
    .map((c) => `${c.label} ${c.files!.labels.gzipXfl}`)
    .join(', ');
  log(`gzip header XFL of the label maps (4 = level 1, 2 = level 9, 0 = other): ${xfl}`);
  if (checksumsAgree !== undefined) {
    log(
      `read check: voxel sum and nonzero count ${checksumsAgree ? 'agree' : 'DIFFER'} between mixseg and nibabel.`,
    );
  }
  if (verification?.tools) {
    for (const [tool, report] of Object.entries(verification.tools)) {
      log(`verify (read back with nibabel): ${tool} outputs ${report.ok ? 'OK' : 'MISMATCH (see JSON)'}`);
    }
  } else if (verification) {
    log(`verify: FAILED (${verification.error})`);
  }
  if (output.versions.imagingChangedDuringRun) log('NOTE: packages/imaging/src changed during the run.');
  if (!nibabel.available) log(`nibabel skipped: ${nibabel.note}`);
  log('');
  log(`raw numbers: ${path}`);
  return path;
}
