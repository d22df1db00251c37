/**
 * Who the segmentation benchmark runs: mixseg's configurations (segment() in a worker child) and
 * the peers (scikit-learn's GaussianMixture and dipy's HMRF in Python), how often, and how their
 * runs become a result with paired time and memory ratios.
 */
import { join } from 'node:path';
import { benchRoot, median, runJsonChild } from './measure.ts';
import { pairedRatio } from './paired-ratio.ts';
import { DEFAULT_CONTESTANT } from './report-cross-dataset.ts';
import type { SegmentationDataset, SegmentationGroup } from './segmentation-datasets.ts';
import type {
  MixsegConfiguration,
  SegmentationResult,
  SegmentationRun,
  SegmentationTool,
} from './segmentation-types.ts';
import type { SegmentationOutcome, SegmentationWorkerConfig } from './worker-segmentation.ts';

/** The Python the peers run under (with scikit-learn and dipy installed). */
export const PYTHON = '/usr/bin/python3';
const WORKER = join(benchRoot, 'src', 'worker-segmentation.ts');
const PEERS_SCRIPT = join(benchRoot, 'python', 'segment_peers.py');
const CHILD_TIMEOUT_MS = 20 * 60 * 1000;
/** Volumes with more voxels than this (the 1 mm ones) get fewer repetitions. */
export const LARGE_VOLUME_VOXELS = 2e6;
/** Repetitions of a quick run, of a small volume and of a large one. */
export const REPETITIONS = { quick: 1, small: 3, large: 2 };

/**
 * The configurations of every run: segment() with its defaults (only the mask, and imageType for
 * a T2 dataset), named so that the contestant is {@link DEFAULT_CONTESTANT}, and the atlas prior
 * where the SPM maps line up.
 */
export const CONFIGURATIONS: MixsegConfiguration[] = [
  { name: DEFAULT_CONTESTANT.slice('mixseg '.length), options: {} },
  { name: 'atlas', options: { prior: 'atlas' }, atlas: true },
];

/** Extra configurations with --variants (for tuning work; not in the default run). */
export const VARIANT_CONFIGURATIONS: MixsegConfiguration[] = [
  { name: 'none', options: { prior: 'none' } },
  { name: 'ppf', options: { prior: 'ppf' } },
  { name: 'mrf', options: { prior: 'mrf' } },
  { name: 'mrf, diag', options: { prior: 'mrf', covarianceType: 'diag' } },
  {
    name: 'FAST-like: mrf 0.1, shrinkage 0.05',
    options: { prior: 'mrf', beta: 0.1, covarianceShrinkage: 0.05 },
  },
  {
    name: 'FAST-like + atlas',
    options: { prior: 'mrf', beta: 0.1, covarianceShrinkage: 0.05 },
    atlas: true,
  },
];

/** The peers' names in the tables. */
export const SKLEARN_NAME = 'scikit-learn GaussianMixture (full)';
export const DIPY_NAME = 'dipy HMRF (beta 0.1)';

/** Repetitions of a dataset: fewer for the 1 mm volumes, its group's when it sets them (IBSR: 1). */
export function repetitionsFor(
  dataset: Pick<SegmentationDataset, 'dims'>,
  group: Pick<SegmentationGroup, 'repetitions'> | undefined,
  quick: boolean,
): number {
  if (quick) return REPETITIONS.quick;
  if (group?.repetitions !== undefined) return group.repetitions;
  const voxels = dataset.dims[0] * dataset.dims[1] * dataset.dims[2];
  return voxels > LARGE_VOLUME_VOXELS ? REPETITIONS.large : REPETITIONS.small;
}

/** One contestant of a dataset: who it is and how to run it once. */
export interface Contestant {
  name: string;
  tool: SegmentationTool;
  /** Runs in repetition 0 only. */
  once: boolean;
  run: () => Promise<{ outcome?: SegmentationOutcome; error?: string; processSeconds: number }>;
}

