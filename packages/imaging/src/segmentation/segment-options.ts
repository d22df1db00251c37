/**
 * The options of {@link segment} (segment.ts): what a caller may give, their defaults, and the
 * one place where they are checked and resolved. The defaults were chosen by leave-one-dataset-out
 * over every dataset with a reference (docs/algorithms.md, "How the defaults were chosen";
 * `pnpm bench defaults`).
 */
import type { CovarianceType } from '@mixseg/core';
import type { Volume } from '../types.ts';
import { DEFAULT_BIAS_FWHM_MM } from './bias-field.ts';
import type { IntensityPreparation } from './features.ts';
import type { MaskMethod } from './mask.ts';
import type { NeighbourhoodPriorOptions, PottsPriorOptions } from './spatial-prior.ts';

/** The spatial prior: prior probability factor, Potts MRF, atlas, or none (the plain mixture). */
export type SpatialPriorKind = 'ppf' | 'mrf' | 'atlas' | 'none';

/**
 * The contrast of the first channel (FSL FAST's `-t`): `t1` orders the classes by ascending
 * intensity (CSF darkest, WM brightest), `t2` and `pd` by descending intensity (CSF brightest).
 */
export type ImageType = 't1' | 't2' | 'pd';

/** Bias-field correction of the intensities (FAST-style, estimated between EM rounds). */
export interface BiasCorrectionOptions {
  /** Smoothing of the field, full width at half maximum in mm. Default 20 (FSL FAST's). */
  fwhm?: number;
  /** Rounds of (estimate the field, correct, refit). Default 3. */
  rounds?: number;
  /** EM iterations of the refit in each round. Default 3. */
  iterations?: number;
}

/** The partial-volume model (docs/algorithms.md, "The partial-volume mixture"). */
export interface PartialVolumeSettings {
  /**
   * Each mixel class (CSF/GM, GM/WM) holds at most this many times the voxels of the smaller of its
   * two pure classes: a pure class cannot vanish into the mixels beside it. Default 1.
   */
  mixelCap?: number;
}

/** Robust estimation: what is left out of the fit (docs/algorithms.md, "Robust estimation"). */
export interface RobustEstimationOptions {
  /** Leave spike values (one value holding far more voxels than its neighbours) out of the fit. Default true. */
  spikes?: boolean;
  /** Winsorise beyond robust fences and leave those voxels out of the fit. Default true. */
  winsorise?: boolean;
  /**
   * Weight of a uniform outlier class over the intensity range (single channel): voxels no tissue
   * explains (a bright lesion or vessel cluster) go to it instead of pulling a class; they are
   * still labelled with their most probable tissue. Default 0.02.
   */
  outlierWeight?: number;
}

export interface SegmentOptions {
  /** Number of tissue classes K. Default 3. */
  nClasses?: number;
  /** The contrast of the first channel, which orders the labels. Default `t1`. */
  imageType?: ImageType;
  /** Default `ppf`. */
  prior?: SpatialPriorKind;
  /** Prior strength. Default 1 for `ppf` and `atlas`, 0.3 for `mrf`. */
  beta?: number;
  /** Options of the neighbourhood prior (beta above takes precedence). */
  neighbourhood?: Omit<NeighbourhoodPriorOptions, 'beta' | 'classWeights'>;
  /** Options of the Potts prior (beta above takes precedence). */
  potts?: Omit<PottsPriorOptions, 'beta' | 'classWeights'>;
  /**
   * How strongly the spatial prior keeps each class's share of the mask: the prior is multiplied by
   * the mixture's class weights raised to this power, from 0 (each neighbourhood decides alone, as
   * FSL FAST and dipy's HMRF do) to 1 (a small class stays small where the neighbourhood is mixed).
   * Default 0.5.
   */
  classWeightPower?: number;
  /**
   * Tissue-probability maps, one per class in label order (any grid: resampled through the
   * affines). Needed by `prior: 'atlas'`; with `ppf` or `mrf` they are blended in too.
   */
  atlas?: Volume[];
  /**
   * Weight w of the atlas against the spatial term: log pi = w log atlas + (1 - w) log spatial.
   * Default 0.5.
   */
  atlasWeight?: number;
  /** Correct a smooth multiplicative bias field (true, false, or options). Default true. */
  biasCorrection?: boolean | BiasCorrectionOptions;
  /**
   * Model voxels that mix two adjacent classes (CSF/GM, GM/WM) explicitly (single channel), so
   * that the pure classes keep the noise's spread; also gives the partial-volume fraction maps.
   * With several channels the fractions come from unmixing between the two most probable classes.
   * Default true.
   */
  partialVolume?: boolean | PartialVolumeSettings;
  /** Robust estimation (true, false, or options). Default true. */
  robust?: boolean | RobustEstimationOptions;
  /**
   * Covariance type of the multi-channel mixture. Default `diag`: full covariances of T2 and PD
   * model the partial-volume rim of CSF rather than the tissues.
   */
  covarianceType?: CovarianceType;
  /**
   * Shrinkage of each class's (co)variance towards the pooled one, 0 = free, 1 = one shared
   * spread: the noise is common to all tissues. Default 0.3.
   */
  covarianceShrinkage?: number;
  /** Restarts of the plain fit that starts the model. Default 5. */
  nInit?: number;
  /** Seed of every random choice. Default 0. */
  seed?: number;
  /** Iteration cap of each stage. Default 200. */
  maxIter?: number;
  /** Tolerance on the mean log-likelihood gain, each stage. Default 1e-5. */
  tol?: number;
  /**
   * The spatial stage also stops when at most this fraction of the voxels changed label in an
   * iteration (as FSL FAST and ANTs Atropos stop). 0 turns it off. Default 0.001.
   */
  labelTol?: number;
  /** Intensity preparation. Default `none`. */
  preparation?: IntensityPreparation;
  /** A mask image (any nonzero voxel), or a mask method. Default `nonzero`. */
  mask?: Volume | MaskMethod;
  /** Compute the probability (and fraction) maps. Default true. */
  probabilities?: boolean;
  /** Class names for the statistics. Default CSF, GM, WM for K = 3, else class1..classK. */
  classNames?: string[];
  /** Progress: stage and iteration. */
  onIteration?: (event: {
    stage: 'mixture' | 'spatial';
    iteration: number;
    meanLogLikelihood: number;
  }) => void;
}

