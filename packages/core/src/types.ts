/**
 * Shared types of @mixseg/core. Voxel-scale data is always a flat row-major typed array plus its
 * shape; everything small (K components of D features) is plain JSON-friendly number arrays.
 */

import type { PartialVolumeMixture } from './partial-volume-model.ts';

/** A flat typed array of floating-point numbers. */
export type FloatArray = Float32Array | Float64Array;

/** N samples of D features, row-major: feature d of sample i is `data[i * nFeatures + d]`. */
export interface SampleMatrix {
  data: FloatArray;
  nSamples: number;
  nFeatures: number;
}

/**
 * How component covariances are parameterised, as in scikit-learn:
 * `full` one D x D matrix per component; `tied` one D x D matrix shared by all components;
 * `diag` one diagonal per component; `spherical` one variance per component.
 */
export type CovarianceType = 'full' | 'tied' | 'diag' | 'spherical';

/**
 * How a fit starts.
 * - `kmeans`: k-means++ seeding then Lloyd iterations (scikit-learn's default `kmeans`), on a
 *   seeded subsample of at most `initSampleSize` samples.
 * - `kmeans++`: k-means++ seeding only (scikit-learn's `k-means++`): each sample goes to its
 *   nearest seed.
 * - `quantile`: D = 1 only; component k takes the samples between quantiles k/K and (k+1)/K.
 *   Deterministic, so restarts beyond the first are skipped.
 * - `random`: random responsibilities (scikit-learn's `random`).
 * Warm starts use {@link GaussianMixtureOptions.initialParameters} instead.
 */
export type InitMethod = 'kmeans' | 'kmeans++' | 'quantile' | 'random';

/**
 * How the E-step visits the data (all give the same model up to round-off).
 * - `direct`: one fused pass over the samples computing densities, responsibilities and the
 *   M-step statistics.
 * - `tabulated`: D = 1 integer-valued data; per-component densities are computed once per
 *   distinct value each iteration, and the pass over samples does only lookups and multiply-adds.
 * - `histogram`: D = 1 integer-valued data without per-sample priors; EM runs on the weighted
 *   histogram of distinct values, O(distinct values) per iteration.
 * - `auto`: the fastest one that applies.
 */
export type EStepStrategy = 'auto' | 'direct' | 'tabulated' | 'histogram';

/**
 * Why a fit stopped: the log-likelihood gain fell below `tol`, the most probable component of at
 * most a fraction `labelTol` of the samples changed since the previous E-step, or `maxIter`.
 */
export type StopReason = 'tolerance' | 'labels-stable' | 'max-iterations';

/** How components are ordered in the result. */
export type ComponentOrder = 'mean' | 'fixed';

/** The parameters of a Gaussian mixture: plain serialisable data. */
export interface GaussianMixture {
  covarianceType: CovarianceType;
  nComponents: number;
  nFeatures: number;
  /** Mixing weights pi_k, length K, summing to 1. */
  weights: number[];
  /** Component means, K x D. */
  means: number[][];
  /**
   * Component covariances, always K x D x D whatever the covariance type (tied: K equal copies;
   * diag and spherical: zero off the diagonal), regularisation included.
   */
  covariances: number[][][];
  /**
   * Precision Cholesky factors, K x D x D, upper triangular: precision_k = U_k U_k^T
   * (scikit-learn's `precisions_cholesky_` convention).
   */
  precisionsCholesky: number[][][];
}

/** Initial parameters for a warm start. Precisions are derived from the covariances. */
export interface InitialParameters {
  weights?: number[];
  means: number[][];
  /** K x D x D; or, shorthand, K variances for D = 1 (or per-component spherical variances). */
  covariances?: number[][][] | number[];
}

/** What the prior-update hook receives between iterations. */
export interface PriorUpdateContext {
  /** Iteration just completed (1-based). */
  iteration: number;
  /** Responsibilities of the E-step just done, N x K row-major (read-only by convention). */
  responsibilities: Float32Array;
  /** The parameters after this iteration's M-step (a partial-volume mixture's, in its fit). */
  model: GaussianMixture | PartialVolumeMixture;
  /**
   * The prior for the next E-step, N x K row-major, in the probability (not log) domain.
   * Write into it; rows need not be normalised but must not be all zero.
   */
  prior: Float32Array;
}

/**
 * Called between EM iterations to recompute the per-sample prior from the current
 * responsibilities: how spatial priors plug in without core knowing about images.
 */
export type PriorUpdate = (context: PriorUpdateContext) => void;

