/**
 * `pnpm bench segmentation`: accuracy (Dice per class against the reference), time and peak memory
 * of whole segmentations on every pair in ../shared/data with a reference (SRI24 T1, T2 and
 * T1+T2+PD, MNI152 2 mm and 1 mm and nii2mesh against FAST, the ten IBSR scans, the PNG slices)
 * and on the synthetic phantoms of reference-cases.ts: mixseg with its defaults (and the atlas
 * prior where the SPM maps line up; the other priors with --variants), next to scikit-learn's plain
 * GaussianMixture and dipy's HMRF on exactly the same voxels. The result is summed up in a
 * cross-dataset table: one row per dataset (a group of subjects), Dice per class as the mean over
 * the subjects and the worst subject, time and peak memory per volume.
 *
 * Every run is a fresh process (its peak RSS is its own) that reads the channels, segments inside
 * reference > 0 and scores itself. Repetitions are interleaved (every contestant of a dataset in
 * repetition r, then r + 1) and time ratios mixseg / peer are taken within a repetition, then their
 * median. dipy's HMRF runs once per dataset, by default on the small inputs only (phantoms, slices,
 * MNI152 2 mm: seconds each) and on the 1 mm volumes and IBSR scans with --dipy (minutes and GBs
 * each). Peers that are not installed are skipped with a note.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  formatNumber,
  formatTable,
  gitRevision,
  machineInfo,
  repoRoot,
  resultsPath,
  writeJson,
} from './measure.ts';
import { crossDatasetRows, renderCrossDatasetTable } from './report-cross-dataset.ts';
import {
  addRatios,
  CONFIGURATIONS,
  type Contestant,
  DIPY_NAME,
  LARGE_VOLUME_VOXELS,
  mixsegContestant,
  PYTHON,
  peerContestant,
  REPETITIONS,
  repetitionsFor,
  SKLEARN_NAME,
  summarise,
  VARIANT_CONFIGURATIONS,
} from './segmentation-contestants.ts';
import {
  prepareDatasets,
  type SegmentationDataset,
  type SegmentationGroup,
  type SkippedDataset,
} from './segmentation-datasets.ts';
import type {
  SegmentationNote,
  SegmentationOutput,
  SegmentationResult,
  SegmentationRun,
} from './segmentation-types.ts';

const DATA = join(repoRoot, '..', 'shared', 'data');

const METHODOLOGY: Record<string, string> = {
  voxels:
    'every contestant reads the same NIfTI files (PNG slices, the nii2mesh FAST fractions and the phantoms are ' +
    'written as NIfTI first) and is fitted and scored inside the same mask, reference > 0.',
  mixseg:
    "segment() with its defaults: no option but the mask, and imageType 't2' on the SRI24 T2 dataset " +
    '("mixseg defaults"); "mixseg atlas" adds prior \'atlas\' with the SPM12 maps where they line up. ' +
    'The other priors and tuning variants run with --variants.',
  order:
    'every contestant labels its classes CSF, GM, WM by the mean intensity of the first channel: ascending ' +
    'for T1, descending for T2 (mixseg through imageType, the peers through --image-type t2).',
  dice: 'per class (1 CSF, 2 GM, 3 WM) against the reference, inside the mask; deterministic given the seeds, so the first run is reported.',
  datasets:
    'one row of the cross-dataset table per dataset: a single volume, the IBSR scans (one row: the mean over ' +
    'the subjects and the worst subject, per class), the PNG slices (one row), each phantom (one row each: ' +
    'they are different failure modes). On IBSR the classes that count are GM and WM: its raters label ' +
    'sulcal CSF as GM, so CSF Dice is low for every method (shown, not compared).',
  time:
    'segment seconds = mask, fit, spatial prior and labels (mixseg: segment() with its defaults, bias ' +
    'correction, restarts and probability maps included; scikit-learn: GaussianMixture(3, full, ' +
    'random_state=0).fit + predict; dipy: TissueClassifierHMRF().classify(image, 3, 0.1)), median over the ' +
    'repetitions, then per dataset the median over its subjects (per volume); reading and writing files are ' +
    'left to the end-to-end (cli) benchmark.',
  ratios:
    'mixseg / peer segment seconds (and peak RSS) within the same repetition, then the median; below 1 ' +
    'mixseg is faster (smaller). dipy runs once per dataset, so its ratio has one pair.',
  memory:
    'peak RSS = VmHWM of the child process (its own high-water mark), median over the repetitions, then per ' +
    'dataset the median over its subjects.',
  repetitions:
    `${REPETITIONS.small} for inputs up to ${LARGE_VOLUME_VOXELS / 1e6} M voxels, ${REPETITIONS.large} above ` +
    '(the 1 mm volumes), 1 for each of the ten IBSR scans (ten subjects already give the spread, and each is ' +
    '8 M voxels); 1 with --quick; dipy once.',
  atlas:
    'the SPM12 OldSeg CSF/GM/WM maps are in MNI space: they line up (through the affines) with the MNI152 ' +
    'images only, so the atlas prior runs there.',
  references:
    'SRI24 (T1, T2, T1+T2+PD): the atlas tissue map (crisp); MNI152 and nii2mesh: FSL FAST output, a reference ' +
    'to agree with, not truth (nii2mesh: argmax of the FAST fractions, CSF = 1 - GM - WM, inside the largest ' +
    'connected component of bet > 0, which drops the two synthetic spheres); IBSR: the manual labels of ' +
    'IBSR_XX_seg, fitted and scored inside _seg > 0 (which holds thousands of exact zeros of the image); PNG ' +
    'slices: the labels PNG; phantoms: generatePhantom ground truth (partial-volume voxels labelled by their ' +
    'majority tissue) of the cases in reference-cases.ts: Gaussian noise 5 % of the WM intensity and a ' +
    'multiplicative bias field 1 + a s(u) of amplitude 20 %, clean or with one artefact (exact zeros, an ' +
    'extreme voxel, a bright cluster, a clipped maximum) or variation (Rician noise, 3 mm voxels, noise 9 % ' +
    'and bias 40 %).',
};

function probePython(module: string): { available: boolean; version?: string; note?: string } {
  const probe = spawnSync(PYTHON, ['-c', `import ${module}; print(${module}.__version__)`], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return { available: true, version: probe.stdout.trim() };
  const reason = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? 'unknown error';
  return { available: false, note: `${module} is not installed for ${PYTHON} (${reason}): skipped` };
}

/** Options of {@link runSegmentation}. */
export interface SegmentationBenchOptions {
  quick: boolean;
  /** Also run dipy's HMRF on the 1 mm volumes and the IBSR scans. */
  dipy: boolean;
  /** Add {@link VARIANT_CONFIGURATIONS}. */
  variants?: boolean;
  log?: (line: string) => void;
}

