/**
 * The tabulated pass for integer-valued single-feature data (8/16-bit MR intensities): the
 * per-component densities are computed once per distinct value, and the loop over samples does
 * only lookups and multiply-adds; responsibilities are accumulated per distinct value and turned
 * into moments at the end, in O(distinct values) (docs/algorithms.md, section 1.5,
 * `#tabulated-passes`).
 */
import type { Components } from './components.ts';
import {
  applyPrior,
  BlockScratch,
  Normaliser,
  type PassInput,
  runKernel,
  writeResponsibilities,
} from './fused-pass.ts';
import type { IntegerBins } from './integer-bins.ts';
import { kernelFor } from './kernels.ts';
import { BLOCK, componentBase, logDensities, scaleByMaxima } from './log-densities.ts';
import type { SufficientStatistics } from './maximization-step.ts';

/** Scratch memory of the tabulated pass, reused across iterations. */
export interface TabulatedScratch {
  /** nBins x K scaled densities exp(a_k(v) - max_k a_k(v)) */
  densities: Float64Array;
  /** nBins: max_k a_k(v) */
  maxima: Float64Array;
  /** nBins: sum_k of the scaled densities (used without a prior) */
  sums: Float64Array;
  /** nBins x K: accumulated weighted responsibilities */
  binResponsibilities: Float64Array;
}

export function allocateTabulatedScratch(bins: IntegerBins, nComponents: number): TabulatedScratch {
  return {
    densities: new Float64Array(bins.nBins * nComponents),
    maxima: new Float64Array(bins.nBins),
    sums: new Float64Array(bins.nBins),
    binResponsibilities: new Float64Array(bins.nBins * nComponents),
  };
}

/**
 * Fills the tables with the scaled densities, their maxima and sums at every occupied value (K
 * exponentials per distinct value, not per sample), and counts the maxima into the normaliser.
 */
function tabulate(
  bins: IntegerBins,
  tables: TabulatedScratch,
  components: Components,
  base: Float64Array,
  scratch: BlockScratch,
  normaliser: Normaliser,
): void {
  const K = components.nComponents;
  const { occupied, minimum, binWeights } = bins;
  const { values, maxima, sums, features: x } = scratch;
  for (let start = 0; start < occupied.length; start += BLOCK) {
    const n = Math.min(BLOCK, occupied.length - start);
    for (let i = 0; i < n; i++) x[i] = minimum + occupied[start + i]!;
    logDensities(components, base, x, BLOCK, n, values, maxima, scratch.densityScratch);
    scaleByMaxima(values, maxima, K, BLOCK, n, values, sums);
    for (let i = 0; i < n; i++) {
      const b = occupied[start + i]!;
      for (let k = 0; k < K; k++) tables.densities[b * K + k] = values[k * BLOCK + i]!;
      tables.maxima[b] = maxima[i]!;
      tables.sums[b] = sums[i]!;
      normaliser.maxSum += binWeights[b]! * maxima[i]!;
    }
  }
}

/** The tabulated pass: statistics must have been reset (centres set) by the caller. */
export function tabulatedPass(
  input: PassInput,
  bins: IntegerBins,
  tables: TabulatedScratch,
  components: Components,
  statistics: SufficientStatistics,
): void {
  const { nSamples: N, prior, responsibilities } = input;
  const { nComponents: K } = components;
  const { densities, binResponsibilities } = tables;
  const index = bins.index!;
  const { occupied, minimum } = bins;
  const base = componentBase(components, !prior);
  const scratch = new BlockScratch(K, 1);
  const normaliser = new Normaliser();
  tabulate(bins, tables, components, base, scratch, normaliser);
  binResponsibilities.fill(0);

  const kernel = kernelFor({
    nComponents: K,
    nFeatures: 1,
    prior: prior !== undefined,
    weighted: input.sampleWeights !== undefined,
    responsibilities: responsibilities !== undefined,
    fullSecondMoments: false,
    kind: 'tabulated',
  });
  const { values, sums, maxima, scales } = scratch;
  if (kernel) {
    const binStatistics = { ...statistics, logLikelihoodSum: 0, sumWeights: 0 };
    runKernel(kernel, input, components, binStatistics, base, scratch, {
      index,
      densities,
      densitySums: tables.sums,
      binResponsibilities,
      maxima: tables.maxima,
    });
    normaliser.weightedLog += binStatistics.logLikelihoodSum;
    normaliser.sumWeights += binStatistics.sumWeights;
  }
  for (let start = 0; !kernel && start < N; start += BLOCK) {
    const n = Math.min(BLOCK, N - start);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      for (let i = 0; i < n; i++) values[o + i] = densities[index[start + i]! * K + k]!;
    }
    if (prior) {
      applyPrior(prior, K, scratch, start, n);
    } else {
      for (let i = 0; i < n; i++) sums[i] = tables.sums[index[start + i]!]!;
    }
    for (let i = 0; i < n; i++) maxima[i] = tables.maxima[index[start + i]!]!;
    normaliser.block(input, components, scratch, start, n, true);
    if (responsibilities) writeResponsibilities(responsibilities, K, scratch, start, n);
    for (let k = 0; k < K; k++) {
      const o = k * BLOCK;
      for (let i = 0; i < n; i++)
        binResponsibilities[index[start + i]! * K + k]! += values[o + i]! * scales[i]!;
    }
  }

  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  for (let j = 0; j < occupied.length; j++) {
    const b = occupied[j]!;
    const x = minimum + b;
    for (let k = 0; k < K; k++) {
      const r = binResponsibilities[b * K + k]!;
      const v = x - c[k]!;
      nk[k]! += r;
      s1[k]! += r * v;
      s2[k]! += r * v * v;
    }
  }
  statistics.logLikelihoodSum += normaliser.logLikelihoodSum;
  statistics.sumWeights += normaliser.sumWeights;
}
