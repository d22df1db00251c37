/**
 * The EM driver: resolves options once, chooses how the E-step visits the data, and owns the
 * restarts, the iteration cap, the tolerance, re-seeding of emptied components and the per-sample
 * prior hook. Which passes run is planned in pass-plan.ts; the passes themselves live in
 * fused-pass.ts and tabulated-pass.ts, the M-step in maximization-step.ts.
 */
import { type Components, sortComponentsByMean, toGaussianMixture, updatePrecisions } from './components.ts';
import { directPass, type PassInput } from './fused-pass.ts';
import {
  componentsFromParameters,
  componentsFromResponsibilities,
  globalMoments,
  initialComponents,
  jitterScale,
} from './initialise.ts';
import {
  allocateStatistics,
  maximizationStep,
  needsFullSecondMoments,
  resetStatistics,
} from './maximization-step.ts';
import { mostProbableComponent } from './most-probable-component.ts';
import { type ResolvedOptions, resolveOptions } from './options.ts';
import { initSetFor, type Plan, planPasses } from './pass-plan.ts';
import { evaluateComponents } from './prediction.ts';
import { createRandom } from './random.ts';
import { allocateTabulatedScratch, tabulatedPass } from './tabulated-pass.ts';
import type {
  FitEvent,
  FloatArray,
  GaussianMixtureFit,
  GaussianMixtureOptions,
  SampleMatrix,
  StopReason,
} from './types.ts';

/** How many times one component may be re-seeded in one start before it is left empty. */
const MAX_RESEEDS = 3;

interface StartResult {
  components: Components;
  converged: boolean;
  stopReason: StopReason;
  nIter: number;
  trace: number[];
  events: FitEvent[];
}

/** Index of the sample the current mixture explains worst (lowest log-likelihood). */
function worstExplainedSample(components: Components, data: SampleMatrix): number {
  const logLikelihoods = new Float64Array(data.nSamples);
  evaluateComponents(components, data, { logLikelihoods });
  let worst = 0;
  for (let i = 1; i < logLikelihoods.length; i++) if (logLikelihoods[i]! < logLikelihoods[worst]!) worst = i;
  return worst;
}

