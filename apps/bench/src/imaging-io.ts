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
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { readNifti } from '@mixseg/imaging/node';
import { inferGzipLevel, N_CLASSES, outputsIn, syntheticSegmentation, writeRaw } from './imaging-io-data.ts';
import { memoryTable, record, sizeTable, timeTable } from './imaging-io-summary.ts';
import type {
  ContestantId,
  ContestantRecord,
  ImagingWorkerConfig,
  IoResult,
  NibabelResult,
  VerifyResult,
} from './imaging-io-types.ts';
import {
  benchRoot,
  gitRevision,
  type MachineInfo,
  machineInfo,
  repoRoot,
  resultsPath,
  runJsonChild,
  writeJson,
} from './measure.ts';

const NIBABEL_PYTHON = '/usr/bin/python3';
const NIBABEL_SCRIPT = join(benchRoot, 'python', 'nibabel_io.py');
const WORKER_SCRIPT = join(benchRoot, 'src', 'worker-imaging-io.ts');
const INPUT = join(repoRoot, '..', 'shared', 'data', 'sri24', 'spgr.nii.gz');

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
  // every .ts file under src/ (its folders: io/, segmentation/, ...), by relative path
  const files = (readdirSync(source, { recursive: true }) as string[])
    .map((name) => name.split('\\').join('/'))
    .filter((name) => name.endsWith('.ts'))
    .sort();
  for (const name of files) hash.update(`${name}\0`).update(readFileSync(join(source, name)));
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