/** Options of {@link fitGaussianMixture}. Every field has a default. */
export interface GaussianMixtureOptions {
  /** Number of components K. Default 3. */
  nComponents?: number;
  /** Default `full`. */
  covarianceType?: CovarianceType;
  /**
   * Non-negative value added to covariance diagonals. Default: 1e-6 times each feature's robust
   * variance, (IQR / 1.349)^2 (scale-aware, and not inflated by a few extreme samples; 1e-6 when a
   * feature is constant).
   */
  regCovar?: number;
  /**
   * Shrinks each component's covariance towards the pooled (tied) covariance:
   * Sigma_k <- (1 - lambda) Sigma_k + lambda Sigma_pooled, as in Friedman's regularised
   * discriminant analysis. 0 (default) is the maximum-likelihood fit, 1 is `tied`. Keeps one
   * class from growing broad on partial-volume voxels while another collapses onto its peak.
   * Ignored for `tied`.
   */
  covarianceShrinkage?: number;
  /** Stop when the gain in mean log-likelihood per sample is below this. Default 1e-6. */
  tol?: number;
  /**
   * Also stop when the most probable component changed for at most this fraction of the samples
   * (weighted) since the previous E-step: the criterion of FSL FAST and ANTs Atropos for spatial
   * priors, whose objective changes with the prior, so that the likelihood gain creeps on long
   * after the labels have settled. 0 (default) turns it off. Needs per-sample passes, so the
   * `histogram` strategy is not used with it.
   */
  labelTol?: number;
  /** Maximum number of EM iterations (M-steps) per start. Default 500. */
  maxIter?: number;
  /** Number of starts; the one with the highest final log-likelihood is kept. Default 1. */
  nInit?: number;
  /** Default `kmeans`. Ignored when `initialParameters` is given. */
  init?: InitMethod;
  /** Warm start from given parameters (skips `init`; `nInit` must be 1). */
  initialParameters?: InitialParameters;
  /**
   * Start from these responsibilities instead (N x K, sample-major, each row summing to 1; used
   * as given): the first M-step runs on them over all samples, e.g. atlas probabilities or another
   * fit's posteriors. Skips `init`; `nInit` must be 1; not with `initialParameters`.
   */
  initialResponsibilities?: FloatArray;
  /** Seed of the one PRNG behind every random choice. Default 0. */
  seed?: number;
  /** Samples used by initialisation (seeded subsample). Default 100000. */
  initSampleSize?: number;
  /** Lloyd iterations of `kmeans` initialisation. Default 100. */
  kmeansMaxIter?: number;
  /** Non-negative per-sample weights, length N (e.g. histogram counts). */
  sampleWeights?: FloatArray;
  /** Per-sample prior probabilities replacing pi_k in the E-step, N x K (need not be normalised). */
  prior?: FloatArray;
  /** The same prior in the log domain (give `prior` or `logPrior`, not both). */
  logPrior?: FloatArray;
  /** Recomputes the prior from the responsibilities between iterations. */
  updatePrior?: PriorUpdate;
  /** Default `auto`. */
  strategy?: EStepStrategy;
  /**
   * `mean` sorts components by ascending mean of feature 0 (then 1, ...); `fixed` keeps them as
   * initialised. Default `mean`, or `fixed` when a per-sample prior fixes the order.
   */
  componentOrder?: ComponentOrder;
  /**
   * When given (N x K), receives the responsibilities of the returned model, from the final
   * E-step (so no extra pass over the data is needed); columns follow the returned component order.
   */
  responsibilities?: Float32Array;
  /** Called after every iteration (for progress bars). */
  onIteration?: (event: IterationEvent) => void;
}

/** Progress of a fit, reported after each iteration. */
export interface IterationEvent {
  /** 0-based index of the start. */
  init: number;
  /** 1-based iteration within the start. */
  iteration: number;
  meanLogLikelihood: number;
}

/** Something a fit handled on purpose (an emptied component re-seeded, say). */
export interface FitEvent {
  init: number;
  iteration: number;
  kind: 'component-reseeded' | 'component-empty' | 'covariance-regularised';
  component: number;
  message: string;
}

/** The result of {@link fitGaussianMixture}: the model plus how the fit went. */
export interface GaussianMixtureFit {
  model: GaussianMixture;
  converged: boolean;
  stopReason: StopReason;
  /** EM iterations (M-steps) of the kept start. */
  nIter: number;
  /** Mean log-likelihood per sample (weighted) of the returned model on the data. */
  meanLogLikelihood: number;
  /** Mean log-likelihood at each E-step of the kept start, the last being the returned model's. */
  logLikelihoodTrace: number[];
  nSamples: number;
  /** Sum of sample weights (N when unweighted). */
  sumWeights: number;
  /** Final mean log-likelihood of each start. */
  initScores: number[];
  /** Index of the kept start. */
  bestInit: number;
  /** The E-step strategy used. */
  strategy: Exclude<EStepStrategy, 'auto'>;
  /** The resolved regularisation added to each feature's variance. */
  regCovar: number[];
  /** Degenerate situations that were handled. */
  events: FitEvent[];
  /** Human-readable cautions (e.g. fewer distinct values than components). */
  warnings: string[];
}
