/**
 * What the segmentation benchmark keeps in bench-results/segmentation.json: every contestant's runs
 * on every dataset, their medians and paired ratios, and the notes of what did not run.
 */

import type { SegmentOptions } from '@mixseg/imaging';
import type { GitRevision, MachineInfo } from './measure.ts';
import type { PairedRatio } from './paired-ratio.ts';
import type { CrossDatasetRow } from './report-cross-dataset.ts';
import type { SegmentationDataset, SegmentationGroup, SkippedDataset } from './segmentation-datasets.ts';
import type { SegmentationOutcome } from './worker-segmentation.ts';

/** Who produced a result. */
export type SegmentationTool = 'mixseg' | 'sklearn' | 'dipy';

/** One mixseg configuration: a name for the tables and the options given to segment(). */
export interface MixsegConfiguration {
  name: string;
  options: SegmentOptions;
  /** Needs the dataset's atlas maps. */
  atlas?: boolean;
}

/** One process's outcome. */
export interface SegmentationRun {
  repetition: number;
  loadAverage: number;
  /** The whole child process, interpreter start-up included, seconds. */
  processSeconds: number;
  outcome?: SegmentationOutcome;
  error?: string;
}

/** One contestant on one dataset. */
export interface SegmentationResult {
  dataset: string;
  contestant: string;
  tool: SegmentationTool;
  /** Dice of CSF, GM, WM (of the first run: every contestant is deterministic given its seed). */
  dice: number[];
  meanDice: number;
  /** Medians over the runs. */
  segmentSeconds: number;
  readSeconds: number;
  processSeconds: number;
  peakMiB: number;
  runs: SegmentationRun[];
  /** mixseg segment time / scikit-learn's, per repetition, and their median. */
  timeRatioToSklearn?: PairedRatio;
  /** mixseg segment time / dipy's (dipy runs once: one pair). */
  timeRatioToDipy?: PairedRatio;
  /** mixseg peak RSS / scikit-learn's, per repetition, and their median. */
  peakRatioToSklearn?: PairedRatio;
}

/** A contestant that did not run on a dataset, and why. */
export interface SegmentationNote {
  dataset: string;
  contestant: string;
  note: string;
}

/**
 * What bench-results/segmentation.json holds. `results` has one entry per (dataset, contestant);
 * `groups` says which datasets make up each row of the cross-dataset table, and `crossDataset`
 * holds that table's numbers (derived from `results`; the report recomputes them). Files written
 * before groups existed have neither: the report then makes every dataset its own group.
 */
export interface SegmentationOutput {
  benchmark: 'segmentation';
  mode: 'quick' | 'full';
  machine: MachineInfo;
  git: GitRevision;
  peers: {
    python: string;
    sklearn: { available: boolean; version?: string; note?: string };
    dipy: { available: boolean; version?: string; note?: string; requested: boolean };
  };
  methodology: Record<string, string>;
  /** The rows of the cross-dataset table, in order, each with its datasets (subjects). */
  groups?: SegmentationGroup[];
  datasets: (SegmentationDataset & { repetitions: number })[];
  skippedDatasets: SkippedDataset[];
  results: SegmentationResult[];
  notes: SegmentationNote[];
  /** The cross-dataset table: per group, mixseg defaults, scikit-learn and dipy. */
  crossDataset?: CrossDatasetRow[];
  totalSeconds: number;
}
