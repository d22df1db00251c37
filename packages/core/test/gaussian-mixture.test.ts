import { describe, expect, it } from 'vitest';
import {
  type CovarianceType,
  createRandom,
  type FloatArray,
  fitGaussianMixture,
  type GaussianMixture,
  type GaussianMixtureFit,
  predict,
  predictProba,
  type SampleMatrix,
  sample,
} from '../src/index.ts';

function model(
  covarianceType: CovarianceType,
  weights: number[],
  means: number[][],
  covariances: number[][][],
): GaussianMixture {
  // precisionsCholesky is not needed by sample(); fill with a valid placeholder for validation.
  return {
    covarianceType,
    nComponents: weights.length,
    nFeatures: means[0]!.length,
    weights,
    means,
    covariances,
    precisionsCholesky: covariances.map((c) => c.map((row, i) => row.map((_, j) => (i === j ? 1 : 0)))),
  };
}

const TRUTH: Record<CovarianceType, GaussianMixture> = {
  full: model(
    'full',
    [0.25, 0.45, 0.3],
    [
      [0, 0],
      [6, 1],
      [2, 7],
    ],
    [
      [
        [1.0, 0.4],
        [0.4, 0.5],
      ],
      [
        [2.0, -0.6],
        [-0.6, 1.0],
      ],
      [
        [0.6, 0.2],
        [0.2, 1.5],
      ],
    ],
  ),
  tied: model(
    'tied',
    [0.3, 0.4, 0.3],
    [
      [0, 0],
      [5, 2],
      [1, 6],
    ],
    Array.from({ length: 3 }, () => [
      [1.2, 0.5],
      [0.5, 0.9],
    ]),
  ),
  diag: model(
    'diag',
    [0.2, 0.5, 0.3],
    [
      [0, 0],
      [5, 1],
      [2, 6],
    ],
    [
      [
        [1.0, 0],
        [0, 0.3],
      ],
      [
        [0.5, 0],
        [0, 2.0],
      ],
      [
        [1.5, 0],
        [0, 0.7],
      ],
    ],
  ),
  spherical: model(
    'spherical',
    [0.35, 0.35, 0.3],
    [
      [0, 0],
      [6, 0],
      [3, 5],
    ],
    [
      [
        [1, 0],
        [0, 1],
      ],
      [
        [0.5, 0],
        [0, 0.5],
      ],
      [
        [2, 0],
        [0, 2],
      ],
    ],
  ),
};

function expectIncreasing(trace: number[]): void {
  for (let i = 1; i < trace.length; i++) {
    expect(trace[i]!).toBeGreaterThanOrEqual(trace[i - 1]! - 1e-9 * Math.abs(trace[i - 1]!));
  }
}

/** Largest difference relative to max(1, |value|). */
function maxAbsDifference(a: number[] | number[][] | number[][][], b: typeof a): number {
  const flatA = (a as unknown[]).flat(2) as number[];
  const flatB = (b as unknown[]).flat(2) as number[];
  expect(flatA.length).toBe(flatB.length);
  return Math.max(...flatA.map((v, i) => Math.abs(v - flatB[i]!) / Math.max(1, Math.abs(v))));
}

function expectSameModel(a: GaussianMixture, b: GaussianMixture, tolerance: number): void {
  expect(maxAbsDifference(a.weights, b.weights)).toBeLessThan(tolerance);
  expect(maxAbsDifference(a.means, b.means)).toBeLessThan(tolerance);
  expect(maxAbsDifference(a.covariances, b.covariances)).toBeLessThan(tolerance);
}

/** Integer-valued single-channel "T1 intensities" from three tissues. */
function intensities(n: number, seed: number): SampleMatrix & { data: Float64Array } {
  const truth = model('full', [0.2, 0.45, 0.35], [[350], [650], [850]], [[[3600]], [[2025]], [[1225]]]);
  const { samples } = sample(truth, n, seed);
  for (let i = 0; i < n; i++) samples.data[i] = Math.round(samples.data[i]!);
  return samples;
}

