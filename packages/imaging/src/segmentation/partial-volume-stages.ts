/**
 * The stages of a single-channel segmentation with the partial-volume mixture
 * (docs/algorithms.md, sections 5-7): the intensities are put on a lattice; candidate starts (the
 * best of several seeded plain fits, and a start from the tissue order of the image type) are each
 * refined as a partial-volume mixture and the most likely one that does not contradict the image
 * type is kept; rounds of bias-field correction follow; then EM again with the spatial prior on
 * the classes.
 */
import {
  fitGaussianMixture,
  fitPartialVolumeMixture,
  type GaussianMixture,
  type PartialVolumeFit,
  type PartialVolumeMixture,
  type PartialVolumeOptions,
  type PriorUpdate,
} from '@mixseg/core';
import { biasFieldEstimator } from './bias-field.ts';
import type { ChannelRobustness } from './robust-intensities.ts';
import type { ImageType, ResolvedSegmentOptions } from './segment-options.ts';

/** Steps of the lattice the intensities are put on (tables that stay in cache). */
export const LATTICE_STEPS = 4096;

/** Intensity x is stored as round((x - origin) / step). */
export interface Lattice {
  origin: number;
  step: number;
}

/**
 * The lattice for values in [low, high]: integer data spanning at most LATTICE_STEPS values keep
 * their own integers (step 1, exact); anything else gets LATTICE_STEPS steps over the range.
 */
export function intensityLattice(low: number, high: number, integerValued: boolean): Lattice {
  if (!(high > low)) return { origin: low, step: 1 };
  if (integerValued && high - low <= LATTICE_STEPS) return { origin: low, step: 1 };
  return { origin: low, step: (high - low) / LATTICE_STEPS };
}

/** Lattice values of x / field (clamped to a band around the lattice). */
export function latticeValues(
  values: ArrayLike<number>,
  field: ArrayLike<number> | undefined,
  lattice: Lattice,
  out: Float32Array,
): void {
  const { origin, step } = lattice;
  const low = -LATTICE_STEPS;
  const high = 2 * LATTICE_STEPS;
  for (let i = 0; i < out.length; i++) {
    const x = field ? values[i]! / field[i]! : values[i]!;
    const v = Math.round((x - origin) / step);
    out[i] = v < low ? low : Math.min(v, high);
  }
}

/** A partial-volume model on the lattice, mapped to intensity units (or back, with `inverse`). */
export function modelInIntensityUnits(
  model: PartialVolumeMixture,
  lattice: Lattice,
  inverse = false,
): PartialVolumeMixture {
  const { origin, step } = lattice;
  const map = inverse ? (x: number) => (x - origin) / step : (x: number) => origin + step * x;
  const scale = inverse ? 1 / (step * step) : step * step;
  return {
    ...model,
    means: model.means.map(map),
    variances: model.variances.map((v) => v * scale),
    weights: [...model.weights],
    pairs: model.pairs.map(([a, b]) => [a, b] as [number, number]),
    pairWeights: [...model.pairWeights],
    outlier: model.outlier
      ? { ...model.outlier, low: map(model.outlier.low), high: map(model.outlier.high) }
      : null,
  };
}

/** Each class's share of the voxels it holds the majority of (pure, and half of each mixel class). */
export function classShares(model: PartialVolumeMixture): number[] {
  const shares = [...model.weights];
  model.pairs.forEach(([a, b], p) => {
    // fraction steps t >= 1/2 belong to a: with an even number of steps, half of them
    const steps = model.nSteps;
    const toA = Math.ceil(steps / 2) / steps;
    shares[a]! += model.pairWeights[p]! * toA;
    shares[b]! += model.pairWeights[p]! * (1 - toA);
  });
  const total = shares.reduce((x, y) => x + y, 0);
  return shares.map((s) => (total > 0 ? s / total : 1 / shares.length));
}

/** The pure classes of a partial-volume model as a one-feature Gaussian mixture (weights: class shares). */
export function pureClassesAsGaussianMixture(model: PartialVolumeMixture): GaussianMixture {
  return {
    covarianceType: 'full',
    nComponents: model.nClasses,
    nFeatures: 1,
    weights: classShares(model),
    means: model.means.map((m) => [m]),
    covariances: model.variances.map((v) => [[v]]),
    precisionsCholesky: model.variances.map((v) => [[1 / Math.sqrt(v)]]),
  };
}

