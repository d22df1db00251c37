/**
 * Fits a partial-volume mixture (partial-volume-model.ts) to integer-valued single-feature data by
 * generalised EM: pure classes, mixel classes between given pairs, an optional uniform outlier
 * class, and an optional per-sample prior on the classes (a spatial prior plugs in through the
 * same `updatePrior` hook as fitGaussianMixture's). Classes are "majority" classes: the
 * responsibility of class k is the probability that k holds the majority of the voxel, and the
 * fractions are the posterior mean share of each class in the voxel.
 */

import { buildIntegerBins, type IntegerBins } from './integer-bins.ts';
import { partialVolumeMaximisation } from './partial-volume-maximisation.ts';
import { type PartialVolumeMixture, refreshSubComponents, subComponents } from './partial-volume-model.ts';
import { type PartialVolumeOptions, resolvePartialVolumeOptions } from './partial-volume-options.ts';
import { writeBinOutputs, writeSampleOutputs } from './partial-volume-outputs.ts';
import { histogramPass, type PassResult, samplePass } from './partial-volume-pass.ts';
import { allocatePartialVolumeTables, fillTables, fractionTables } from './partial-volume-tables.ts';
import type { FloatArray, SampleMatrix, StopReason } from './types.ts';

/** The result of {@link fitPartialVolumeMixture}. */
export interface PartialVolumeFit {
  model: PartialVolumeMixture;
  converged: boolean;
  stopReason: StopReason;
  /** M-steps (or prior updates, with fixed parameters) done. */
  nIter: number;
  meanLogLikelihood: number;
  /** Mean log-likelihood per sample at every E-step. */
  logLikelihoodTrace: number[];
  sumWeights: number;
  /** Classes whose pure responsibility vanished at some M-step (their parameters were kept). */
  emptyClasses: number[];
  warnings: string[];
}

/**
 * Fits a partial-volume mixture to N samples of one integer-valued feature (MR intensities, or
 * intensities put on a lattice) spanning at most 65536 values.
 * @throws RangeError or TypeError for invalid data or options
 */
export function fitPartialVolumeMixture(
  samples: SampleMatrix,
  options: PartialVolumeOptions,
): PartialVolumeFit {
  const { model, minimum, maximum, regularisation, maxIter, tol, labelTol } = resolvePartialVolumeOptions(
    samples,
    options,
  );
  const { data, nSamples: N } = samples;
  const K = model.nClasses;
  const { sampleWeights, updatePrior, expectations } = options;
  const subs = subComponents(model);

  const perSample =
    options.prior !== undefined ||
    updatePrior !== undefined ||
    labelTol > 0 ||
    options.responsibilities !== undefined ||
    options.fractions !== undefined ||
    options.inliers !== undefined ||
    expectations !== undefined;
  const bins: IntegerBins = buildIntegerBins(data, sampleWeights, minimum, maximum, perSample);
  const tables = allocatePartialVolumeTables(bins, K, subs.length);
  // the per-sample passes run while a prior or label tracking needs them; otherwise EM runs over
  // the distinct values and one per-sample pass at the end fills the outputs
  const iterateOnSamples = options.prior !== undefined || updatePrior !== undefined || labelTol > 0;
  const labels = iterateOnSamples && labelTol > 0 ? new Uint8Array(N) : undefined;
  const responsibilities =
    options.responsibilities ??
    (updatePrior || (iterateOnSamples && (options.fractions || expectations))
      ? new Float32Array(N * K)
      : undefined);
  const hookPrior = updatePrior ? new Float32Array(N * K) : undefined;
  let prior: FloatArray | undefined = options.prior;

  const trace: number[] = [];
  const emptyClasses = new Set<number>();
  let converged = false;
  let stopReason: StopReason = 'max-iterations';
  let nIter = 0;
  let previous = -Infinity;
  let last: PassResult | undefined;
  for (let iteration = 1; ; iteration++) {
    fillTables(model, subs, bins, tables);
    last = iterateOnSamples
      ? samplePass(
          { nSamples: N, sampleWeights, prior, responsibilities, inliers: options.inliers, labels },
          bins,
          tables,
          K,
        )
      : histogramPass(bins, tables, K);
    const meanLogLikelihood = last.logLikelihoodSum / last.sumWeights;
    trace.push(meanLogLikelihood);
    options.onIteration?.({ iteration, meanLogLikelihood });
    const gainSmall = iteration > 1 && Math.abs(meanLogLikelihood - previous) < tol;
    if (gainSmall && !(options.fixedParameters && updatePrior)) {
      converged = true;
      stopReason = 'tolerance';
      break;
    }
    if (iteration > 1 && labels && last.changed <= labelTol * last.sumWeights) {
      converged = true;
      stopReason = 'labels-stable';
      break;
    }
    if (nIter >= maxIter || (options.fixedParameters && !updatePrior)) break;
    previous = meanLogLikelihood;
    if (!options.fixedParameters) {
      for (const k of partialVolumeMaximisation(model, subs, bins, tables, regularisation))
        emptyClasses.add(k);
      refreshSubComponents(model, subs);
    }
    nIter++;
    if (updatePrior) {
      updatePrior({ iteration: nIter, responsibilities: responsibilities!, model, prior: hookPrior! });
      prior = hookPrior;
    }
  }
  if (
    !iterateOnSamples &&
    (options.responsibilities || options.fractions || options.inliers || expectations)
  ) {
    // no per-sample prior: every output depends on the sample's value alone, so it is computed once
    // per distinct value and copied to the samples
    fillTables(model, subs, bins, tables);
    writeBinOutputs(bins, tables, fractionTables(model, subs, bins, tables), model, {
      responsibilities: options.responsibilities,
      fractions: options.fractions,
      inliers: options.inliers,
      expectations,
    });
  } else if (options.fractions || expectations) {
    const fractions = options.fractions ?? new Float32Array(N * K);
    const table = fractionTables(model, subs, bins, tables);
    writeSampleOutputs(responsibilities!, bins.index!, table, model, fractions, expectations);
  }
  const warnings: string[] = [];
  if (!converged && maxIter > 0 && !options.fixedParameters) {
    warnings.push(`the partial-volume mixture did not converge in maxIter = ${maxIter} iterations`);
  }
  for (const k of emptyClasses)
    warnings.push(`class ${k} received no pure samples at some iteration; its mean and variance were kept`);
  return {
    model,
    converged,
    stopReason,
    nIter,
    meanLogLikelihood: trace[trace.length - 1]!,
    logLikelihoodTrace: trace,
    sumWeights: last!.sumWeights,
    emptyClasses: [...emptyClasses].sort((a, b) => a - b),
    warnings,
  };
}