describe('fitGaussianMixture', () => {
  for (const covarianceType of ['full', 'tied', 'diag', 'spherical'] as const) {
    it(`recovers the parameters of a seeded ${covarianceType} mixture`, () => {
      const truth = TRUTH[covarianceType];
      const { samples } = sample(truth, 20_000, 7);
      const fit = fitGaussianMixture(samples, { nComponents: 3, covarianceType, nInit: 3, seed: 3 });
      expect(fit.converged).toBe(true);
      expect(fit.strategy).toBe('direct');
      // components come out sorted by the mean of feature 0
      const order = [0, 1, 2].sort((a, b) => truth.means[a]![0]! - truth.means[b]![0]!);
      const sortedTruth = {
        weights: order.map((k) => truth.weights[k]!),
        means: order.map((k) => truth.means[k]!),
        covariances: order.map((k) => truth.covariances[k]!),
      };
      const t = sortedTruth;
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(fit.model.weights[k]! - t.weights[k]!)).toBeLessThan(0.015);
        for (let d = 0; d < 2; d++) {
          expect(Math.abs(fit.model.means[k]![d]! - t.means[k]![d]!)).toBeLessThan(0.06);
          for (let e = 0; e < 2; e++) {
            const expected = t.covariances[k]![d]![e]!;
            const got = fit.model.covariances[k]![d]![e]!;
            expect(Math.abs(got - expected)).toBeLessThan(0.08 * Math.max(1, Math.abs(expected)));
          }
        }
      }
      // the structure of the covariance type holds exactly
      const c = fit.model.covariances;
      if (covarianceType === 'tied') expect(c[0]).toEqual(c[2]);
      if (covarianceType === 'diag' || covarianceType === 'spherical') expect(c[1]![0]![1]).toBe(0);
      if (covarianceType === 'spherical') expect(c[1]![0]![0]).toBe(c[1]![1]![1]);
      expectIncreasing(fit.logLikelihoodTrace);
    });
  }

  it('never decreases the log-likelihood, for every covariance type, init and strategy', () => {
    const { samples } = sample(TRUTH.full, 3000, 11);
    for (const covarianceType of ['full', 'tied', 'diag', 'spherical'] as const) {
      for (const init of ['kmeans', 'kmeans++', 'random'] as const) {
        const fit = fitGaussianMixture(samples, { covarianceType, init, seed: 5, tol: 1e-10, maxIter: 300 });
        expect(fit.events).toEqual([]);
        expectIncreasing(fit.logLikelihoodTrace);
      }
    }
    const voxels = intensities(5000, 2);
    for (const strategy of ['direct', 'tabulated', 'histogram'] as const) {
      for (const init of ['kmeans', 'quantile', 'random'] as const) {
        const fit = fitGaussianMixture(voxels, { strategy, init, seed: 1, tol: 1e-12 });
        expectIncreasing(fit.logLikelihoodTrace);
      }
    }
  });

  it('gives the same model from weighted histogram bins as from the voxels themselves', () => {
    const voxels = intensities(50_000, 4);
    const counts = new Map<number, number>();
    for (const v of voxels.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    const values = [...counts.keys()].sort((a, b) => b - a); // any order
    const bins = { data: Float64Array.from(values), nSamples: values.length, nFeatures: 1 };
    const sampleWeights = Float64Array.from(values.map((v) => counts.get(v)!));
    for (const init of ['kmeans', 'quantile'] as const) {
      const fromVoxels = fitGaussianMixture(voxels, { init, seed: 9, strategy: 'direct' });
      const fromBins = fitGaussianMixture(bins, { init, seed: 9, sampleWeights, strategy: 'direct' });
      expectSameModel(fromVoxels.model, fromBins.model, 1e-7);
      expect(fromBins.meanLogLikelihood).toBeCloseTo(fromVoxels.meanLogLikelihood, 10);
      expect(fromBins.nIter).toBe(fromVoxels.nIter);
    }
  });

  it('gives the same model for repeated samples as for integer weights, in several dimensions', () => {
    const { samples } = sample(TRUTH.full, 400, 12);
    const repeats = Array.from({ length: 400 }, (_, i) => 1 + (i % 4));
    const total = repeats.reduce((a, b) => a + b, 0);
    const repeated = new Float64Array(total * 2);
    let row = 0;
    repeats.forEach((r, i) => {
      for (let j = 0; j < r; j++, row++) repeated.set(samples.data.subarray(i * 2, i * 2 + 2), row * 2);
    });
    const initialParameters = { means: TRUTH.full.means, covariances: TRUTH.full.covariances };
    for (const covarianceType of ['full', 'tied', 'diag', 'spherical'] as const) {
      const a = fitGaussianMixture(
        { data: repeated, nSamples: total, nFeatures: 2 },
        { covarianceType, initialParameters, tol: 1e-10 },
      );
      const b = fitGaussianMixture(samples, {
        covarianceType,
        initialParameters,
        tol: 1e-10,
        sampleWeights: Float64Array.from(repeats),
      });
      expectSameModel(a.model, b.model, 1e-8);
      expect(b.sumWeights).toBe(total);
    }
  });

  it('gives the same model with the direct, tabulated and histogram strategies', () => {
    const voxels = intensities(20_000, 5);
    const fits = (['direct', 'tabulated', 'histogram'] as const).map((strategy) =>
      fitGaussianMixture(voxels, { strategy, nInit: 2, seed: 4, tol: 1e-10 }),
    );
    expect(fits.map((f) => f.strategy)).toEqual(['direct', 'tabulated', 'histogram']);
    expectSameModel(fits[0]!.model, fits[1]!.model, 1e-8);
    expectSameModel(fits[0]!.model, fits[2]!.model, 1e-8);
    expect(fits[1]!.nIter).toBe(fits[0]!.nIter);
    expect(fitGaussianMixture(voxels).strategy).toBe('histogram');
  });

  it('is bit-identical for the same data, options and seed', () => {
    const { samples } = sample(TRUTH.full, 5000, 1);
    const options = { nInit: 3, seed: 42, init: 'kmeans++' as const };
    const a = fitGaussianMixture(samples, options);
    const b = fitGaussianMixture(samples, options);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = fitGaussianMixture(samples, { ...options, seed: 43 });
    expect(c.initScores).not.toEqual(a.initScores);
  });

  it('keeps the restart with the best final log-likelihood', () => {
    const { samples } = sample(TRUTH.full, 3000, 2);
    const fit = fitGaussianMixture(samples, { nInit: 5, init: 'random', seed: 1, maxIter: 5, tol: 0 });
    expect(fit.initScores).toHaveLength(5);
    expect(fit.meanLogLikelihood).toBe(Math.max(...fit.initScores));
    expect(fit.initScores[fit.bestInit]).toBe(fit.meanLogLikelihood);
  });

  it('orders components by ascending mean of feature 0 unless told to keep them', () => {
    const { samples } = sample(TRUTH.full, 3000, 3);
    const initialParameters = {
      means: [
        [2, 7],
        [0, 0],
        [6, 1],
      ],
    };
    const sorted = fitGaussianMixture(samples, { initialParameters });
    expect(sorted.model.means.map((m) => Math.round(m[0]!))).toEqual([0, 2, 6]);
    const fixed = fitGaussianMixture(samples, { initialParameters, componentOrder: 'fixed' });
    expect(fixed.model.means.map((m) => Math.round(m[0]!))).toEqual([2, 0, 6]);
  });

  it('accepts Float32 data and gives the model of the same values in Float64', () => {
    const voxels = intensities(10_000, 8);
    const a = fitGaussianMixture(voxels, { seed: 1 });
    const b = fitGaussianMixture({ ...voxels, data: Float32Array.from(voxels.data) }, { seed: 1 });
    expect(JSON.stringify(b.model)).toBe(JSON.stringify(a.model));
  });

  it('reports not converging as a result, with the reason', () => {
    const { samples } = sample(TRUTH.full, 2000, 4);
    const fit = fitGaussianMixture(samples, { init: 'random', maxIter: 2, tol: 0 });
    expect(fit.converged).toBe(false);
    expect(fit.stopReason).toBe('max-iterations');
    expect(fit.nIter).toBe(2);
    expect(fit.logLikelihoodTrace).toHaveLength(3);
    expect(fit.warnings.join()).toMatch(/did not converge in maxIter = 2/);
  });

  it('reports each iteration to onIteration', () => {
    const { samples } = sample(TRUTH.full, 1000, 5);
    const events: number[] = [];
    const fit = fitGaussianMixture(samples, { onIteration: (e) => events.push(e.meanLogLikelihood) });
    expect(events).toEqual(fit.logLikelihoodTrace);
  });
});