/** Below this share of a brain mask, a tissue class of a three-class segmentation is implausible. */
const MINIMUM_CLASS_SHARE = 0.05;

/**
 * Why a three-class model contradicts the image type, or undefined: the classes must come in the
 * type's intensity order, "CSF" must not hold more of a brain mask than GM and WM together, and no
 * tissue may hold under 5 % of it (a class that took a bright lesion or one tail of another).
 */
export function contradictsImageType(
  means: number[],
  shares: number[],
  imageType: ImageType,
  classNames: string[],
): string | undefined {
  const ascending = imageType === 't1';
  for (let k = 0; k + 1 < means.length; k++) {
    if (ascending ? !(means[k]! < means[k + 1]!) : !(means[k]! > means[k + 1]!)) {
      return `the class means are not in the ${imageType.toUpperCase()} order (${classNames.join(ascending ? ' < ' : ' > ')})`;
    }
  }
  if (means.length === 3 && shares[0]! > shares[1]! + shares[2]!) {
    return `"${classNames[0]}" takes ${(100 * shares[0]!).toFixed(0)}% of the mask, more than ${classNames[1]} and ${classNames[2]} together`;
  }
  for (let k = 0; k < shares.length; k++) {
    if (shares[k]! < MINIMUM_CLASS_SHARE) {
      return `"${classNames[k]}" takes only ${(100 * shares[k]!).toFixed(1)}% of the mask`;
    }
  }
  return undefined;
}

/** What the single-channel stages need of the subject. */
export interface SingleChannelInput {
  /** The (winsorised) intensities in the mask, length N. */
  values: Float32Array;
  weights: Float32Array | undefined;
  robustness: ChannelRobustness;
  grid: { dims: [number, number, number]; spacing: [number, number, number]; voxelIndices: Uint32Array };
  /** Atlas class probabilities (N x K), when an atlas is used. */
  atlas: Float32Array | undefined;
  /** The spatial term for given class weights (undefined for no spatial prior). */
  spatialPrior: (classWeights: number[]) => PriorUpdate | undefined;
  onIteration:
    | ((stage: 'mixture' | 'spatial', iteration: number, meanLogLikelihood: number) => void)
    | undefined;
}

/** One stage's fits, in intensity units. */
export interface SingleChannelFits {
  mixture: PartialVolumeFit[];
  /** Mean log-likelihood of each candidate start, and which was kept. */
  candidates: { name: string; meanLogLikelihood: number; contradiction: string | undefined }[];
  spatial: PartialVolumeFit | undefined;
}

/** The result of the single-channel stages. */
export interface SingleChannelResult {
  /** The final model, in (bias-corrected) intensity units. */
  model: PartialVolumeMixture;
  fits: SingleChannelFits;
  responsibilities: Float32Array;
  fractions: Float32Array;
  inliers: Float32Array;
  /** The multiplicative bias field at each sample, or undefined. */
  biasField: Float64Array | undefined;
  /** log(step): subtract from a lattice fit's log-likelihoods to get them per intensity unit. */
  logStep: number;
  /** Seconds of the spatial stage. */
  spatialSeconds: number;
  warnings: string[];
}

/** Tissue-order start: the darkest (T1) or brightest (T2, PD) 5 % for CSF, the median, the 95th percentile. */
function tissueOrderStart(
  sorted: Float32Array,
  K: number,
  imageType: ImageType,
  spread: number,
): { means: number[]; variances: number[] } {
  const n = sorted.length;
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.floor(p * n)))]!;
  const tail = Math.max(1, Math.floor(0.05 * n));
  let low = 0;
  let high = 0;
  for (let i = 0; i < tail; i++) {
    low += sorted[i]!;
    high += sorted[n - 1 - i]!;
  }
  low /= tail;
  high /= tail;
  const ascending: number[] = [];
  for (let k = 0; k < K; k++) {
    if (K === 1) ascending.push(at(0.5));
    else if (k === 0) ascending.push(low);
    else if (k === K - 1) ascending.push(at(0.95));
    else ascending.push(at(0.5 * (k / (K - 1)) + 0.25));
  }
  if (imageType !== 't1' && K > 1) {
    ascending[K - 1] = high;
    ascending[0] = at(0.05);
  }
  const means = imageType === 't1' ? ascending : ascending.reverse();
  return { means, variances: new Array<number>(K).fill((spread / 2) ** 2) };
}

