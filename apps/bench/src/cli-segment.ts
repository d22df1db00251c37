/**
 * The end-to-end benchmark: `mixseg segment` as a user runs it (the bundled dist/mixseg.mjs under
 * plain node, default options: ppf prior, bias correction, probability maps written) on a 2 mm
 * volume (MNI152 T1 brain with its mask) and a 1 mm volume (SRI24 T1, nonzero mask), then a batch
 * of the same 1 mm volume under several names with --jobs 1 and --jobs 2; and the same work by the
 * peers (python/segment_job.py: read with nibabel, fit scikit-learn's GaussianMixture or dipy's
 * HMRF, write the label map and the three probability maps). Wall time of the whole process
 * (interpreter start-up included), peak RSS and CPU time from GNU time (`/usr/bin/time`); without it
 * those columns are n/a. Repetitions are interleaved and ratios mixseg / peer are taken within a
 * repetition, then their median.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  CLI_ROOT,
  cpuPercent,
  GNU_TIME,
  PYTHON,
  probe,
  runMixseg,
  runPeer,
  summariseSingle,
} from './cli-segment-processes.ts';
import type {
  BatchResult,
  CliOutput,
  EndToEndInput,
  EndToEndRatio,
  EndToEndTool,
  ProcessRun,
  SingleResult,
} from './cli-segment-types.ts';
import {
  formatNumber,
  formatTable,
  gitRevision,
  machineInfo,
  repoRoot,
  resultsPath,
  writeJson,
} from './measure.ts';
import { pairedRatio } from './paired-ratio.ts';

const DATA = join(repoRoot, '..', 'shared', 'data');

const INPUTS: EndToEndInput[] = [
  {
    id: '2mm',
    name: 'MNI152 T1 2 mm (91 x 109 x 91), brain mask',
    path: join(DATA, 'mni152', 'MNI152_T1_2mm_Brain.nii.gz'),
    mask: join(DATA, 'mni152', 'MNI152_T1_2mm_Brain_Mask.nii.gz'),
  },
  {
    id: '1mm',
    name: 'SRI24 T1 1 mm (240 x 240 x 155), nonzero mask',
    path: join(DATA, 'sri24', 'spgr.nii.gz'),
  },
];

const METHODOLOGY: Record<string, string> = {
  mixseg:
    'node apps/cli/dist/mixseg.mjs segment <input> [--mask <mask>] -o <dir> --jobs N: default options (ppf prior, ' +
    'bias correction, 5 restarts, label map + 3 probability maps + JSON sidecars).',
  peers:
    'python/segment_job.py <sklearn|dipy>: nibabel read, the same mask, GaussianMixture(3, full, random_state=0) ' +
    'fit + predict + predict_proba (or dipy TissueClassifierHMRF classify(image, 3, 0.1) and its PVE), nibabel ' +
    "writes of the label map and 3 probability maps at gzip level 6 (mixseg's); batches with a multiprocessing " +
    'Pool(N). Peers run single-threaded (OMP/OPENBLAS/MKL_NUM_THREADS=1), as mixseg runs one thread per job. ' +
    'No bias correction or spatial prior for scikit-learn: it is the plain-mixture baseline.',
  time: 'wall time of the whole process from spawn to exit (interpreter start-up included), median over the repetitions.',
  memory:
    'GNU time %M: peak RSS of the process; for a Python Pool the largest single process, not the sum (mixseg runs ' +
    'its jobs as threads of one process, so its number is the total).',
  ratios:
    'mixseg / peer wall seconds (and peak RSS) within the same repetition, then the median; below 1 mixseg is faster.',
  dipy: 'once per input: by default on the 2 mm volume; on the 1 mm volume only with --dipy (minutes and GBs).',
};

/** Options of {@link runCliSegment}. */
export interface CliBenchOptions {
  quick: boolean;
  /** Also run dipy on the 1 mm volume. */
  dipy: boolean;
  log?: (line: string) => void;
}