export type ResolvedSegmentOptions = Required<
  Omit<
    SegmentOptions,
    | 'onIteration'
    | 'mask'
    | 'neighbourhood'
    | 'potts'
    | 'atlas'
    | 'biasCorrection'
    | 'robust'
    | 'partialVolume'
  >
> & {
  /** The resolved partial-volume model, or false. */
  partialVolume: Required<PartialVolumeSettings> | false;
  mask: string;
  /** Paths of the atlas maps (empty without an atlas). */
  atlas: string[];
  /** The resolved bias correction, or false. */
  biasCorrection: Required<BiasCorrectionOptions> | false;
  /** The resolved robust estimation, or false. */
  robust: Required<RobustEstimationOptions> | false;
  neighbourhood: Omit<NeighbourhoodPriorOptions, 'beta' | 'classWeights'>;
  potts: Omit<PottsPriorOptions, 'beta' | 'classWeights'>;
};

/** The defaults of every option that has one. */
export const DEFAULT_SEGMENT_OPTIONS = {
  nClasses: 3,
  imageType: 't1' as ImageType,
  prior: 'ppf' as SpatialPriorKind,
  classWeightPower: 0.5,
  atlasWeight: 0.5,
  partialVolume: { mixelCap: 1 },
  covarianceType: 'diag' as CovarianceType,
  covarianceShrinkage: 0.3,
  nInit: 5,
  seed: 0,
  maxIter: 200,
  tol: 1e-5,
  labelTol: 0.001,
  preparation: 'none' as IntensityPreparation,
  probabilities: true,
  bias: { fwhm: DEFAULT_BIAS_FWHM_MM, rounds: 3, iterations: 3 },
  robust: { spikes: true, winsorise: true, outlierWeight: 0.02 },
  /** beta of each prior */
  beta: { ppf: 1, atlas: 1, mrf: 0.3, none: 0 } as Record<SpatialPriorKind, number>,
};

const IMAGE_TYPES: readonly ImageType[] = ['t1', 't2', 'pd'];

function checkUnit(name: string, value: number, strict = false): number {
  if (!(value >= 0 && (strict ? value < 1 : value <= 1))) {
    throw new RangeError(`${name} must be a number from 0 to ${strict ? 'below ' : ''}1, got ${value}`);
  }
  return value;
}