/** Runs the stages. */
export function fitSingleChannel(
  input: SingleChannelInput,
  options: ResolvedSegmentOptions,
): SingleChannelResult {
  const K = options.nClasses;
  const { values, weights, robustness, grid } = input;
  const N = values.length;
  const warnings: string[] = [];
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < N; i++) {
    const x = values[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  const lattice = intensityLattice(low, high, robustness.integerValued);
  const logStep = Math.log(lattice.step);
  const unit = (x: number) => x / lattice.step;
  const spread = unit(robustness.robustScale);
  // regularisation, in lattice units: no class narrower than the quantisation (and the lattice's
  // own rounding) or 1 % of the robust spread; a weak conjugate prior centred on the median
  const quantisation = robustness.integerValued ? unit(1) : 0;
  const varianceFloor = (quantisation * quantisation + 1) / 12 + (0.01 * spread) ** 2;
  const regularisation: Partial<PartialVolumeOptions> = {
    sampleWeights: weights,
    covarianceShrinkage: options.covarianceShrinkage,
    varianceFloor,
    parameterPrior: { mean: unit(robustness.median - lattice.origin), scale: (spread * spread) / (K * K) },
    tol: options.tol,
    pairWeightCap: options.partialVolume ? options.partialVolume.mixelCap : Infinity,
  };
  const outlierWeight = options.robust ? options.robust.outlierWeight : 0;
  const pairs = adjacentInOrder(K);
  const shift = (fit: PartialVolumeFit): PartialVolumeFit => ({
    ...fit,
    meanLogLikelihood: fit.meanLogLikelihood - logStep,
    logLikelihoodTrace: fit.logLikelihoodTrace.map((v) => v - logStep),
  });
  let mixtureIteration = 0;
  const mixtureProgress = (event: { meanLogLikelihood: number }) =>
    input.onIteration?.('mixture', ++mixtureIteration, event.meanLogLikelihood - logStep);

  // 1. candidate starts: the best of the seeded plain fits, and the tissue order of the image type
  const starts: { name: string; means: number[]; variances: number[]; weights?: number[] }[] = [];
  const startData = new Float32Array(N);
  latticeValues(values, undefined, lattice, startData);
  const startSamples = { data: startData, nSamples: N, nFeatures: 1 };
  if (input.atlas) {
    starts.push({ name: 'atlas-weighted moments', ...weightedMoments(startData, weights, input.atlas, K) });
  } else {
    const plain = fitGaussianMixture(startSamples, {
      nComponents: K,
      nInit: options.nInit,
      seed: options.seed,
      sampleWeights: weights,
      covarianceShrinkage: options.covarianceShrinkage,
      regCovar: varianceFloor,
      maxIter: options.maxIter,
      tol: options.tol,
    });
    const order = plain.model.means.map((_, k) => k);
    if (options.imageType !== 't1') order.reverse();
    starts.push({
      name: `best of ${options.nInit} k-means starts`,
      means: order.map((k) => plain.model.means[k]![0]!),
      variances: order.map((k) => plain.model.covariances[k]![0]![0]!),
      weights: order.map((k) => plain.model.weights[k]!),
    });
    if (K > 1) {
      const sorted = sortedKept(startData, weights);
      starts.push({ name: 'tissue order', ...tissueOrderStart(sorted, K, options.imageType, spread) });
    }
  }
  // Bias-field correction: the field explains each voxel's intensity as b_i times its expected
  // bias-free intensity (the fraction-weighted class means). Starts are compared on the likelihood
  // of their corrected data (the field has geometric mean 1, so no Jacobian term differs): a start
  // that splits a tissue across a strong field loses to one that corrects it.
  const responsibilities = new Float32Array(N * K);
  const fractions = new Float32Array(N * K);
  const inliers = new Float32Array(N);
  const outputs = { responsibilities, fractions, inliers };
  const classPrior = input.atlas ? { prior: input.atlas } : {};
  const estimate = options.biasCorrection
    ? biasFieldEstimator(grid, { fwhm: options.biasCorrection.fwhm })
    : undefined;
  // in intensity units, as the field estimate takes them
  const expectations = {
    means: new Float64Array(estimate ? N : 0),
    variances: new Float64Array(estimate ? N : 0),
    origin: lattice.origin,
    step: lattice.step,
  };
  const fieldWeights = new Float32Array(estimate ? N : 0);
  interface Candidate {
    name: string;
    samples: { data: Float32Array; nSamples: number; nFeatures: number };
    model: PartialVolumeMixture;
    field: Float64Array | undefined;
    fits: PartialVolumeFit[];
    rounds: number;
    contradiction: string | undefined;
    meanLogLikelihood: number;
  }
  const correcting = options.biasCorrection !== false && estimate !== undefined;
  // each fit ends with what the next bias-field estimate needs: each voxel's expected bias-free
  // intensity and noise variance (on the lattice) and its inlier probability, in shared buffers;
  // `outputsOf` says whose they are
  const next = correcting ? { expectations, inliers } : {};
  let outputsOf: Candidate | undefined;
  const judge = (candidate: Candidate) => {
    candidate.contradiction =
      K === 3
        ? contradictsImageType(
            candidate.model.means,
            classShares(candidate.model),
            options.imageType,
            options.classNames,
          )
        : undefined;
    candidate.meanLogLikelihood = candidate.fits[candidate.fits.length - 1]!.meanLogLikelihood;
  };
  const firstFit = (start: (typeof starts)[number]): Candidate | undefined => {
    const data = new Float32Array(N);
    latticeValues(values, undefined, lattice, data);
    const samples = { data, nSamples: N, nFeatures: 1 };
    const first = fitPartialVolumeMixture(samples, {
      ...regularisation,
      ...classPrior,
      initialParameters: start,
      pairs,
      outlierWeight,
      nSteps: PARTIAL_VOLUME_STEPS,
      maxIter: options.maxIter,
      onIteration: mixtureProgress,
      ...next,
    });
    // a start that converged to the model of an earlier one would repeat its bias rounds
    if (firstModels.some((seen) => sameModel(seen, first.model, spread))) return undefined;
    firstModels.push(first.model);
    const candidate: Candidate = {
      name: start.name,
      samples,
      model: first.model,
      field: undefined,
      fits: [shift(first)],
      rounds: 0,
      contradiction: undefined,
      meanLogLikelihood: Number.NaN,
    };
    outputsOf = candidate;
    judge(candidate);
    return candidate;
  };
  /** `count` more rounds of (estimate the field, correct, refit) for a candidate. */
  const correct = (candidate: Candidate, count: number) => {
    if (!options.biasCorrection || !estimate || count <= 0) return;
    const { rounds, iterations } = options.biasCorrection;
    const { samples } = candidate;
    const field = candidate.field ?? new Float64Array(N).fill(1);
    candidate.field = field;
    if (outputsOf !== candidate) {
      fitPartialVolumeMixture(samples, {
        ...regularisation,
        ...classPrior,
        initialModel: candidate.model,
        fixedParameters: true,
        maxIter: 0,
        ...next,
      });
    }
    outputsOf = candidate;
    for (let round = 0; round < count; round++) {
      if (weights) for (let i = 0; i < N; i++) fieldWeights[i] = inliers[i]! * weights[i]!;
      else fieldWeights.set(inliers);
      estimate.fromExpectations(values, expectations.means, expectations.variances, fieldWeights, field);
      latticeValues(values, field, lattice, samples.data);
      candidate.rounds++;
      const refit = fitPartialVolumeMixture(samples, {
        ...regularisation,
        ...classPrior,
        initialModel: candidate.model,
        maxIter: iterations,
        onIteration: mixtureProgress,
        ...(candidate.rounds < rounds ? next : {}),
      });
      candidate.fits.push(shift(refit));
      candidate.model = refit.model;
    }
    judge(candidate);
  };
  // 2. each start is refined as a partial-volume mixture and through a first round of bias-field
  // correction; the start kept does not contradict the image type and, among those, is the most
  // likely on its corrected data; it goes through the remaining rounds
  const firstModels: PartialVolumeMixture[] = [];
  const refined = starts.map(firstFit).filter((c): c is Candidate => c !== undefined);
  for (const candidate of refined) correct(candidate, refined.length > 1 ? 1 : 0);
  let best: Candidate | undefined;
  for (const candidate of refined) {
    const better =
      !best ||
      (best.contradiction !== undefined && candidate.contradiction === undefined) ||
      ((best.contradiction === undefined) === (candidate.contradiction === undefined) &&
        candidate.meanLogLikelihood > best.meanLogLikelihood);
    if (better) best = candidate;
  }
  const candidates: SingleChannelFits['candidates'] = refined.map((c) => ({
    name: c.name,
    meanLogLikelihood: c.meanLogLikelihood,
    contradiction: c.contradiction,
  }));
  if (options.biasCorrection) correct(best!, options.biasCorrection.rounds - best!.rounds);
  const { samples, field: biasField } = best!;
  let model = best!.model;
  const mixtureFits = best!.fits;

  // 3. the spatial stage
  const spatialStarted = performance.now();
  let spatial: PartialVolumeFit | undefined;
  const shares = classShares(model).map((w) => Math.max(w, 1e-6) ** options.classWeightPower);
  const update = input.spatialPrior(shares);
  if (update) {
    let spatialIteration = 0;
    spatial = shift(
      fitPartialVolumeMixture(samples, {
        ...regularisation,
        ...classPrior,
        initialModel: model,
        updatePrior: update,
        maxIter: options.maxIter,
        labelTol: options.labelTol,
        ...outputs,
        onIteration: (event) =>
          input.onIteration?.('spatial', ++spatialIteration, event.meanLogLikelihood - logStep),
      }),
    );
    model = spatial.model;
  } else {
    fitPartialVolumeMixture(samples, {
      ...regularisation,
      ...classPrior,
      initialModel: model,
      fixedParameters: true,
      maxIter: 0,
      ...outputs,
    });
  }
  if (best!.contradiction) {
    warnings.push(`every start contradicts the image type ${options.imageType}: ${best!.contradiction}`);
  }
  return {
    model: modelInIntensityUnits(model, lattice),
    fits: { mixture: mixtureFits, candidates, spatial },
    responsibilities,
    fractions,
    inliers,
    biasField,
    logStep,
    spatialSeconds: (performance.now() - spatialStarted) / 1000,
    warnings,
  };
}

/** The lattice values of the samples with weight > 0, sorted (a counting sort: they are integers). */
function sortedKept(data: Float32Array, weights: Float32Array | undefined): Float32Array {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (weights && !(weights[i]! > 0)) continue;
    const x = data[i]!;
    if (x < low) low = x;
    if (x > high) high = x;
  }
  if (!(high >= low)) return new Float32Array(0);
  const counts = new Uint32Array(high - low + 1);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (weights && !(weights[i]! > 0)) continue;
    counts[data[i]! - low]!++;
    n++;
  }
  const sorted = new Float32Array(n);
  for (let b = 0, j = 0; b < counts.length; b++) {
    sorted.fill(low + b, j, j + counts[b]!);
    j += counts[b]!;
  }
  return sorted;
}