/** mixseg with one configuration: segment() in a worker child (its own process, so its own peak RSS). */
export function mixsegContestant(
  dataset: SegmentationDataset,
  configuration: MixsegConfiguration,
): Contestant {
  const config: SegmentationWorkerConfig = {
    options: configuration.options,
    imageType: dataset.imageType ?? 't1',
    reference: dataset.reference,
    atlas: configuration.atlas && dataset.atlas ? dataset.atlas : null,
    channels: dataset.channels,
  };
  return {
    name: `mixseg ${configuration.name}`,
    tool: 'mixseg',
    once: false,
    run: async () => {
      const child = await runJsonChild<SegmentationOutcome>(
        process.execPath,
        ['--import', 'tsx', WORKER, JSON.stringify(config)],
        { cwd: benchRoot, timeoutMs: CHILD_TIMEOUT_MS },
      );
      return child.result && !child.error
        ? { outcome: child.result, processSeconds: child.wallMs / 1000 }
        : {
            error: `${child.error}: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`,
            processSeconds: child.wallMs / 1000,
          };
    },
  };
}

/** scikit-learn or dipy in python/segment_peers.py on the same channels and reference. */
export function peerContestant(dataset: SegmentationDataset, tool: 'sklearn' | 'dipy'): Contestant {
  return {
    name: tool === 'sklearn' ? SKLEARN_NAME : DIPY_NAME,
    tool,
    once: tool === 'dipy',
    run: async () => {
      const child = await runJsonChild<SegmentationOutcome>(
        PYTHON,
        [
          PEERS_SCRIPT,
          tool,
          '--image-type',
          dataset.imageType ?? 't1',
          dataset.reference,
          ...dataset.channels,
        ],
        { cwd: join(benchRoot, 'python'), timeoutMs: CHILD_TIMEOUT_MS },
      );
      return child.result && !child.error
        ? { outcome: child.result, processSeconds: child.wallMs / 1000 }
        : {
            error: `${child.error}: ${(child.result as { error?: string } | undefined)?.error ?? child.stderr.trim().split('\n').slice(-2).join(' | ')}`,
            processSeconds: child.wallMs / 1000,
          };
    },
  };
}

/** A contestant's result on a dataset: Dice of its first good run, medians of times and peak memory. */
export function summarise(
  dataset: string,
  contestant: Contestant,
  runs: SegmentationRun[],
): SegmentationResult {
  const ok = runs.filter((r) => r.outcome);
  const first = ok[0]!.outcome!;
  return {
    dataset,
    contestant: contestant.name,
    tool: contestant.tool,
    dice: first.dice,
    meanDice: first.dice.reduce((a, b) => a + b, 0) / first.dice.length,
    segmentSeconds: median(ok.map((r) => r.outcome!.segmentSeconds)),
    readSeconds: median(ok.map((r) => r.outcome!.readSeconds)),
    processSeconds: median(ok.map((r) => r.processSeconds)),
    peakMiB: median(ok.map((r) => r.outcome!.peakMiB ?? Number.NaN)),
    runs,
  };
}

/** Paired ratios of each mixseg row against the peers of the same dataset. */
export function addRatios(results: SegmentationResult[]): void {
  const series = (result: SegmentationResult, pick: (o: SegmentationOutcome) => number | null) =>
    result.runs
      .filter((r) => r.outcome)
      .map((r) => ({ repetition: r.repetition, value: pick(r.outcome!) ?? Number.NaN }));
  for (const result of results) {
    if (result.tool !== 'mixseg') continue;
    const sklearn = results.find((r) => r.dataset === result.dataset && r.tool === 'sklearn');
    const dipy = results.find((r) => r.dataset === result.dataset && r.tool === 'dipy');
    const time = (o: SegmentationOutcome) => o.segmentSeconds;
    const peak = (o: SegmentationOutcome) => o.peakMiB;
    if (sklearn) {
      result.timeRatioToSklearn = pairedRatio(series(result, time), series(sklearn, time));
      result.peakRatioToSklearn = pairedRatio(series(result, peak), series(sklearn, peak));
    }
    if (dipy) result.timeRatioToDipy = pairedRatio(series(result, time), series(dipy, time));
  }
}
