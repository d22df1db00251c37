/**
 * Segmentation with a model fitted before (on this subject or another), without fitting: the
 * `mixseg segment --model` path. The parameters stay fixed; only the labels are computed, by the
 * model's posterior probabilities, with the spatial prior (when one is chosen) recomputed from the
 * responsibilities until no label changes, as the spatial stage of {@link segment} does between
 * its iterations. With `biasCorrection` (for a model fitted with it: the model is in the units of
 * bias-corrected intensities) the subject's own bias field is estimated with the model held fixed,
 * in the rounds segment() runs; without it the model applies to the intensities as given.
 */
import {
  fitPartialVolumeMixture,
  type GaussianMixture,
  mostProbableComponent,
  type PartialVolumeMixture,
  predictProba,
  score,
  validateGaussianMixture,
  validatePartialVolumeMixture,
} from '@mixseg/core';
import type { Volume } from '../types.ts';
import { biasFieldEstimator } from './bias-field.ts';
import {
  classShares,
  intensityLattice,
  latticeValues,
  modelInIntensityUnits,
  pureClassesAsGaussianMixture,
} from './partial-volume-stages.ts';
import {
  labelOutputs,
  type Segmentation,
  type SegmentOptions,
  type StageReport,
  spatialPrior,
  subjectFeatures,
} from './segment.ts';
import {
  DEFAULT_SEGMENT_OPTIONS,
  describeMask,
  resolveClassNames,
  resolveLabelTol,
} from './segment-options.ts';

/** Options of {@link applyModel}: those of {@link segment} that do not concern fitting. */
export type ApplyModelOptions = Pick<
  SegmentOptions,
  | 'prior'
  | 'beta'
  | 'neighbourhood'
  | 'potts'
  | 'classWeightPower'
  | 'biasCorrection'
  | 'maxIter'
  | 'labelTol'
  | 'preparation'
  | 'mask'
  | 'probabilities'
  | 'classNames'
  | 'onIteration'
>;

/**
 * Labels, probabilities and statistics of one subject under a given model (components in label
 * order, as {@link segment} returns them): a Gaussian mixture, or (one channel) a partial-volume
 * mixture, which also gives the fraction maps. The result has the shape of {@link segment}'s:
 * `mixture` reports no iterations (nothing is fitted) and the model's mean log-likelihood on the
 * data; `spatial`, with a prior, reports the prior updates.
 *
 * @throws {TypeError} when `model` is not a valid Gaussian or partial-volume mixture.
 * @throws {RangeError} when the model's number of features is not the number of channels, or for
 *   bad options (as {@link segment}).
 * @throws {ImageFileError} for channels on different grids or an empty mask.
 */
