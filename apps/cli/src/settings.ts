/**
 * The resolved options of `mixseg segment`: validated once on the command line, then handed to
 * every subject (and worker thread) as plain data.
 */
import type { CovarianceType, GaussianMixture, PartialVolumeMixture } from '@mixseg/core';
import type { ImageType, IntensityPreparation, MaskMethod } from '@mixseg/imaging';
import type { Shard } from './shard.ts';

export type PriorChoice = 'ppf' | 'mrf' | 'atlas' | 'none';

/** How a saved model's intensities were prepared: applying it needs the same. */
export interface ModelTransform {
  biasCorrection: boolean;
  biasFwhm: number | undefined;
  preparation: IntensityPreparation;
}

export interface SegmentSettings {
  /** Number of classes K (from the model with --model). */
  classes: number;
  /** Contrast of the first channel, which orders the labels (--image-type). */
  imageType: ImageType;
  /** Model mixed voxels explicitly (single channel) and write fraction maps (--no-partial-volume turns it off). */
  partialVolume: boolean;
  /** Leave spikes and outliers out of the fit (--no-robust turns it off). */
  robust: boolean;
  prior: PriorChoice;
  /** Undefined: the prior's own default (1 for ppf, 0.3 for mrf). */
  beta: number | undefined;
  /** Power of the class shares in the spatial prior (--class-weights). */
  classWeightPower: number;
  /** One probability volume per class, absolute paths, in class order (--atlas). */
  atlas: string[] | undefined;
  /** Weight of the atlas against the spatial prior (0..1); undefined without an atlas or a spatial prior. */
  atlasWeight: number | undefined;
  /** Bias-field correction (always false with --model: nothing is fitted). */
  biasCorrection: boolean;
  /** FWHM of the bias field's smoothing in mm; undefined without bias correction. */
  biasFwhm: number | undefined;
  /** Shrinkage of the class covariances towards the pooled one; undefined with --model. */
  covarianceShrinkage: number | undefined;
  /** A mask method, or a mask file (absolute path) used for every subject without its own. */
  mask: MaskMethod | { file: string };
  covariance: CovarianceType;
  restarts: number;
  maxIter: number;
  tol: number;
  labelTol: number;
  seed: number;
  preparation: IntensityPreparation;
  /** Absolute output folder. */
  outDir: string;
  probabilities: boolean;
  saveModel: boolean;
  preview: boolean;
  /** Write `<stem>_desc-biasfield.nii.gz` (one per channel with several). */
  saveBiasField: boolean;
  /** Applied instead of fitting (--model), with the intensity transform it was fitted under. */
  model:
    | { path: string; mixture: GaussianMixture | PartialVolumeMixture; transform: ModelTransform }
    | undefined;
  overwrite: boolean;
  jobs: number;
  shard: Shard;
  json: boolean;
}

/** The options as recorded in a sidecar: what a rerun needs to reproduce the result. */
export function recordedOptions(settings: SegmentSettings): Record<string, unknown> {
  return {
    classes: settings.classes,
    imageType: settings.imageType,
    partialVolume: settings.partialVolume,
    robust: settings.robust,
    prior: settings.prior,
    beta: settings.beta ?? null,
    classWeightPower: settings.classWeightPower,
    atlas: settings.atlas ?? null,
    atlasWeight: settings.atlasWeight ?? null,
    mask: typeof settings.mask === 'string' ? settings.mask : settings.mask.file,
    biasCorrection: settings.biasCorrection,
    biasFwhm: settings.biasFwhm ?? null,
    covariance: settings.covariance,
    covarianceShrinkage: settings.covarianceShrinkage ?? null,
    restarts: settings.restarts,
    maxIter: settings.maxIter,
    tol: settings.tol,
    labelTol: settings.labelTol,
    seed: settings.seed,
    preparation: settings.preparation,
    probabilities: settings.probabilities,
    saveModel: settings.saveModel,
    preview: settings.preview,
    saveBiasField: settings.saveBiasField,
    model: settings.model?.path ?? null,
  };
}