function runStart(
  start: number,
  initial: Components,
  plan: Plan,
  options: ResolvedOptions,
  globalCovariance: Float64Array,
  buffers: { responsibilities: Float32Array | undefined; hookPrior: Float32Array | undefined },
): StartResult {
  const components = initial;
  const { nComponents: K, nFeatures: D } = components;
  const statistics = allocateStatistics(K, D);
  const scratch = plan.strategy === 'tabulated' ? allocateTabulatedScratch(plan.bins!, K) : undefined;
  const events: FitEvent[] = [];
  const trace: number[] = [];
  const reseeds = new Int32Array(K);
  const jitter = jitterScale(options.regCovar);
  let prior: FloatArray | undefined = options.prior;
  // the most probable component of each sample at the previous E-step, for labelTol
  const labels = options.labelTol > 0 ? new Int32Array(plan.passData.nSamples) : undefined;
  let previous = -Infinity;
  let changedByHand = true;
  let converged = false;
  let stopReason: StopReason = 'max-iterations';
  let nIter = 0;

  for (let iteration = 1; ; iteration++) {
    resetStatistics(statistics, components.means);
    const input: PassInput = {
      data: plan.passData.data,
      nSamples: plan.passData.nSamples,
      nFeatures: plan.passData.nFeatures,
      sampleWeights: plan.passWeights,
      prior,
      // The histogram strategy passes over bins, not samples: its responsibilities come after.
      responsibilities: plan.strategy === 'histogram' ? undefined : buffers.responsibilities,
      fullSecondMoments: needsFullSecondMoments(components.covarianceType),
    };
    if (plan.strategy === 'tabulated') tabulatedPass(input, plan.bins!, scratch!, components, statistics);
    else directPass(input, components, statistics);
    const meanLogLikelihood = statistics.logLikelihoodSum / statistics.sumWeights;
    trace.push(meanLogLikelihood);
    options.onIteration?.({ init: start, iteration, meanLogLikelihood });
    const labelChange = labels
      ? updateLabels(buffers.responsibilities!, K, labels, plan.passWeights, iteration === 1)
      : Number.NaN;
    if (!changedByHand && Math.abs(meanLogLikelihood - previous) < options.tol) {
      converged = true;
      stopReason = 'tolerance';
      break;
    }
    if (!changedByHand && labelChange <= options.labelTol * statistics.sumWeights) {
      converged = true;
      stopReason = 'labels-stable';
      break;
    }
    if (nIter >= options.maxIter) break;
    previous = meanLogLikelihood;
    changedByHand = false;

    const empty = maximizationStep(statistics, components, options.regCovar, options.covarianceShrinkage);
    nIter++;
    for (const k of empty) {
      if (reseeds[k]! >= MAX_RESEEDS) {
        if (reseeds[k] === MAX_RESEEDS) {
          events.push({
            init: start,
            iteration: nIter,
            kind: 'component-empty',
            component: k,
            message: `component ${k} emptied again after ${MAX_RESEEDS} re-seeds; it is left with weight ~0`,
          });
          reseeds[k]!++;
        }
        continue;
      }
      // Re-seed at the sample the others explain worst, with the data's covariance.
      const worst = worstExplainedSample(components, plan.passData);
      for (let d = 0; d < D; d++) components.means[k * D + d] = plan.passData.data[worst * D + d]!;
      components.covariances.set(globalCovariance, k * D * D);
      components.weights[k] = 1 / K;
      let sum = 0;
      for (let j = 0; j < K; j++) sum += components.weights[j]!;
      for (let j = 0; j < K; j++) components.weights[j] = components.weights[j]! / sum;
      reseeds[k]!++;
      changedByHand = true;
      events.push({
        init: start,
        iteration: nIter,
        kind: 'component-reseeded',
        component: k,
        message: `component ${k} received no samples; re-seeded at the worst-explained sample`,
      });
    }
    for (const k of updatePrecisions(components, () => jitter)) {
      events.push({
        init: start,
        iteration: nIter,
        kind: 'covariance-regularised',
        component: k,
        message: `covariance of component ${k} was not positive definite; its diagonal was increased`,
      });
    }
    if (options.updatePrior) {
      options.updatePrior({
        iteration: nIter,
        responsibilities: buffers.responsibilities!,
        model: toGaussianMixture(components),
        prior: buffers.hookPrior!,
      });
      prior = buffers.hookPrior;
    }
  }
  return { components, converged, stopReason, nIter, trace, events };
}

/**
 * Stores each sample's most probable component (first on ties) in `labels` and returns the
 * weight of the samples whose component changed (NaN on the first call, which only stores).
 */
function updateLabels(
  responsibilities: Float32Array,
  K: number,
  labels: Int32Array,
  weights: FloatArray | undefined,
  first: boolean,
): number {
  let changed = 0;
  for (let i = 0; i < labels.length; i++) {
    const best = mostProbableComponent(responsibilities, i, K);
    if (labels[i] !== best) {
      changed += weights ? weights[i]! : 1;
      labels[i] = best;
    }
  }
  return first ? Number.NaN : changed;
}

/** Reorders the columns of an N x K matrix: new column j is old column order[j]. */
function permuteColumns(matrix: Float32Array, order: number[]): void {
  const K = order.length;
  const row = new Float32Array(K);
  for (let offset = 0; offset < matrix.length; offset += K) {
    for (let k = 0; k < K; k++) row[k] = matrix[offset + order[k]!]!;
    matrix.set(row, offset);
  }
}

/**
 * Fits a K-component Gaussian mixture to N samples of D features by expectation-maximisation.
 *
 * @param samples N x D row-major samples (Float32Array or Float64Array).
 * @param options see {@link GaussianMixtureOptions}; every field has a default.
 * @returns the model (plain serialisable data, components ordered by ascending mean of feature 0
 *   unless the order is fixed) and a report of the fit: log-likelihood trace, iterations,
 *   whether and why it stopped, restarts' scores, handled degeneracies.
 * @throws RangeError or TypeError for invalid data or options (e.g. a NaN sample, named by index).
 */
