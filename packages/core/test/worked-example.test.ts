import { describe, expect, it } from 'vitest';
import { expectationStep, fitGaussianMixture, type GaussianMixture } from '../src/index.ts';

// docs/algorithms.md, section 1.6, "Worked example" (`#worked-example`):
// X = {-3, -2.5, -1, 0, 2, 4, 5}, K = 3, components N(-4, 1), N(0, 0.2), N(8, 3), weights 1/3 each.
const samples = { data: Float64Array.of(-3, -2.5, -1, 0, 2, 4, 5), nSamples: 7, nFeatures: 1 };
// The same problem on a grid of half-units, so that the integer strategies apply: x' = 2x,
// means x2, variances x4, log-likelihood shifted by -7 log 2.
const doubled = { data: samples.data.map((x) => 2 * x), nSamples: 7, nFeatures: 1 };
const initialParameters = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [[-4], [0], [8]],
  covariances: [1, 0.2, 3],
};

function initialModel(): GaussianMixture {
  const variances = [1, 0.2, 3];
  return {
    covarianceType: 'full',
    nComponents: 3,
    nFeatures: 1,
    weights: [1 / 3, 1 / 3, 1 / 3],
    means: [[-4], [0], [8]],
    covariances: variances.map((v) => [[v]]),
    precisionsCholesky: variances.map((v) => [[1 / Math.sqrt(v)]]),
  };
}

describe('the worked example of docs/algorithms.md', () => {
  it('reproduces the first E-step responsibilities, N_k and log-likelihood', () => {
    const { logResponsibilities, meanLogLikelihood } = expectationStep(initialModel(), samples);
    const expected = [
      [1.0, 0.0, 0.0],
      [1.0, 0.0, 0.0],
      [0.057, 0.943, 0.0],
      [0.001, 0.999, 0.0],
      [0.0, 0.066, 0.934],
      [0.0, 0.0, 1.0],
      [0.0, 0.0, 1.0],
    ];
    const nk = [0, 0, 0];
    expected.forEach((row, i) => {
      row.forEach((value, k) => {
        const r = Math.exp(logResponsibilities[i * 3 + k]!);
        // The notes' table is rounded by hand (0.00015 is printed as 0.001); the exact N_k below
        // pin the values down.
        expect(Math.abs(r - value)).toBeLessThanOrEqual(0.0011);
        nk[k]! += r;
      });
    });
    expect(nk[0]).toBeCloseTo(2.0572, 4);
    expect(nk[1]).toBeCloseTo(2.009, 4);
    expect(nk[2]).toBeCloseTo(2.9338, 4);
    expect(meanLogLikelihood * 7).toBeCloseTo(-28.3255, 4);
  });

  it('converges from the same start to the published mixture and log-likelihood', () => {
    for (const strategy of ['auto', 'direct'] as const) {
      const fit = fitGaussianMixture(samples, {
        nComponents: 3,
        initialParameters,
        regCovar: 0,
        tol: 1e-10,
        strategy,
      });
      expect(fit.converged).toBe(true);
      expect(fit.logLikelihoodTrace[0]! * 7).toBeCloseTo(-28.3255, 4);
      const { weights, means, covariances } = fit.model;
      expect(weights.map((w) => w.toFixed(3))).toEqual(['0.286', '0.283', '0.431']);
      expect(means.map((m) => m[0]!.toFixed(2))).toEqual(['-2.75', '-0.50', '3.64']);
      expect(covariances.map((c) => c[0]![0]!.toFixed(3))).toEqual(['0.062', '0.251', '1.629']);
      expect(fit.meanLogLikelihood * 7).toBeCloseTo(-13.9733, 4);
      expect(fit.strategy).toBe('direct');
    }
  });

  it('gives the same fit on the integer grid with every E-step strategy', () => {
    for (const strategy of ['direct', 'tabulated', 'histogram'] as const) {
      const fit = fitGaussianMixture(doubled, {
        nComponents: 3,
        initialParameters: {
          weights: [1 / 3, 1 / 3, 1 / 3],
          means: [[-8], [0], [16]],
          covariances: [4, 0.8, 12],
        },
        regCovar: 0,
        tol: 1e-10,
        strategy,
      });
      expect(fit.strategy).toBe(strategy);
      expect(fit.logLikelihoodTrace[0]! * 7 + 7 * Math.log(2)).toBeCloseTo(-28.3255, 4);
      expect(fit.meanLogLikelihood * 7 + 7 * Math.log(2)).toBeCloseTo(-13.9733, 4);
      expect(fit.model.means.map((m) => (m[0]! / 2).toFixed(2))).toEqual(['-2.75', '-0.50', '3.64']);
      expect(fit.model.covariances.map((c) => (c[0]![0]! / 4).toFixed(3))).toEqual([
        '0.062',
        '0.251',
        '1.629',
      ]);
    }
  });

  it('never decreases the log-likelihood along the way', () => {
    const fit = fitGaussianMixture(samples, { nComponents: 3, initialParameters, regCovar: 0, tol: 1e-12 });
    const trace = fit.logLikelihoodTrace;
    for (let i = 1; i < trace.length; i++) expect(trace[i]).toBeGreaterThanOrEqual(trace[i - 1]! - 1e-12);
  });
});