describe('per-sample priors', () => {
  function priorHookRun(strategy: 'direct' | 'tabulated', voxels: SampleMatrix): GaussianMixtureFit {
    return fitGaussianMixture(voxels, {
      strategy,
      init: 'quantile',
      tol: 1e-10,
      // the prior that the plain mixture uses: the current weights, for every sample
      updatePrior: ({ model, prior }) => {
        for (let i = 0; i < prior.length; i++) prior[i] = model.weights[i % 3]!;
      },
    });
  }

  it('equals the plain mixture when the hook sets every prior to the current weights', () => {
    const voxels = intensities(8000, 6);
    const plain = fitGaussianMixture(voxels, { init: 'quantile', tol: 1e-10, strategy: 'direct' });
    for (const strategy of ['direct', 'tabulated'] as const) {
      const hooked = priorHookRun(strategy, voxels);
      expect(hooked.strategy).toBe(strategy);
      expectSameModel(plain.model, hooked.model, 1e-6);
      expect(hooked.meanLogLikelihood).toBeCloseTo(plain.meanLogLikelihood, 9);
    }
  });

  it('gives the same fit for a prior and its logarithm, and with the tabulated and direct passes', () => {
    const voxels = intensities(6000, 7);
    const prior = new Float32Array(6000 * 3);
    for (let i = 0; i < 6000; i++) {
      const t = (i % 100) / 100;
      prior[i * 3] = 0.1 + 0.5 * t;
      prior[i * 3 + 1] = 0.4;
      prior[i * 3 + 2] = 0.6 - 0.5 * t;
    }
    const logPrior = Float64Array.from(prior, Math.log);
    const a = fitGaussianMixture(voxels, { prior, init: 'quantile', strategy: 'direct' });
    const b = fitGaussianMixture(voxels, { logPrior, init: 'quantile', strategy: 'tabulated' });
    const c = fitGaussianMixture(voxels, { prior, init: 'quantile' });
    expect(c.strategy).toBe('tabulated');
    expectSameModel(a.model, b.model, 1e-6);
    expect(b.meanLogLikelihood).toBeCloseTo(a.meanLogLikelihood, 8);
    // responsibilities under the prior sum to one and follow the prior
    const r = predictProba(c.model, voxels, { prior });
    for (let i = 0; i < 6000; i += 997) expect(r[i * 3]! + r[i * 3 + 1]! + r[i * 3 + 2]!).toBeCloseTo(1, 12);
  });

  it('hands the hook the responsibilities of the E-step just done', () => {
    const voxels = intensities(3000, 8);
    let checked = 0;
    fitGaussianMixture(voxels, {
      init: 'quantile',
      maxIter: 3,
      tol: 0,
      updatePrior: ({ responsibilities, prior, iteration }) => {
        expect(iteration).toBe(checked + 1);
        for (let i = 0; i < 3000; i += 311) {
          const sum = responsibilities[i * 3]! + responsibilities[i * 3 + 1]! + responsibilities[i * 3 + 2]!;
          expect(sum).toBeCloseTo(1, 5);
        }
        prior.fill(1);
        checked++;
      },
    });
    expect(checked).toBe(3);
  });

  it('survives a prior that puts all its mass on a component of vanishing density', () => {
    // sample 0 is far in the upper tail, but its prior says "component 0 only"
    const data = Float64Array.from({ length: 300 }, (_, i) =>
      i === 0 ? 5000 : 300 + (i % 3) * 300 + (i % 7),
    );
    const prior = new Float64Array(300 * 3).fill(1);
    prior.set([1, 0, 0], 0);
    const fit = fitGaussianMixture({ data, nSamples: 300, nFeatures: 1 }, { prior, init: 'quantile' });
    expect(Number.isFinite(fit.meanLogLikelihood)).toBe(true);
    expect(fit.model.means.flat().every(Number.isFinite)).toBe(true);
  });
});

