import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type FloatArray,
  fitGaussianMixture,
  type GaussianMixtureOptions,
  type SampleMatrix,
  sample,
} from '../src/index.ts';
import { kernelFor, kernelSource, setGeneratedKernelsEnabled } from '../src/kernels.ts';

const truth3d = {
  covarianceType: 'full' as const,
  nComponents: 3,
  nFeatures: 3,
  weights: [0.3, 0.4, 0.3],
  means: [
    [300, 800, 100],
    [600, 650, 200],
    [850, 500, 260],
  ],
  covariances: [0, 1, 2].map((k) => [
    [2500 - 500 * k, 300, 100],
    [300, 1600, -200],
    [100, -200, 900 + 100 * k],
  ]),
  precisionsCholesky: [0, 1, 2].map(() => [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ]),
};

function fitBoth(samples: SampleMatrix, options: GaussianMixtureOptions) {
  setGeneratedKernelsEnabled(false);
  const blocked = fitGaussianMixture(samples, options);
  setGeneratedKernelsEnabled(true);
  const generated = fitGaussianMixture(samples, options);
  return { blocked, generated };
}

function relativeDifference(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(1, Math.abs(v))));
}

describe('generated kernels', () => {
  afterEach(() => setGeneratedKernelsEnabled(true));

  const { samples: x3 } = sample(truth3d, 6000, 3);
  const x1 = { data: x3.data.filter((_, i) => i % 3 === 0), nSamples: 6000, nFeatures: 1 };
  const integers = { ...x1, data: x1.data.map(Math.round) };
  const x2 = { data: x3.data.filter((_, i) => i % 3 !== 2), nSamples: 6000, nFeatures: 2 };
  const weights = Float64Array.from({ length: 6000 }, (_, i) => 0.5 + (i % 4));
  const prior = new Float64Array(6000 * 3).map((_, i) => 0.1 + ((i * 7) % 10) / 10);
  const cases: [string, SampleMatrix, GaussianMixtureOptions][] = [
    ['D = 1 direct', x1, { strategy: 'direct' }],
    ['D = 1 direct, weighted', x1, { strategy: 'direct', sampleWeights: weights }],
    ['D = 1 direct, prior', x1, { strategy: 'direct', prior }],
    ['D = 1 tabulated', integers, { strategy: 'tabulated' }],
    ['D = 1 tabulated, prior, weighted', integers, { strategy: 'tabulated', prior, sampleWeights: weights }],
    [
      'D = 1 tabulated, prior hook',
      integers,
      {
        strategy: 'tabulated',
        updatePrior: ({ responsibilities, prior: next }) => {
          for (let i = 0; i < next.length; i++) next[i] = 0.2 + responsibilities[i]!;
        },
      },
    ],
    ['D = 2 full', x2, {}],
    ['D = 2 diag, weighted', x2, { covarianceType: 'diag', sampleWeights: weights }],
    ['D = 3 full', x3, {}],
    ['D = 3 tied, prior', x3, { covarianceType: 'tied', prior }],
    ['D = 3 spherical', x3, { covarianceType: 'spherical' }],
  ];
  for (const [name, samples, options] of cases) {
    it(`agree with the blocked loops: ${name}`, () => {
      const { blocked, generated } = fitBoth(samples, { seed: 2, tol: 1e-9, maxIter: 60, ...options });
      expect(generated.nIter).toBe(blocked.nIter);
      expect(relativeDifference(generated.logLikelihoodTrace, blocked.logLikelihoodTrace)).toBeLessThan(
        1e-12,
      );
      expect(relativeDifference(generated.model.means.flat(), blocked.model.means.flat())).toBeLessThan(
        1e-10,
      );
      expect(
        relativeDifference(generated.model.covariances.flat(2), blocked.model.covariances.flat(2)),
      ).toBeLessThan(1e-9);
      expect(relativeDifference(generated.model.weights, blocked.model.weights)).toBeLessThan(1e-10);
    });
  }

  it('unroll every component and feature into locals', () => {
    const source = kernelSource({
      nComponents: 3,
      nFeatures: 2,
      prior: false,
      weighted: false,
      responsibilities: false,
      fullSecondMoments: true,
      kind: 'direct',
    });
    expect(source).toContain('const u2_0_1 = parameters[');
    expect(source).toContain('s2_0_1 += r2 * d2_0 * d2_1;');
    expect(source).not.toMatch(/for \(let k/);
  });

  it('are generated only while their source is small enough to pay off', () => {
    const shape = (nComponents: number, nFeatures: number) => ({
      nComponents,
      nFeatures,
      prior: false,
      weighted: false,
      responsibilities: false,
      fullSecondMoments: nFeatures > 1,
      kind: 'direct' as const,
    });
    expect(kernelFor(shape(3, 1))).toBeDefined();
    expect(kernelFor(shape(64, 1))).toBeDefined();
    expect(kernelFor(shape(16, 4))).toBeDefined();
    // measured slower than the blocked loops (K = 254, D = 1: 6x)
    expect(kernelFor(shape(254, 1))).toBeUndefined();
    expect(kernelFor(shape(64, 3))).toBeUndefined();
  });

  it('fall back to the exact log domain where a prior leaves no density', () => {
    const data: FloatArray = Float64Array.from({ length: 300 }, (_, i) =>
      i === 0 ? 5000 : 300 + (i % 3) * 300 + (i % 7),
    );
    const p = new Float64Array(900).fill(1);
    p.set([1, 0, 0], 0);
    const { blocked, generated } = fitBoth(
      { data, nSamples: 300, nFeatures: 1 },
      { prior: p, init: 'quantile', strategy: 'direct' },
    );
    expect(Number.isFinite(generated.meanLogLikelihood)).toBe(true);
    expect(generated.meanLogLikelihood).toBeCloseTo(blocked.meanLogLikelihood, 10);
  });
});

describe("without code generation, as under the viewer's Content Security Policy", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setGeneratedKernelsEnabled(true);
  });

  it("runs the blocked loops and gives the generated kernels' fit", async () => {
    const { samples } = sample(truth3d, 4000, 5);
    const options: GaussianMixtureOptions = { seed: 1, tol: 1e-9, maxIter: 40 };
    const generated = fitGaussianMixture(samples, options);
    setGeneratedKernelsEnabled(false);
    const blocked = fitGaussianMixture(samples, options);
    setGeneratedKernelsEnabled(true);
    // a fresh copy of the package, whose kernel cache is empty, under a page that refuses
    // `new Function` with an EvalError, as a CSP without 'unsafe-eval' does
    vi.resetModules();
    const fresh = await import('../src/index.ts');
    const freshKernels = await import('../src/kernels.ts');
    let attempts = 0;
    vi.stubGlobal(
      'Function',
      class RefusedFunction {
        constructor() {
          attempts++;
          throw new EvalError('Refused to evaluate a string as JavaScript: unsafe-eval is not allowed');
        }
      },
    );
    const refused = fresh.fitGaussianMixture(samples, options);
    const shape = {
      nComponents: 3,
      nFeatures: 3,
      prior: false,
      weighted: false,
      responsibilities: false,
      fullSecondMoments: true,
      kind: 'direct' as const,
    };
    expect(freshKernels.kernelFor(shape)).toBeUndefined();
    vi.unstubAllGlobals();
    expect(attempts).toBe(1);
    // exactly the blocked loops' fit...
    expect(refused.logLikelihoodTrace).toEqual(blocked.logLikelihoodTrace);
    expect(refused.model).toEqual(blocked.model);
    // ...which is the generated kernels' fit up to round-off
    expect(refused.nIter).toBe(generated.nIter);
    expect(relativeDifference(refused.logLikelihoodTrace, generated.logLikelihoodTrace)).toBeLessThan(1e-12);
    expect(relativeDifference(refused.model.means.flat(), generated.model.means.flat())).toBeLessThan(1e-10);
    expect(
      relativeDifference(refused.model.covariances.flat(2), generated.model.covariances.flat(2)),
    ).toBeLessThan(1e-9);
  });
});
