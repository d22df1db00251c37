import { afterEach, describe, expect, it } from 'vitest';
import { allocateComponents, type Components, updatePrecisions } from '../src/components.ts';
import { directPass, type PassInput } from '../src/fused-pass.ts';
import { buildIntegerBins } from '../src/integer-bins.ts';
import { kernelFor, setGeneratedKernelsEnabled } from '../src/kernels.ts';
import {
  allocateLogDensityScratch,
  componentBase,
  logDensities,
  scaleByMaxima,
} from '../src/log-densities.ts';
import { allocateStatistics, resetStatistics, type SufficientStatistics } from '../src/maximization-step.ts';
import { createRandom, type Random } from '../src/random.ts';
import { allocateTabulatedScratch, tabulatedPass } from '../src/tabulated-pass.ts';
import type { CovarianceType } from '../src/types.ts';

const COVARIANCE_TYPES: CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];

/** A random positive-definite covariance of the given type (tied: the same for every k). */
function randomComponents(type: CovarianceType, K: number, D: number, random: Random): Components {
  const components = allocateComponents(type, K, D);
  const shared = randomCovariance(type, D, random);
  for (let k = 0; k < K; k++) {
    components.weights[k] = (1 + random.nextFloat()) / (1.5 * K);
    for (let d = 0; d < D; d++) components.means[k * D + d] = 100 * k + 20 * random.nextNormal();
    components.covariances.set(type === 'tied' ? shared : randomCovariance(type, D, random), k * D * D);
  }
  updatePrecisions(components, () => {
    throw new Error('not positive definite');
  });
  return components;
}

function randomCovariance(type: CovarianceType, D: number, random: Random): Float64Array {
  const out = new Float64Array(D * D);
  const scale = 50 + 400 * random.nextFloat();
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      if (i === j) out[i * D + j] = type === 'spherical' ? scale : scale * (0.5 + random.nextFloat());
      else if (type === 'full' || type === 'tied') out[i * D + j] = 0.2 * scale * (i + j === 1 ? 1 : -0.5);
    }
  }
  return out;
}

/** Naive log pi_k + log N(x | mu_k, Sigma_k) through the precision matrix U U^T. */
function naiveLogDensity(components: Components, x: ArrayLike<number>, k: number): number {
  const { nFeatures: D, means, precisionsCholesky: U, covariances } = components;
  let q = 0;
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let precision = 0;
      for (let m = 0; m < D; m++) precision += U[k * D * D + i * D + m]! * U[k * D * D + j * D + m]!;
      q += (x[i]! - means[k * D + i]!) * precision * (x[j]! - means[k * D + j]!);
    }
  }
  // log det Sigma from the covariance itself, by elimination
  const a = Array.from(covariances.subarray(k * D * D, (k + 1) * D * D));
  let logDet = 0;
  for (let c = 0; c < D; c++) {
    logDet += Math.log(a[c * D + c]!);
    for (let r = c + 1; r < D; r++) {
      const f = a[r * D + c]! / a[c * D + c]!;
      for (let m = c; m < D; m++) a[r * D + m]! -= f * a[c * D + m]!;
    }
  }
  return Math.log(components.weights[k]!) - 0.5 * (D * Math.log(2 * Math.PI) + logDet + q);
}

function randomSamples(components: Components, N: number, random: Random): Float64Array {
  const { nComponents: K, nFeatures: D, means } = components;
  const data = new Float64Array(N * D);
  for (let i = 0; i < N; i++) {
    const k = random.nextInt(K);
    for (let d = 0; d < D; d++) data[i * D + d] = Math.round(means[k * D + d]! + 25 * random.nextNormal());
  }
  return data;
}

/** The E-step of every sample from the primitives: responsibilities (as a pass writes them) and sum log p. */
function referenceEStep(components: Components, data: Float64Array, N: number, prior?: Float64Array) {
  const { nComponents: K, nFeatures: D } = components;
  const features = new Float64Array(N * D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) features[d * N + i] = data[i * D + d]!;
  const values = new Float64Array(K * N);
  const maxima = new Float64Array(N);
  const sums = new Float64Array(N);
  const base = componentBase(components, prior === undefined);
  logDensities(components, base, features, N, N, values, maxima, allocateLogDensityScratch(N));
  scaleByMaxima(values, maxima, K, N, N, values, sums);
  const responsibilities = new Float32Array(N * K);
  let logLikelihoodSum = 0;
  for (let i = 0; i < N; i++) {
    let s = 0;
    let pSum = 0;
    for (let k = 0; k < K; k++) {
      const p = prior ? prior[i * K + k]! : 1;
      if (prior) values[k * N + i]! *= p;
      s += values[k * N + i]!;
      pSum += p;
    }
    const inverse = 1 / (prior ? s : sums[i]!);
    for (let k = 0; k < K; k++) responsibilities[i * K + k] = values[k * N + i]! * inverse;
    logLikelihoodSum += maxima[i]! + Math.log(prior ? s : sums[i]!) - (prior ? Math.log(pSum) : 0);
  }
  return { responsibilities, logLikelihoodSum };
}

function runPass(components: Components, input: PassInput, tabulated: boolean): SufficientStatistics {
  const statistics = allocateStatistics(components.nComponents, components.nFeatures);
  resetStatistics(statistics, components.means);
  if (tabulated) {
    const { data, nSamples } = input;
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < nSamples; i++) {
      low = Math.min(low, data[i]!);
      high = Math.max(high, data[i]!);
    }
    const bins = buildIntegerBins(data, input.sampleWeights, low, high, true);
    tabulatedPass(
      input,
      bins,
      allocateTabulatedScratch(bins, components.nComponents),
      components,
      statistics,
    );
  } else {
    directPass(input, components, statistics);
  }
  return statistics;
}