describe('degenerate data', () => {
  function expectFinite(fit: GaussianMixtureFit): void {
    const numbers = [
      ...fit.model.weights,
      ...fit.model.means.flat(),
      ...fit.model.covariances.flat(2),
      ...fit.model.precisionsCholesky.flat(2),
      ...fit.logLikelihoodTrace,
    ];
    expect(numbers.every(Number.isFinite)).toBe(true);
  }

  it('fits constant data without NaN and says the components cannot be told apart', () => {
    const data = new Float64Array(100).fill(7);
    for (const strategy of ['direct', 'histogram'] as const) {
      const fit = fitGaussianMixture({ data, nSamples: 100, nFeatures: 1 }, { strategy });
      expectFinite(fit);
      expect(fit.model.means.flat()).toEqual([7, 7, 7]);
      expect(fit.warnings.join()).toMatch(strategy === 'histogram' ? /1 distinct value/ : /./);
      expect(predict(fit.model, { data, nSamples: 100, nFeatures: 1 }).every((l) => l >= 0 && l < 3)).toBe(
        true,
      );
    }
    const constant2d = new Float32Array(200).fill(1.5);
    expectFinite(
      fitGaussianMixture({ data: constant2d, nSamples: 100, nFeatures: 2 }, { covarianceType: 'full' }),
    );
  });

  it('fits fewer distinct values than components without NaN', () => {
    const data = Float64Array.from({ length: 90 }, (_, i) => (i % 2 ? 10 : 20));
    for (const init of ['kmeans', 'kmeans++', 'quantile', 'random'] as const) {
      const fit = fitGaussianMixture({ data, nSamples: 90, nFeatures: 1 }, { init, seed: 2 });
      expectFinite(fit);
      expect(fit.warnings.join()).toMatch(/2 distinct value\(s\), fewer than nComponents = 3/);
    }
  });

  it('re-seeds a component that empties, and reports it', () => {
    const { samples } = sample(TRUTH.full, 2000, 9);
    const fit = fitGaussianMixture(samples, {
      initialParameters: {
        means: [
          [0, 0],
          [6, 1],
          [1e6, 1e6],
        ],
        covariances: [
          [
            [1, 0],
            [0, 1],
          ],
          [
            [1, 0],
            [0, 1],
          ],
          [
            [1e-3, 0],
            [0, 1e-3],
          ],
        ],
      },
    });
    expectFinite(fit);
    expect(fit.events.some((e) => e.kind === 'component-reseeded' && e.component === 2)).toBe(true);
    // after re-seeding, the third cluster is found again
    expect(fit.model.means.map((m) => Math.round(m[0]!))).toEqual([0, 2, 6]);
  });

  it('keeps a collapsing variance at regCovar instead of letting it reach zero', () => {
    // a spike of identical values plus a spread: one component collapses onto the spike
    const data = Float64Array.from({ length: 3000 }, (_, i) =>
      i < 1000 ? 100 : 200 + (i % 97) * 3 + (i % 13),
    );
    const fit = fitGaussianMixture({ data, nSamples: 3000, nFeatures: 1 }, { init: 'quantile' });
    expectFinite(fit);
    const variances = fit.model.covariances.map((c) => c[0]![0]!);
    expect(Math.min(...variances)).toBeGreaterThanOrEqual(fit.regCovar[0]!);
    expect(fit.model.means[0]![0]).toBeCloseTo(100, 6);
    expect(variances[0]).toBeCloseTo(fit.regCovar[0]!, 12);
  });

  it('throws RangeError when nComponents exceeds nSamples', () => {
    const samples = { data: Float64Array.of(1, 2), nSamples: 2, nFeatures: 1 };
    expect(() => fitGaussianMixture(samples)).toThrow(RangeError);
    expect(() => fitGaussianMixture(samples)).toThrow('nComponents (3) exceeds the number of samples (2)');
    expect(() =>
      fitGaussianMixture(samples, { nComponents: 2, sampleWeights: Float64Array.of(1, 0) }),
    ).toThrow('nComponents (2) exceeds the number of samples with non-zero weight (1)');
  });

  it('throws RangeError naming the sample that is NaN or infinite', () => {
    const data = Float64Array.from({ length: 20 }, (_, i) => i);
    data[11] = Number.NaN;
    expect(() => fitGaussianMixture({ data, nSamples: 10, nFeatures: 2 })).toThrow(RangeError);
    expect(() => fitGaussianMixture({ data, nSamples: 10, nFeatures: 2 })).toThrow(
      'samples contains NaN at sample 5 (feature 1)',
    );
    data[11] = 0;
    data[4] = -Infinity;
    expect(() => fitGaussianMixture({ data, nSamples: 10, nFeatures: 2 })).toThrow(
      'samples contains -Infinity at sample 2 (feature 0)',
    );
    expect(() => predict(TRUTH.full, { data, nSamples: 10, nFeatures: 2 })).toThrow(
      'at sample 2 (feature 0)',
    );
  });

  it('rejects malformed input and options with messages that say what was expected', () => {
    const data = new Float64Array(30).map((_, i) => i % 7);
    const ok: SampleMatrix = { data, nSamples: 30, nFeatures: 1 };
    const cases: [() => unknown, ErrorConstructor, string][] = [
      [
        () => fitGaussianMixture({ data, nSamples: 29, nFeatures: 1 }),
        RangeError,
        'expected nSamples x nFeatures',
      ],
      [
        () => fitGaussianMixture({ data: [1, 2, 3] as unknown as FloatArray, nSamples: 3, nFeatures: 1 }),
        TypeError,
        'got Array',
      ],
      [
        () => fitGaussianMixture(ok, { nComponents: 0 }),
        RangeError,
        'nComponents must be an integer >= 1, got 0',
      ],
      [
        () => fitGaussianMixture(ok, { covarianceType: 'banded' as CovarianceType }),
        RangeError,
        'covarianceType must be one of',
      ],
      [() => fitGaussianMixture(ok, { tol: -1 }), RangeError, 'tol must be'],
      [() => fitGaussianMixture(ok, { regCovar: Number.NaN }), RangeError, 'regCovar must be'],
      [
        () => fitGaussianMixture(ok, { sampleWeights: new Float64Array(3) }),
        RangeError,
        'sampleWeights has length 3, expected 30',
      ],
      [
        () => fitGaussianMixture(ok, { sampleWeights: new Float64Array(30).fill(-1) }),
        RangeError,
        'weights must be finite and >= 0',
      ],
      [
        () => fitGaussianMixture(ok, { prior: new Float64Array(90) }),
        RangeError,
        'prior of sample 0 is zero for every component',
      ],
      [
        () => fitGaussianMixture(ok, { initialParameters: { means: [[1], [2]] } }),
        RangeError,
        'initialParameters.means must hold 3 rows',
      ],
      [
        () => fitGaussianMixture(ok, { initialParameters: { means: [[1], [2], [3]] }, nInit: 2 }),
        RangeError,
        'nInit must be 1',
      ],
      [
        () => fitGaussianMixture({ data, nSamples: 15, nFeatures: 2 }, { init: 'quantile' }),
        RangeError,
        'init "quantile" needs one feature',
      ],
      [
        () => fitGaussianMixture(ok, { strategy: 'histogram', prior: new Float64Array(90).fill(1) }),
        RangeError,
        'use "tabulated"',
      ],
      [
        () =>
          fitGaussianMixture(
            { data: data.map((x) => x + 0.5), nSamples: 30, nFeatures: 1 },
            { strategy: 'histogram' },
          ),
        RangeError,
        'needs integer-valued samples',
      ],
      [
        () => fitGaussianMixture(ok, { prior: new Float64Array(90).fill(1), componentOrder: 'mean' }),
        RangeError,
        "the prior's columns fix the order",
      ],
    ];
    for (const [run, type, message] of cases) {
      expect(run).toThrow(type);
      expect(run).toThrow(message);
    }
  });
});