/** Checks every option and fills in the defaults. */
export function resolveSegmentOptions(options: SegmentOptions): ResolvedSegmentOptions {
  const d = DEFAULT_SEGMENT_OPTIONS;
  const nClasses = options.nClasses ?? d.nClasses;
  if (!Number.isInteger(nClasses) || nClasses < 1 || nClasses > 254) {
    throw new RangeError(`nClasses must be an integer from 1 to 254, got ${nClasses}`);
  }
  const imageType = options.imageType ?? d.imageType;
  if (!IMAGE_TYPES.includes(imageType)) {
    throw new RangeError(`imageType must be "t1", "t2" or "pd", got ${JSON.stringify(imageType)}`);
  }
  const prior = options.prior ?? d.prior;
  if (!['ppf', 'mrf', 'atlas', 'none'].includes(prior)) {
    throw new RangeError(`prior must be "ppf", "mrf", "atlas" or "none", got ${JSON.stringify(prior)}`);
  }
  const beta = options.beta ?? d.beta[prior];
  if (!(beta >= 0) || !Number.isFinite(beta))
    throw new RangeError(`beta must be a finite number >= 0, got ${beta}`);
  if (beta > 20) {
    // larger ones make the prior of every class but one underflow (0.1-2 is usual)
    throw new RangeError(`beta must be at most 20 (0.1 to 2 is usual), got ${beta}`);
  }
  const atlas = options.atlas ?? [];
  if (prior === 'atlas' && atlas.length === 0) {
    throw new RangeError('prior "atlas" needs the atlas maps (one tissue-probability volume per class)');
  }
  if (atlas.length > 0 && atlas.length !== nClasses) {
    throw new RangeError(
      `the atlas needs one map per class: got ${atlas.length} maps for ${nClasses} classes`,
    );
  }
  const atlasWeight = checkUnit('atlasWeight', options.atlasWeight ?? d.atlasWeight);
  const bias = options.biasCorrection ?? true;
  let biasCorrection: Required<BiasCorrectionOptions> | false = false;
  if (bias !== false) {
    const given = bias === true ? {} : bias;
    biasCorrection = {
      fwhm: given.fwhm ?? d.bias.fwhm,
      rounds: given.rounds ?? d.bias.rounds,
      iterations: given.iterations ?? d.bias.iterations,
    };
    if (!(biasCorrection.fwhm > 0 && Number.isFinite(biasCorrection.fwhm))) {
      throw new RangeError(`biasCorrection.fwhm must be > 0 mm, got ${biasCorrection.fwhm}`);
    }
    for (const key of ['rounds', 'iterations'] as const) {
      const value = biasCorrection[key];
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`biasCorrection.${key} must be an integer >= 1, got ${value}`);
      }
    }
  }
  const robustGiven = options.robust ?? true;
  let robust: Required<RobustEstimationOptions> | false = false;
  if (robustGiven !== false) {
    const given = robustGiven === true ? {} : robustGiven;
    robust = {
      spikes: given.spikes ?? d.robust.spikes,
      winsorise: given.winsorise ?? d.robust.winsorise,
      outlierWeight: checkUnit('robust.outlierWeight', given.outlierWeight ?? d.robust.outlierWeight, true),
    };
  }
  const covarianceShrinkage = checkUnit(
    'covarianceShrinkage',
    options.covarianceShrinkage ?? d.covarianceShrinkage,
  );
  const labelTol = resolveLabelTol(options.labelTol);
  const nInit = options.nInit ?? d.nInit;
  if (!Number.isInteger(nInit) || nInit < 1)
    throw new RangeError(`nInit must be an integer >= 1, got ${nInit}`);
  const maxIter = options.maxIter ?? d.maxIter;
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new RangeError(`maxIter must be an integer >= 1, got ${maxIter}`);
  const tol = options.tol ?? d.tol;
  if (!(tol >= 0) || !Number.isFinite(tol))
    throw new RangeError(`tol must be a finite number >= 0, got ${tol}`);
  const seed = options.seed ?? d.seed;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  return {
    nClasses,
    imageType,
    prior,
    beta,
    classWeightPower: checkUnit('classWeightPower', options.classWeightPower ?? d.classWeightPower),
    atlas: atlas.map((map) => map.source.path),
    atlasWeight,
    biasCorrection,
    partialVolume: resolvePartialVolume(options.partialVolume),
    robust,
    covarianceType: options.covarianceType ?? d.covarianceType,
    covarianceShrinkage,
    nInit,
    seed,
    maxIter,
    tol,
    labelTol,
    preparation: options.preparation ?? d.preparation,
    probabilities: options.probabilities ?? d.probabilities,
    classNames: resolveClassNames(options.classNames, nClasses),
    mask: describeMask(options.mask),
    neighbourhood: options.neighbourhood ?? {},
    potts: options.potts ?? {},
  };
}

/** The given class names, or CSF, GM, WM for K = 3, else class1..classK. */
export function resolveClassNames(classNames: string[] | undefined, nClasses: number): string[] {
  const names =
    classNames ??
    (nClasses === 3 ? ['CSF', 'GM', 'WM'] : Array.from({ length: nClasses }, (_, k) => `class${k + 1}`));
  if (names.length !== nClasses) {
    throw new RangeError(`classNames has ${names.length} names for ${nClasses} classes`);
  }
  return names;
}

/** The labelTol option, checked: default 0.001, from 0 (off) to below 1. */
export function resolveLabelTol(labelTol: number | undefined): number {
  const value = labelTol ?? DEFAULT_SEGMENT_OPTIONS.labelTol;
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`labelTol must be a number from 0 (off) to below 1, got ${labelTol}`);
  }
  return value;
}

/** How the mask option is recorded in the resolved options. */
export function describeMask(mask: SegmentOptions['mask']): string {
  return mask === undefined ? 'nonzero' : typeof mask === 'string' ? mask : mask.source.path;
}

function resolvePartialVolume(
  given: SegmentOptions['partialVolume'],
): Required<PartialVolumeSettings> | false {
  if (given === false) return false;
  const settings = given === undefined || given === true ? {} : given;
  const mixelCap = settings.mixelCap ?? DEFAULT_SEGMENT_OPTIONS.partialVolume.mixelCap;
  if (!(mixelCap > 0))
    throw new RangeError(`partialVolume.mixelCap must be a number > 0 (Infinity: no cap), got ${mixelCap}`);
  return { mixelCap };
}