function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(a[i]!)));
  return worst;
}

describe('logDensities', () => {
  it('agrees with the naive density for every covariance type', () => {
    const random = createRandom(5, 0);
    for (const type of COVARIANCE_TYPES) {
      for (const D of [1, 2, 3, 5]) {
        const K = 3;
        const components = randomComponents(type, K, D, random);
        const N = 40;
        const data = randomSamples(components, N, random);
        const out = new Float64Array(K);
        const maximum = new Float64Array(1);
        const base = componentBase(components, true);
        for (let i = 0; i < N; i++) {
          const x = data.subarray(i * D, (i + 1) * D);
          logDensities(components, base, x, 1, 1, out, maximum, allocateLogDensityScratch(1));
          for (let k = 0; k < K; k++) {
            expect(out[k]).toBeCloseTo(naiveLogDensity(components, x, k), 9);
          }
          expect(maximum[0]).toBe(Math.max(...out));
        }
      }
    }
  });

  it('gives the same bits one sample at a time as in a block', () => {
    const random = createRandom(6, 0);
    const components = randomComponents('full', 4, 3, random);
    const N = 700;
    const data = randomSamples(components, N, random);
    const base = componentBase(components, true);
    const features = new Float64Array(N * 3);
    for (let i = 0; i < N; i++) for (let d = 0; d < 3; d++) features[d * N + i] = data[i * 3 + d]!;
    const block = new Float64Array(4 * N);
    logDensities(components, base, features, N, N, block, new Float64Array(N), allocateLogDensityScratch(N));
    const one = new Float64Array(4);
    for (let i = 0; i < N; i++) {
      const x = data.subarray(i * 3, (i + 1) * 3);
      logDensities(components, base, x, 1, 1, one, new Float64Array(1), allocateLogDensityScratch(1));
      for (let k = 0; k < 4; k++) expect(one[k]).toBe(block[k * N + i]);
    }
  });
});

describe('the generated kernels against the primitives', () => {
  afterEach(() => setGeneratedKernelsEnabled(true));

  // Responsibilities are the same bits; the log-likelihood and the moments are summed in another
  // order (over all samples at once rather than block by block), so they agree to round-off.
  const LOG_LIKELIHOOD_TOLERANCE = 1e-13;
  const MOMENT_TOLERANCE = 1e-11;
  const random = createRandom(7, 0);
  for (const type of COVARIANCE_TYPES) {
    for (const D of [1, 2, 3, 4]) {
      for (const K of [1, 2, 3, 5, 8]) {
        it(`give the primitives' E-step: ${type}, D = ${D}, K = ${K}`, () => {
          const components = randomComponents(type, K, D, random);
          const N = 1100;
          const data = randomSamples(components, N, random);
          const prior = Float64Array.from({ length: N * K }, (_, i) => 0.05 + ((i * 7) % 10) / 10);
          const sampleWeights = Float64Array.from({ length: N }, (_, i) => 0.5 + (i % 4));
          for (const withPrior of [false, true]) {
            for (const tabulated of D === 1 ? [false, true] : [false]) {
              const shape = {
                nComponents: K,
                nFeatures: D,
                prior: withPrior,
                weighted: false,
                responsibilities: true,
                fullSecondMoments: type === 'full' || type === 'tied',
                kind: tabulated ? ('tabulated' as const) : ('direct' as const),
              };
              setGeneratedKernelsEnabled(true);
              expect(kernelFor(shape)).toBeDefined();
              const reference = referenceEStep(components, data, N, withPrior ? prior : undefined);
              const results = [true, false].map((generated) => {
                setGeneratedKernelsEnabled(generated);
                const responsibilities = new Float32Array(N * K);
                const input: PassInput = {
                  data,
                  nSamples: N,
                  nFeatures: D,
                  prior: withPrior ? prior : undefined,
                  responsibilities,
                  fullSecondMoments: shape.fullSecondMoments,
                  sampleWeights: undefined,
                };
                return { responsibilities, statistics: runPass(components, input, tabulated) };
              });
              const [generated, loops] = results as [(typeof results)[0], (typeof results)[0]];
              expect(generated.responsibilities).toEqual(reference.responsibilities);
              expect(loops.responsibilities).toEqual(reference.responsibilities);
              for (const { statistics } of results) {
                expect(
                  Math.abs(statistics.logLikelihoodSum - reference.logLikelihoodSum) /
                    Math.abs(reference.logLikelihoodSum),
                ).toBeLessThan(LOG_LIKELIHOOD_TOLERANCE);
              }
              const g = generated.statistics;
              const l = loops.statistics;
              expect(relativeDifference(g.responsibilitySums, l.responsibilitySums)).toBeLessThan(
                MOMENT_TOLERANCE,
              );
              expect(relativeDifference(g.firstMoments, l.firstMoments)).toBeLessThan(MOMENT_TOLERANCE);
              expect(relativeDifference(g.secondMoments, l.secondMoments)).toBeLessThan(MOMENT_TOLERANCE);
            }
          }
          // weighted samples: the same responsibilities, the weights only scale the sums
          setGeneratedKernelsEnabled(true);
          const responsibilities = new Float32Array(N * K);
          runPass(
            components,
            {
              data,
              nSamples: N,
              nFeatures: D,
              prior: undefined,
              responsibilities,
              fullSecondMoments: false,
              sampleWeights,
            },
            false,
          );
          expect(responsibilities).toEqual(referenceEStep(components, data, N).responsibilities);
        });
      }
    }
  }
});
