/**
 * The resolved options of `mixseg segment`: validated once on the command line, then handed to
 * every subject (and worker thread) as plain data. The segmentation options are one record from
 * @mixseg/imaging's option table (the same record the sidecar keeps and the resume check compares);
 * the rest say what to write and how to run.
 */
import type { GaussianMixture, PartialVolumeMixture } from '@mixseg/core';
import type { IntensityPreparation, OptionRecord } from '@mixseg/imaging';
import type { Shard } from './shard.ts';

/** How a saved model's intensities were prepared: applying it needs the same. */
export interface ModelTransform {
  biasCorrection: boolean;
  biasFwhm: number | undefined;
  preparation: IntensityPreparation;
}

/** The files a run writes besides the label map and its sidecar. */
export interface OutputFlags {
  /** Class probability and partial-volume fraction maps (--no-probabilities turns them off). */
  probabilities: boolean;
  saveModel: boolean;
  preview: boolean;
  /** `<stem>_desc-biasfield.nii.gz` (one per channel with several). */
  saveBiasField: boolean;
  /** `<stem>_desc-restore_<suffix>.nii.gz`: the bias-corrected image (FSL FAST's _restore). */
  saveRestored: boolean;
}

export interface SegmentSettings extends OutputFlags {
  /** Also write the folder's report.html (a grid of every subject's preview; implies the previews). */
  report: boolean;
  /**
   * The segmentation options, resolved (every key of the option table; mask and atlas files as
   * absolute paths; with --model, what the model was fitted under).
   */
  record: OptionRecord;
  /** Applied instead of fitting (--model), with the intensity transform it was fitted under. */
  model:
    | { path: string; mixture: GaussianMixture | PartialVolumeMixture; transform: ModelTransform }
    | undefined;
  /** Absolute output folder. */
  outDir: string;
  overwrite: boolean;
  jobs: number;
  shard: Shard;
  json: boolean;
  /** Most bytes the subjects running at once may need together. */
  memoryBudget: number;
}

/** Number of classes of a run. */
export function classesOf(settings: SegmentSettings): number {
  return settings.record['nClasses'] as number;
}

/** The mask file of a run (absolute), or undefined for a mask method. */
export function maskFileOf(settings: SegmentSettings): string | undefined {
  const mask = settings.record['mask'] as string;
  return mask === 'nonzero' || mask === 'otsu' ? undefined : mask;
}

/**
 * The options as recorded in a sidecar: the segmentation record (what a rerun must match), then the
 * output flags and the model applied.
 */
export function recordedOptions(settings: SegmentSettings): Record<string, unknown> {
  return {
    ...settings.record,
    probabilities: settings.probabilities,
    saveModel: settings.saveModel,
    preview: settings.preview,
    saveBiasField: settings.saveBiasField,
    saveRestored: settings.saveRestored,
    model: settings.model?.path ?? null,
  };
}
