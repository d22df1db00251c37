/**
 * How a fit visits the data: which E-step strategy runs (direct, tabulated, or EM over the
 * histogram of distinct values), over which samples, and which samples initialisation sees.
 */
import { tabulationUnavailable } from './data-summary.ts';
import { type InitSet, subsample } from './initialise.ts';
import { binsAsSamples, buildIntegerBins, type IntegerBins } from './integer-bins.ts';
import type { ResolvedOptions } from './options.ts';
import { createRandom } from './random.ts';
import type { EStepStrategy, FloatArray, SampleMatrix } from './types.ts';

/** The passes of a fit. */
export interface Plan {
  strategy: Exclude<EStepStrategy, 'auto'>;
  /** Integer bins of feature 0 when the data can be tabulated. */
  bins: IntegerBins | undefined;
  /** The samples the passes run over (the histogram's bins for the histogram strategy). */
  passData: SampleMatrix;
  passWeights: FloatArray | undefined;
}

/** Chooses the strategy (the fastest that applies, for `auto`) and bins integer data. */
export function planPasses(samples: SampleMatrix, options: ResolvedOptions): Plan {
  const { summary } = options;
  const tabulable = tabulationUnavailable(samples.nFeatures, summary) === undefined;
  const perSample = options.prior !== undefined || options.updatePrior !== undefined || options.labelTol > 0;
  let strategy: Plan['strategy'];
  if (options.strategy === 'auto') strategy = tabulable ? (perSample ? 'tabulated' : 'histogram') : 'direct';
  else strategy = options.strategy;
  const bins = tabulable
    ? buildIntegerBins(
        samples.data,
        options.sampleWeights,
        summary.minimum,
        summary.maximum,
        // the index also serves the final pass that fills a responsibilities output
        strategy === 'tabulated' || options.responsibilities !== undefined,
      )
    : undefined;
  if (strategy === 'histogram') {
    const { values, weights } = binsAsSamples(bins!);
    return {
      strategy,
      bins,
      passData: { data: values, nSamples: values.length, nFeatures: 1 },
      passWeights: weights,
    };
  }
  return { strategy, bins, passData: samples, passWeights: options.sampleWeights };
}

/** The samples initialisation works on for one start (a seeded subsample of large data). */
export function initSetFor(
  samples: SampleMatrix,
  plan: Plan,
  options: ResolvedOptions,
  start: number,
): InitSet {
  if (plan.bins) {
    const { values, weights } = binsAsSamples(plan.bins);
    return { data: values, weights, nSamples: values.length, nFeatures: 1 };
  }
  const { nSamples: N, nFeatures: D } = samples;
  if (N <= options.initSampleSize) {
    return { data: samples.data, weights: options.sampleWeights, nSamples: N, nFeatures: D };
  }
  const random = createRandom(options.seed, 1000 + start);
  return subsample(
    samples.data,
    options.sampleWeights,
    N,
    D,
    options.summary.sumWeights,
    options.initSampleSize,
    random,
  );
}