/** Runs the benchmark, prints the tables, writes bench-results/[quick/]cli.json. */
export async function runCliSegment(options: CliBenchOptions): Promise<string | undefined> {
  const log = options.log ?? ((line: string) => console.log(line));
  const missing = INPUTS.flatMap((input) => [input.path, ...(input.mask ? [input.mask] : [])]).filter(
    (path) => !existsSync(path),
  );
  if (missing.length > 0) {
    log(`SKIPPED: ${missing.join(', ')} not found (../shared/data beside the repository is absent).`);
    return undefined;
  }
  const started = performance.now();
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: CLI_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building apps/cli (node build.mjs) failed');
  const machine = machineInfo();
  const repetitions = options.quick ? 1 : 3;
  const batchInput = options.quick ? INPUTS[0]! : INPUTS[1]!;
  const batchSize = options.quick ? 2 : 8;
  const peers = { sklearn: probe('sklearn'), dipy: probe('dipy') };
  const notes: string[] = [];
  if (!existsSync(GNU_TIME)) notes.push(`${GNU_TIME} is absent: no peak RSS or CPU time`);
  if (!peers.sklearn)
    notes.push(`scikit-learn or nibabel is not installed for ${PYTHON}: its rows are skipped`);
  if (!peers.dipy) notes.push(`dipy or nibabel is not installed for ${PYTHON}: its rows are skipped`);
  else if (!options.dipy)
    notes.push('dipy on the 1 mm volume: not run (minutes and GBs); `pnpm bench cli --dipy` runs it');
  log(
    `end-to-end benchmark (${options.quick ? 'quick' : 'full'}): ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}; ` +
      `GNU time ${existsSync(GNU_TIME) ? 'found' : 'absent'}; sklearn ${peers.sklearn ? 'yes' : 'no'}, dipy ${peers.dipy ? 'yes' : 'no'}`,
  );
  const directory = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-cli-'));
  const runs = new Map<string, ProcessRun[]>();
  const add = (input: string, tool: EndToEndTool, run: ProcessRun): void => {
    const key = `${input}/${tool}`;
    runs.set(key, [...(runs.get(key) ?? []), run]);
    log(
      `  ${tool} ${input}, run ${run.repetition + 1}: ${run.error ? `FAILED (${run.error})` : `${run.seconds.toFixed(2)} s, peak RSS ${run.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB`}`,
    );
  };
  const batch: BatchResult[] = [];
  try {
    for (let repetition = 0; repetition < repetitions; repetition++) {
      for (const input of INPUTS) {
        const out = (tool: string) => join(directory, `${tool}-${input.id}-${repetition}`);
        add(input.id, 'mixseg', await runMixseg([input.path], input.mask, out('mixseg'), 1, repetition));
        if (peers.sklearn) {
          add(
            input.id,
            'sklearn',
            await runPeer('sklearn', [input.path], input.mask, out('sklearn'), 1, repetition),
          );
        }
        const dipyHere = peers.dipy && repetition === 0 && (input.id === '2mm' || options.dipy);
        if (dipyHere)
          add(input.id, 'dipy', await runPeer('dipy', [input.path], input.mask, out('dipy'), 1, 0));
      }
    }
    const batchInputs = join(directory, 'batch-inputs');
    mkdirSync(batchInputs);
    const names: string[] = [];
    for (let i = 1; i <= batchSize; i++) {
      const name = join(batchInputs, `sub-${String(i).padStart(2, '0')}_T1w.nii.gz`);
      symlinkSync(batchInput.path, name);
      names.push(name);
    }
    const tools: EndToEndTool[] = ['mixseg', ...(peers.sklearn ? (['sklearn'] as const) : [])];
    for (const jobs of [1, 2]) {
      for (const tool of tools) {
        const out = join(directory, `batch-${tool}-${jobs}`);
        const run =
          tool === 'mixseg'
            ? await runMixseg([batchInputs], batchInput.mask, out, jobs, 0)
            : await runPeer('sklearn', names, batchInput.mask, out, jobs, 0);
        log(
          `  batch of ${batchSize} (${batchInput.id}), ${tool} --jobs ${jobs}: ${run.error ? `FAILED (${run.error})` : `${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMiB?.toFixed(0) ?? 'n/a'} MiB`}`,
        );
        batch.push({
          tool,
          jobs,
          run,
          volumesPerMinute: run.error ? Number.NaN : (batchSize / run.seconds) * 60,
        });
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const single: SingleResult[] = [];
  for (const [key, list] of runs) {
    const [input, tool] = key.split('/') as [EndToEndInput['id'], EndToEndTool];
    single.push(summariseSingle(input, tool, list));
    for (const run of list.filter((r) => r.error)) notes.push(`${tool} on ${input} failed: ${run.error}`);
  }
  for (const b of batch.filter((x) => x.run.error)) {
    notes.push(`${b.tool} batch with --jobs ${b.jobs} failed: ${b.run.error}`);
  }
  const series = (list: ProcessRun[] | undefined, pick: (run: ProcessRun) => number | undefined) =>
    (list ?? [])
      .filter((r) => !r.error)
      .map((r) => ({ repetition: r.repetition, value: pick(r) ?? Number.NaN }));
  const ratios: EndToEndRatio[] = [];
  for (const input of INPUTS) {
    const mine = runs.get(`${input.id}/mixseg`);
    for (const peer of ['sklearn', 'dipy'] as const) {
      const theirs = runs.get(`${input.id}/${peer}`);
      if (!theirs) continue;
      ratios.push({
        input: input.id,
        peer,
        time: pairedRatio(
          series(mine, (r) => r.seconds),
          series(theirs, (r) => r.seconds),
        ),
        peak: pairedRatio(
          series(mine, (r) => r.peakRssMiB),
          series(theirs, (r) => r.peakRssMiB),
        ),
      });
    }
  }
  const batchSeconds = (tool: EndToEndTool, jobs: number): number => {
    const found = batch.find((b) => b.tool === tool && b.jobs === jobs);
    return found && !found.run.error ? found.run.seconds : Number.NaN;
  };
  const speedUps: Partial<Record<EndToEndTool, number>> = {};
  for (const tool of new Set(batch.map((b) => b.tool)))
    speedUps[tool] = batchSeconds(tool, 1) / batchSeconds(tool, 2);
  const batchRatios = [1, 2].flatMap((jobs) =>
    peers.sklearn
      ? [
          {
            peer: 'sklearn' as const,
            jobs,
            time: batchSeconds('mixseg', jobs) / batchSeconds('sklearn', jobs),
          },
        ]
      : [],
  );
  const totalSeconds = (performance.now() - started) / 1000;

  const inputName = (id: string) => INPUTS.find((i) => i.id === id)!.name;
  log('');
  log(
    formatTable(
      ['input', 'tool', 'wall s', 'peak RSS MiB', 'CPU %', 'mixseg/peer time', 'mixseg/peer peak'],
      single.map((s) => {
        const ratio = ratios.find((r) => r.input === s.input && r.peer === s.tool);
        return [
          inputName(s.input),
          s.tool,
          formatNumber(s.medianSeconds),
          formatNumber(s.medianPeakRssMiB, 4),
          formatNumber(s.medianCpuPercent, 3),
          ratio ? formatNumber(ratio.time.median) : '',
          ratio ? formatNumber(ratio.peak.median) : '',
        ];
      }),
      new Set([2, 3, 4, 5, 6]),
    ),
  );
  log('');
  log(
    formatTable(
      [
        `batch of ${batchSize} x ${batchInput.id}`,
        'wall s',
        'peak RSS MiB',
        'CPU %',
        'volumes / min',
        'speed-up vs --jobs 1',
      ],
      batch.map((b) => [
        `${b.tool} --jobs ${b.jobs}`,
        formatNumber(b.run.seconds),
        formatNumber(b.run.peakRssMiB ?? Number.NaN, 4),
        formatNumber(cpuPercent(b.run), 3),
        formatNumber(b.volumesPerMinute),
        b.jobs === 2 ? `${formatNumber(speedUps[b.tool] ?? Number.NaN)}x` : '1x',
      ]),
      new Set([1, 2, 3, 4, 5]),
    ),
  );
  for (const note of notes) log(`note: ${note}`);
  const busiest = Math.max(...batch.map((b) => b.run.loadAverage));
  if (busiest > 0.5) {
    notes.push(
      `the 1-minute load average was up to ${busiest.toFixed(2)} on ${machine.cores} cores when a batch started: ` +
        'other work competed for the cores, so the --jobs 2 speed-ups are lower bounds',
    );
    log(`NOTE: ${notes.at(-1)}`);
  }
  const output: CliOutput = {
    benchmark: 'cli',
    mode: options.quick ? 'quick' : 'full',
    machine,
    git: gitRevision(),
    gnuTime: existsSync(GNU_TIME),
    peers: { ...peers, dipyRequested: options.dipy },
    repetitions,
    inputs: INPUTS.map((input) => ({
      ...input,
      path: input.path.replace(DATA, '../shared/data'),
      ...(input.mask ? { mask: input.mask.replace(DATA, '../shared/data') } : {}),
    })),
    single,
    ratios,
    batch: { size: batchSize, input: batchInput.id, results: batch, speedUps, ratios: batchRatios },
    notes,
    methodology: METHODOLOGY,
    totalSeconds,
  };
  const path = writeJson(resultsPath('cli', options.quick), output);
  log(`\nwrote ${path} (${totalSeconds.toFixed(0)} s)`);
  return path;
}