export function applyModel(
  channels: Volume[],
  model: GaussianMixture | PartialVolumeMixture,
  options: ApplyModelOptions = {},
): Segmentation {
  const partialVolume = 'pairs' in model;
  if (partialVolume) validatePartialVolumeMixture(model);
  else validateGaussianMixture(model);
  const first = channels[0];
  if (!first) throw new RangeError('at least one channel is needed');
  const nFeatures = partialVolume ? 1 : (model as GaussianMixture).nFeatures;
  if (nFeatures !== channels.length) {
    throw new RangeError(
      `the model has ${nFeatures} feature(s) (channels), the subject has ${channels.length} channel(s)`,
    );
  }
  const K = partialVolume ? (model as PartialVolumeMixture).nClasses : (model as GaussianMixture).nComponents;
  const prior = options.prior ?? 'ppf';
  if (!['ppf', 'mrf', 'none'].includes(prior)) {
    throw new RangeError(`prior must be "ppf", "mrf" or "none", got ${JSON.stringify(prior)}`);
  }
  const maxIter = options.maxIter ?? 200;
  if (!Number.isInteger(maxIter) || maxIter < 1) {
    throw new RangeError(`maxIter must be a positive integer, got ${maxIter}`);
  }
  const labelTol = resolveLabelTol(options.labelTol);
  const classNames = resolveClassNames(options.classNames, K);
  const beta = options.beta ?? DEFAULT_SEGMENT_OPTIONS.beta[prior];
  const classWeightPower = options.classWeightPower ?? DEFAULT_SEGMENT_OPTIONS.classWeightPower;
  const bias = options.biasCorrection ?? false;
  const biasCorrection =
    bias === false
      ? false
      : {
          fwhm: (bias === true ? undefined : bias.fwhm) ?? DEFAULT_SEGMENT_OPTIONS.bias.fwhm,
          rounds: (bias === true ? undefined : bias.rounds) ?? DEFAULT_SEGMENT_OPTIONS.bias.rounds,
          iterations:
            (bias === true ? undefined : bias.iterations) ?? DEFAULT_SEGMENT_OPTIONS.bias.iterations,
        };
  const seconds = (start: number) => (performance.now() - start) / 1000;

  let started = performance.now();
  const preparation = options.preparation ?? 'none';
  const { mask, features } = subjectFeatures(channels, options.mask, preparation);
  const { samples, voxelIndices } = features;
  const featuresTime = seconds(started);
  const grid = { dims: first.dims, spacing: first.spacing, voxelIndices };
  const N = samples.nSamples;
  const responsibilities = new Float32Array(N * K);
  const gaussian = partialVolume
    ? pureClassesAsGaussianMixture(model as PartialVolumeMixture)
    : (model as GaussianMixture);
  const classWeights = (partialVolume ? classShares(model as PartialVolumeMixture) : gaussian.weights).map(
    (w) => Math.max(w, 1e-6) ** classWeightPower,
  );
  const update =
    prior === 'none'
      ? undefined
      : spatialPrior(grid, classWeights, {
          prior,
          beta,
          neighbourhood: options.neighbourhood ?? {},
          potts: options.potts ?? {},
        });

  started = performance.now();
  let fractions: Float32Array | undefined;
  let mixture: StageReport;
  let spatial: StageReport | undefined;
  let spatialTime = 0;
  let biasFields: Float64Array[] | undefined;
  if (partialVolume) {
    // on a lattice over the data's range, as segment() fits it
    let low = Infinity;
    let high = -Infinity;
    let integerValued = true;
    for (let i = 0; i < N; i++) {
      const x = samples.data[i]!;
      if (x < low) low = x;
      if (x > high) high = x;
      if (integerValued && Math.floor(x) !== x) integerValued = false;
    }
    const lattice = intensityLattice(low, high, integerValued);
    const data = new Float32Array(N);
    latticeValues(samples.data, undefined, lattice, data);
    const latticeModel = modelInIntensityUnits(model as PartialVolumeMixture, lattice, true);
    fractions = new Float32Array(N * K);
    const lattices = { data, nSamples: N, nFeatures: 1 };
    const logStep = Math.log(lattice.step);
    if (biasCorrection) {
      // the subject's own field, with the model held fixed: each round explains the intensities as
      // b_i times their expected bias-free intensity under the model, then corrects them
      const estimate = biasFieldEstimator(grid, { fwhm: biasCorrection.fwhm });
      const field = new Float64Array(N).fill(1);
      const expectations = {
        means: new Float64Array(N),
        variances: new Float64Array(N),
        origin: lattice.origin,
        step: lattice.step,
      };
      const inliers = new Float32Array(N);
      for (let round = 0; round < biasCorrection.rounds; round++) {
        fitPartialVolumeMixture(lattices, {
          initialModel: latticeModel,
          fixedParameters: true,
          maxIter: 0,
          expectations,
          inliers,
        });
        estimate.fromExpectations(samples.data, expectations.means, expectations.variances, inliers, field);
        latticeValues(samples.data, field, lattice, data);
      }
      biasFields = [field];
    }
    const plain = fitPartialVolumeMixture(lattices, {
      initialModel: latticeModel,
      fixedParameters: true,
      maxIter: 0,
      responsibilities,
      fractions,
    });
    mixture = fixedReport(plain.meanLogLikelihood - logStep);
    const spatialStarted = performance.now();
    if (update) {
      let iteration = 0;
      const fit = fitPartialVolumeMixture(lattices, {
        initialModel: latticeModel,
        fixedParameters: true,
        updatePrior: update,
        maxIter,
        labelTol: Math.max(labelTol, 0),
        responsibilities,
        fractions,
        onIteration: (event) =>
          options.onIteration?.({
            stage: 'spatial',
            iteration: ++iteration,
            meanLogLikelihood: event.meanLogLikelihood - logStep,
          }),
      });
      spatial = {
        converged: fit.converged,
        stopReason: fit.stopReason,
        nIter: fit.nIter,
        meanLogLikelihood: fit.meanLogLikelihood - logStep,
        logLikelihoodTrace: fit.logLikelihoodTrace.map((v) => v - logStep),
        strategy: 'tabulated',
        initScores: [],
        warnings: fit.converged ? [] : [`labels still changed at maxIter = ${maxIter}`],
      };
    }
    spatialTime = seconds(spatialStarted);
  } else {
    if (biasCorrection) {
      // one field for every channel, from the first, with the model held fixed (as segment() shares
      // the first channel's field)
      const D = samples.nFeatures;
      const estimate = biasFieldEstimator(grid, { fwhm: biasCorrection.fwhm });
      const field = new Float64Array(N).fill(1);
      // in each channel's own units (the preparation undone), where the field is multiplicative
      const { transforms } = features;
      const raw = Float32Array.from(
        samples.data,
        (x, e) => x * transforms[e % D]!.scale + transforms[e % D]!.offset,
      );
      const first = new Float64Array(N);
      for (let i = 0; i < N; i++) first[i] = raw[i * D]!;
      const { scale, offset } = transforms[0]!;
      const means = gaussian.means.map((m) => m[0]! * scale + offset);
      const variances = gaussian.covariances.map((c) => c[0]![0]! * scale * scale);
      for (let round = 0; round < biasCorrection.rounds; round++) {
        predictProba(gaussian, samples, { out: responsibilities });
        estimate(first, responsibilities, means, variances, field);
        for (let i = 0; i < N; i++) {
          for (let d = 0; d < D; d++) {
            const t = transforms[d]!;
            samples.data[i * D + d] = (raw[i * D + d]! / field[i]! - t.offset) / t.scale;
          }
        }
      }
      biasFields = [field];
    }
    predictProba(gaussian, samples, { out: responsibilities });
    const meanLogLikelihood = score(gaussian, samples);
    mixture = fixedReport(meanLogLikelihood);
    const spatialStarted = performance.now();
    if (update) {
      const priorValues = new Float32Array(N * K);
      const labels = new Uint8Array(N);
      for (let i = 0; i < N; i++) labels[i] = mostProbableComponent(responsibilities, i, K);
      let iteration = 0;
      let changed = N;
      let stable = false;
      while (!stable && iteration < maxIter) {
        iteration++;
        update({ iteration, responsibilities, model: gaussian, prior: priorValues });
        predictProba(gaussian, samples, { prior: priorValues, out: responsibilities });
        changed = 0;
        for (let i = 0; i < N; i++) {
          const label = mostProbableComponent(responsibilities, i, K);
          if (label !== labels[i]) changed++;
          labels[i] = label;
        }
        stable = changed <= labelTol * N;
        options.onIteration?.({ stage: 'spatial', iteration, meanLogLikelihood });
      }
      spatial = {
        converged: stable,
        stopReason: stable ? 'labels-stable' : 'max-iterations',
        nIter: iteration,
        meanLogLikelihood,
        logLikelihoodTrace: [],
        strategy: 'direct',
        initScores: [],
        warnings: stable ? [] : [`${changed} labels still changed at maxIter = ${maxIter}`],
      };
    }
    spatialTime = seconds(spatialStarted);
  }
  const mixtureTime = seconds(started) - spatialTime;

  started = performance.now();
  const probabilities = options.probabilities ?? true;
  const outputs = labelOutputs(
    channels,
    responsibilities,
    voxelIndices,
    { probabilities, classNames },
    fractions,
  );
  return {
    ...outputs,
    model: gaussian,
    partialVolume: partialVolume ? (model as PartialVolumeMixture) : undefined,
    mixture,
    spatial,
    biasFields: biasFields?.map((field) => {
      const full = new Float32Array(first.data.length);
      for (let i = 0; i < N; i++) full[voxelIndices[i]!] = field[i]!;
      return full;
    }),
    mask,
    nonFinite: features.nonFinite,
    robust: undefined,
    warnings: [],
    options: {
      ...DEFAULT_SEGMENT_OPTIONS,
      nClasses: K,
      prior,
      beta,
      classWeightPower,
      atlas: [],
      biasCorrection,
      robust: false,
      partialVolume: partialVolume ? { mixelCap: Infinity } : false,
      covarianceType: gaussian.covarianceType,
      covarianceShrinkage: 0,
      nInit: 0,
      maxIter,
      tol: 0,
      labelTol,
      preparation,
      probabilities,
      classNames,
      mask: describeMask(options.mask),
      neighbourhood: options.neighbourhood ?? {},
      potts: options.potts ?? {},
    },
    timings: {
      features: featuresTime,
      mixture: mixtureTime,
      spatial: spatialTime,
      outputs: seconds(started),
    },
  };
}

function fixedReport(meanLogLikelihood: number): StageReport {
  return {
    converged: true,
    stopReason: 'tolerance',
    nIter: 0,
    meanLogLikelihood,
    logLikelihoodTrace: [meanLogLikelihood],
    strategy: 'direct',
    initScores: [],
    warnings: [],
  };
}