/** Runs the benchmark, prints the table, writes bench-results/[quick/]segmentation.json. */
export async function runSegmentation(options: SegmentationBenchOptions): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  const machine = machineInfo();
  const sklearn = probePython('sklearn');
  const dipy = probePython('dipy');
  if (!existsSync(DATA)) log(`NOTE: ${DATA} is absent: only the phantoms run`);
  const configurations = [...CONFIGURATIONS, ...(options.variants ? VARIANT_CONFIGURATIONS : [])];
  const work = mkdtempSync(join(os.tmpdir(), 'mixseg-bench-seg-'));
  const results: SegmentationResult[] = [];
  const notes: SegmentationNote[] = [];
  let groups: SegmentationGroup[] = [];
  let datasets: (SegmentationDataset & { repetitions: number })[] = [];
  let skippedDatasets: SkippedDataset[] = [];
  try {
    const prepared = await prepareDatasets({
      quick: options.quick,
      dataDirectory: DATA,
      workDirectory: work,
    });
    groups = prepared.groups;
    datasets = prepared.datasets.map((d) => ({
      ...d,
      repetitions: repetitionsFor(
        d,
        groups.find((g) => g.id === d.group),
        options.quick,
      ),
    }));
    skippedDatasets = prepared.skipped;
    for (const skipped of skippedDatasets) log(`NOTE: ${skipped.name} skipped: ${skipped.reason}`);
    for (const dataset of datasets) {
      const contestants: Contestant[] = [];
      for (const configuration of configurations) {
        if (configuration.atlas && !dataset.atlas) continue;
        contestants.push(mixsegContestant(dataset, configuration));
      }
      if (sklearn.available) contestants.push(peerContestant(dataset, 'sklearn'));
      else notes.push({ dataset: dataset.id, contestant: SKLEARN_NAME, note: sklearn.note! });
      if (dataset.dipy === 'not-applicable') {
        notes.push({
          dataset: dataset.id,
          contestant: DIPY_NAME,
          note: "not applicable: dipy's TissueClassifierHMRF takes one channel",
        });
      } else if (!dipy.available) {
        notes.push({ dataset: dataset.id, contestant: DIPY_NAME, note: dipy.note! });
      } else if (dataset.dipy === 'opt-in' && !options.dipy) {
        notes.push({
          dataset: dataset.id,
          contestant: DIPY_NAME,
          note:
            dataset.group === 'ibsr'
              ? 'not run: on an IBSR scan it takes minutes and GBs; `pnpm bench segmentation --dipy` runs it'
              : 'not run: on a 1 mm volume it takes minutes and GBs; `pnpm bench segmentation --dipy` runs it',
        });
      } else {
        contestants.push(peerContestant(dataset, 'dipy'));
      }
      const runs = new Map<Contestant, SegmentationRun[]>(contestants.map((c) => [c, []]));
      const failed = new Set<Contestant>();
      for (let repetition = 0; repetition < dataset.repetitions; repetition++) {
        for (const contestant of contestants) {
          if ((contestant.once && repetition > 0) || failed.has(contestant)) continue;
          const loadAverage = os.loadavg()[0]!;
          const { outcome, error, processSeconds } = await contestant.run();
          const run: SegmentationRun = {
            repetition,
            loadAverage,
            processSeconds,
            ...(outcome ? { outcome } : {}),
            ...(error ? { error } : {}),
          };
          runs.get(contestant)!.push(run);
          const tag = `[${dataset.name}] rep ${repetition + 1}/${dataset.repetitions} ${contestant.name}`;
          if (outcome) {
            log(
              `${tag}: Dice ${outcome.dice.map((d) => d.toFixed(3)).join(' / ')}, ` +
                `${formatNumber(outcome.segmentSeconds)} s, peak ${formatNumber(outcome.peakMiB ?? Number.NaN)} MiB`,
            );
          } else {
            log(`${tag}: FAILED (${error})`);
            failed.add(contestant);
            notes.push({ dataset: dataset.id, contestant: contestant.name, note: `failed: ${error}` });
          }
        }
      }
      const datasetResults = contestants
        .filter((c) => runs.get(c)!.some((r) => r.outcome))
        .map((c) => summarise(dataset.id, c, runs.get(c)!));
      addRatios(datasetResults);
      results.push(...datasetResults);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const rows = results.map((r) => [
    datasets.find((d) => d.id === r.dataset)?.name ?? r.dataset,
    r.contestant,
    ...r.dice.map((d) => d.toFixed(3)),
    r.meanDice.toFixed(3),
    formatNumber(r.segmentSeconds),
    formatNumber(r.peakMiB),
    r.timeRatioToSklearn ? formatNumber(r.timeRatioToSklearn.median) : '',
  ]);
  log('');
  log(
    formatTable(
      ['data', 'method', 'CSF', 'GM', 'WM', 'mean', 'segment s', 'peak MiB', 'time / sklearn'],
      rows,
      new Set([2, 3, 4, 5, 6, 7, 8]),
    ),
  );
  for (const note of notes) log(`note: ${note.dataset}, ${note.contestant}: ${note.note}`);
  const crossDataset = crossDatasetRows({ groups, datasets, results, notes });
  log('');
  log('Cross-dataset table (Dice: mean over the subjects, worst subject in brackets; per volume: median):');
  log('');
  log(renderCrossDatasetTable({ groups, datasets, results, notes }));
  log('');
  log(`(${totalSeconds.toFixed(0)} s in total)`);
  const relative = (path: string): string =>
    path.startsWith(DATA)
      ? `../shared/data${path.slice(DATA.length)}`
      : path.startsWith(work)
        ? `<prepared>${path.slice(work.length)}`
        : path;
  const output: SegmentationOutput = {
    benchmark: 'segmentation',
    mode: options.quick ? 'quick' : 'full',
    machine,
    git: gitRevision(),
    peers: {
      python: PYTHON,
      sklearn,
      dipy: { ...dipy, requested: options.dipy },
    },
    methodology: METHODOLOGY,
    groups,
    datasets: datasets.map((d) => ({
      ...d,
      channels: d.channels.map(relative),
      reference: relative(d.reference),
      ...(d.atlas ? { atlas: d.atlas.map(relative) } : {}),
    })),
    skippedDatasets,
    results,
    notes,
    crossDataset,
    totalSeconds,
  };
  const file = writeJson(resultsPath('segmentation', options.quick), output);
  log(`wrote ${file}`);
  return file;
}