/**
 * Whether two fits converged to the same model: every mean within 1 % of the robust spread, every
 * standard deviation and weight within 1 % (relative) of each other.
 */
function sameModel(a: PartialVolumeMixture, b: PartialVolumeMixture, spread: number): boolean {
  const close = (x: number, y: number, tolerance: number) => Math.abs(x - y) <= tolerance;
  return a.means.every(
    (mean, k) =>
      close(mean, b.means[k]!, 0.01 * spread) &&
      close(Math.sqrt(a.variances[k]!), Math.sqrt(b.variances[k]!), 0.01 * Math.sqrt(a.variances[k]!)) &&
      close(a.weights[k]!, b.weights[k]!, 0.01),
  );
}

/** Fraction steps of each mixel class. */
const PARTIAL_VOLUME_STEPS = 12;

/** Pairs of classes adjacent in label order: (0, 1), (1, 2), ... */
function adjacentInOrder(K: number): [number, number][] {
  return Array.from({ length: Math.max(K - 1, 0) }, (_, k) => [k, k + 1] as [number, number]);
}

/** Class means and variances of the data weighted by given class probabilities (N x K). */
function weightedMoments(
  data: Float32Array,
  weights: Float32Array | undefined,
  probabilities: Float32Array,
  K: number,
): { means: number[]; variances: number[]; weights: number[] } {
  const n = new Float64Array(K);
  const s1 = new Float64Array(K);
  const s2 = new Float64Array(K);
  for (let i = 0; i < data.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (!(w > 0)) continue;
    const x = data[i]!;
    for (let k = 0; k < K; k++) {
      const r = w * probabilities[i * K + k]!;
      n[k]! += r;
      s1[k]! += r * x;
      s2[k]! += r * x * x;
    }
  }
  const means = Array.from(n, (nk, k) => (nk > 0 ? s1[k]! / nk : 0));
  const variances = Array.from(n, (nk, k) => (nk > 0 ? Math.max(s2[k]! / nk - means[k]! ** 2, 1) : 1));
  return { means, variances, weights: Array.from(n) };
}