describe('responsibilities output', () => {
  it('receives the final responsibilities of the returned model, whatever the strategy and restarts', () => {
    const voxels = intensities(5000, 12);
    for (const strategy of ['direct', 'tabulated', 'histogram'] as const) {
      for (const nInit of [1, 3]) {
        const responsibilities = new Float32Array(5000 * 3);
        const fit = fitGaussianMixture(voxels, { strategy, nInit, seed: 4, responsibilities });
        const expected = predictProba(fit.model, voxels);
        let worst = 0;
        for (let i = 0; i < expected.length; i++)
          worst = Math.max(worst, Math.abs(expected[i]! - responsibilities[i]!));
        expect(worst).toBeLessThan(1e-6);
      }
    }
  });

  it('holds the responsibilities under the final prior when a hook updates it', () => {
    const voxels = intensities(4000, 13);
    const responsibilities = new Float32Array(4000 * 3);
    let lastPrior: Float32Array | undefined;
    const fit = fitGaussianMixture(voxels, {
      init: 'quantile',
      responsibilities,
      updatePrior: ({ responsibilities: r, prior }) => {
        for (let i = 0; i < prior.length; i++) prior[i] = 0.1 + r[i]!;
        lastPrior = prior.slice();
      },
    });
    const expected = predictProba(fit.model, voxels, { prior: lastPrior! });
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs(expected[i]! - responsibilities[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(() => fitGaussianMixture(voxels, { responsibilities: new Float32Array(5) })).toThrow(
      'responsibilities has length 5, expected nSamples x nComponents = 12000',
    );
  });
});

describe('covarianceShrinkage', () => {
  const voxels = intensities(20_000, 4);

  it('gives the tied fit at 1 and the free fit at 0', () => {
    const tied = fitGaussianMixture(voxels, { covarianceType: 'tied', seed: 1, tol: 1e-12 });
    const shrunk = fitGaussianMixture(voxels, { covarianceShrinkage: 1, seed: 1, tol: 1e-12 });
    // the same fixed point, reached along slightly different paths (variances ~2000)
    expectSameModel(shrunk.model, tied.model, 1e-5);
    const free = fitGaussianMixture(voxels, { seed: 1 });
    const zero = fitGaussianMixture(voxels, { covarianceShrinkage: 0, seed: 1 });
    expect(zero.model).toEqual(free.model);
  });

  it('pulls the variances towards each other, and the fit stays a fixed point of the shrunk M-step', () => {
    const free = fitGaussianMixture(voxels, { seed: 1 });
    const half = fitGaussianMixture(voxels, { covarianceShrinkage: 0.5, seed: 1, tol: 1e-10 });
    const spread = (m: GaussianMixture) => {
      const v = m.covariances.map((c) => c[0]![0]!);
      return Math.max(...v) / Math.min(...v);
    };
    expect(spread(half.model)).toBeLessThan(spread(free.model));
    // at convergence, Sigma_k = 0.5 S_k + 0.5 pooled(S) where S_k are the responsibility-weighted
    // variances: check it from the final responsibilities
    const r = predictProba(half.model, voxels);
    const K = 3;
    const nk = [0, 0, 0];
    const sk = [0, 0, 0];
    for (let i = 0; i < voxels.nSamples; i++) {
      for (let k = 0; k < K; k++) {
        const p = r[i * K + k]!;
        nk[k]! += p;
        sk[k]! += p * (voxels.data[i]! - half.model.means[k]![0]!) ** 2;
      }
    }
    const s = sk.map((v, k) => v / nk[k]! + half.regCovar[0]!);
    const pooled = s.reduce((sum, v, k) => sum + v * nk[k]!, 0) / voxels.nSamples;
    for (let k = 0; k < K; k++) {
      expect(half.model.covariances[k]![0]![0]! / (0.5 * s[k]! + 0.5 * pooled)).toBeCloseTo(1, 3);
    }
  });

  it('rejects a shrinkage outside [0, 1]', () => {
    expect(() => fitGaussianMixture(voxels, { covarianceShrinkage: 1.5 })).toThrow(
      /covarianceShrinkage must be/,
    );
    expect(() => fitGaussianMixture(voxels, { covarianceShrinkage: Number.NaN })).toThrow(RangeError);
  });
});

describe('initialResponsibilities', () => {
  const voxels = intensities(20_000, 6);

  it('starts from the given responsibilities and reaches the optimum k-means reaches', () => {
    const reference = fitGaussianMixture(voxels, { seed: 2, tol: 1e-10 });
    const start = predictProba(reference.model, voxels);
    const fromResponsibilities = fitGaussianMixture(voxels, { initialResponsibilities: start, tol: 1e-10 });
    expectSameModel(fromResponsibilities.model, reference.model, 1e-4);
    // one M-step on the converged posteriors is already the fixed point
    const oneStep = fitGaussianMixture(voxels, { initialResponsibilities: start, maxIter: 0 });
    expectSameModel(oneStep.model, reference.model, 1e-4);
  });

  it('refuses a matrix of the wrong size, negative values, or a second warm start', () => {
    const start = new Float32Array(voxels.nSamples * 3).fill(1 / 3);
    expect(() => fitGaussianMixture(voxels, { initialResponsibilities: start.subarray(3) })).toThrow(
      RangeError,
    );
    const negative = start.slice();
    negative[4] = -1;
    expect(() => fitGaussianMixture(voxels, { initialResponsibilities: negative })).toThrow(
      /initialResponsibilities contains -1 at sample 1 component 1/,
    );
    expect(() =>
      fitGaussianMixture(voxels, {
        initialResponsibilities: start,
        initialParameters: { means: [[1], [2], [3]] },
      }),
    ).toThrow(/not both/);
    expect(() => fitGaussianMixture(voxels, { initialResponsibilities: start, nInit: 3 })).toThrow(
      /nInit must be 1/,
    );
  });
});

describe('labelTol', () => {
  const voxels = intensities(20_000, 8);
  const K = 3;
  const labelsAfter = (maxIter: number): Int32Array => {
    const responsibilities = new Float32Array(voxels.nSamples * K);
    fitGaussianMixture(voxels, { init: 'quantile', tol: 0, maxIter, responsibilities, strategy: 'direct' });
    return Int32Array.from({ length: voxels.nSamples }, (_, i) => {
      let best = 0;
      for (let k = 1; k < K; k++)
        if (responsibilities[i * K + k]! > responsibilities[i * K + best]!) best = k;
      return best;
    });
  };
  const changes = (a: Int32Array, b: Int32Array) =>
    a.reduce((n, label, i) => n + (label !== b[i] ? 1 : 0), 0);

  it('stops at the first E-step where at most that fraction of the labels changed', () => {
    const labelTol = 0.002;
    const fit = fitGaussianMixture(voxels, { init: 'quantile', tol: 0, labelTol, strategy: 'direct' });
    expect(fit.stopReason).toBe('labels-stable');
    expect(fit.converged).toBe(true);
    expect(fit.nIter).toBeGreaterThan(2);
    expect(fit.nIter).toBeLessThan(500);
    const last = labelsAfter(fit.nIter);
    const before = labelsAfter(fit.nIter - 1);
    const earlier = labelsAfter(fit.nIter - 2);
    expect(changes(last, before)).toBeLessThanOrEqual(labelTol * voxels.nSamples);
    expect(changes(before, earlier)).toBeGreaterThan(labelTol * voxels.nSamples);
    // without it, tol = 0 runs to the cap
    expect(fitGaussianMixture(voxels, { init: 'quantile', tol: 0, maxIter: 40 }).stopReason).toBe(
      'max-iterations',
    );
  });

  it('counts changed samples by their weights and leaves the histogram strategy for per-sample passes', () => {
    const weights = new Float64Array(voxels.nSamples).fill(2);
    const plain = fitGaussianMixture(voxels, { init: 'quantile', tol: 0, labelTol: 0.002 });
    const weighted = fitGaussianMixture(voxels, {
      init: 'quantile',
      tol: 0,
      labelTol: 0.002,
      sampleWeights: weights,
    });
    expect(plain.strategy).toBe('tabulated');
    expect(weighted.nIter).toBe(plain.nIter);
    expect(() => fitGaussianMixture(voxels, { labelTol: 0.01, strategy: 'histogram' })).toThrow(/labelTol/);
  });

  it('rejects a labelTol outside [0, 1)', () => {
    for (const labelTol of [-0.1, 1, Number.NaN]) {
      expect(() => fitGaussianMixture(voxels, { labelTol })).toThrow(/labelTol must be/);
    }
  });
});

describe('default regularisation', () => {
  it('takes regCovar from a robust scale, which one extreme sample does not inflate', () => {
    const random = createRandom(4, 0);
    const data = Float64Array.from(
      { length: 20_000 },
      () => 100 + 10 * (random.nextFloat() + random.nextFloat() - 1),
    );
    const plain = fitGaussianMixture(
      { data, nSamples: data.length, nFeatures: 1 },
      { nComponents: 2, seed: 1 },
    );
    const spiked = Float64Array.from(data);
    spiked[0] = 1e6;
    const withOutlier = fitGaussianMixture(
      { data: spiked, nSamples: spiked.length, nFeatures: 1 },
      { nComponents: 2, seed: 1 },
    );
    expect(withOutlier.regCovar[0]! / plain.regCovar[0]!).toBeGreaterThan(0.95);
    expect(withOutlier.regCovar[0]! / plain.regCovar[0]!).toBeLessThan(1.05);
  });
});