export function fitGaussianMixture(
  samples: SampleMatrix,
  options: GaussianMixtureOptions = {},
): GaussianMixtureFit {
  const resolved = resolveOptions(samples, options);
  const { nComponents: K, covarianceType } = resolved;
  const plan = planPasses(samples, resolved);
  const warnings: string[] = [];
  if (plan.bins) {
    let distinct = 0;
    for (const b of plan.bins.occupied) if (plan.bins.binWeights[b]! > 0) distinct++;
    if (distinct < K) {
      warnings.push(
        `the data hold ${distinct} distinct value(s), fewer than nComponents = ${K}: some components cannot be told apart`,
      );
    }
  }

  const hasHook = resolved.updatePrior !== undefined;
  const buffers = {
    responsibilities:
      resolved.responsibilities ??
      (hasHook || resolved.labelTol > 0 ? new Float32Array(samples.nSamples * K) : undefined),
    hookPrior: hasHook ? new Float32Array(samples.nSamples * K) : undefined,
  };
  // Deterministic initialisations give the same start every time: run it once.
  const nStarts =
    resolved.initialParameters || resolved.initialResponsibilities || resolved.init === 'quantile'
      ? 1
      : resolved.nInit;

  let best: StartResult | undefined;
  let bestInit = 0;
  const initScores: number[] = [];
  for (let start = 0; start < nStarts; start++) {
    const set = initSetFor(samples, plan, resolved, start);
    const { covariance } = globalMoments(set, resolved.regCovar);
    const initial = resolved.initialResponsibilities
      ? componentsFromResponsibilities(
          {
            data: samples.data,
            weights: resolved.sampleWeights,
            nSamples: samples.nSamples,
            nFeatures: samples.nFeatures,
          },
          { matrix: resolved.initialResponsibilities },
          K,
          covarianceType,
          resolved.regCovar,
        )
      : resolved.initialParameters
        ? componentsFromParameters(
            resolved.initialParameters,
            K,
            samples.nFeatures,
            covarianceType,
            resolved.summary.variances,
            resolved.regCovar,
          )
        : initialComponents(
            set,
            resolved.init,
            K,
            covarianceType,
            resolved.regCovar,
            resolved.kmeansMaxIter,
            createRandom(resolved.seed, start),
          );
    const result = runStart(start, initial, plan, resolved, covariance, buffers);
    const finalScore = result.trace[result.trace.length - 1]!;
    initScores.push(finalScore);
    if (best === undefined || finalScore > best.trace[best.trace.length - 1]!) {
      best = result;
      bestInit = start;
    }
  }
  const result = best!;
  if (resolved.responsibilities && (bestInit !== nStarts - 1 || plan.strategy === 'histogram')) {
    // The buffer holds the last start's responsibilities (or none, after passes over the
    // histogram's bins): evaluate the kept model on the samples once more.
    const statistics = allocateStatistics(K, samples.nFeatures);
    resetStatistics(statistics, result.components.means);
    const input: PassInput = {
      data: samples.data,
      nSamples: samples.nSamples,
      nFeatures: samples.nFeatures,
      sampleWeights: resolved.sampleWeights,
      prior: resolved.prior,
      responsibilities: resolved.responsibilities,
      fullSecondMoments: false,
    };
    // integer data: densities tabulated per distinct value, as the tabulated strategy does
    if (plan.bins?.index) {
      tabulatedPass(input, plan.bins, allocateTabulatedScratch(plan.bins, K), result.components, statistics);
    } else {
      directPass(input, result.components, statistics);
    }
  }
  if (resolved.componentOrder === 'mean') {
    const order = sortComponentsByMean(result.components);
    if (resolved.responsibilities && order.some((from, to) => from !== to)) {
      permuteColumns(resolved.responsibilities, order);
    }
  }
  if (!result.converged) {
    const n = result.trace.length;
    const gain = n > 1 ? result.trace[n - 1]! - result.trace[n - 2]! : Number.NaN;
    warnings.push(
      `did not converge in maxIter = ${resolved.maxIter} iterations (last gain ${gain.toExponential(2)} > tol = ${resolved.tol}); ` +
        'increase maxIter, or tol',
    );
  }
  for (const event of result.events) if (event.kind === 'component-empty') warnings.push(event.message);
  return {
    model: toGaussianMixture(result.components),
    converged: result.converged,
    stopReason: result.stopReason,
    nIter: result.nIter,
    meanLogLikelihood: result.trace[result.trace.length - 1]!,
    logLikelihoodTrace: result.trace,
    nSamples: samples.nSamples,
    sumWeights: resolved.summary.sumWeights,
    initScores,
    bestInit,
    strategy: plan.strategy,
    regCovar: Array.from(resolved.regCovar),
    events: result.events,
    warnings,
  };
}
