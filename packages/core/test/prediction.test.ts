import { describe, expect, it } from 'vitest';
import {
  aic,
  bic,
  createRandom,
  fitGaussianMixture,
  type GaussianMixture,
  nParameters,
  parseGaussianMixture,
  predict,
  predictProba,
  sample,
  score,
  scoreSamples,
  serializeGaussianMixture,
} from '../src/index.ts';

const truth: GaussianMixture = {
  covarianceType: 'full',
  nComponents: 3,
  nFeatures: 2,
  weights: [0.3, 0.3, 0.4],
  means: [
    [0, 0],
    [4, 4],
    [8, 0],
  ],
  covariances: [
    [
      [1, 0.3],
      [0.3, 1],
    ],
    [
      [1.5, 0],
      [0, 0.5],
    ],
    [
      [0.7, -0.2],
      [-0.2, 1.2],
    ],
  ],
  precisionsCholesky: [
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 0],
      [0, 1],
    ],
  ],
};

/** Naive log N(x | mu, Sigma) for D = 2 by explicit inverse and determinant. */
function naiveLogDensity(x: number[], mean: number[], c: number[][]): number {
  const det = c[0]![0]! * c[1]![1]! - c[0]![1]! * c[1]![0]!;
  const dx = [x[0]! - mean[0]!, x[1]! - mean[1]!];
  const q = (c[1]![1]! * dx[0]! ** 2 - 2 * c[0]![1]! * dx[0]! * dx[1]! + c[0]![0]! * dx[1]! ** 2) / det;
  return -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
}

describe('prediction', () => {
  const { samples, labels } = sample(truth, 4000, 3);
  const fit = fitGaussianMixture(samples, { nInit: 2, seed: 1 });

  it('agrees with a naive density computation', () => {
    const logLikelihoods = scoreSamples(fit.model, samples);
    const proba = predictProba(fit.model, samples);
    for (let i = 0; i < 4000; i += 137) {
      const x = [samples.data[i * 2]!, samples.data[i * 2 + 1]!];
      const joint = fit.model.means.map(
        (mean, k) => Math.log(fit.model.weights[k]!) + naiveLogDensity(x, mean, fit.model.covariances[k]!),
      );
      const total = Math.log(joint.reduce((a, b) => a + Math.exp(b), 0));
      expect(logLikelihoods[i]).toBeCloseTo(total, 10);
      joint.forEach((value, k) => {
        expect(proba[i * 3 + k]).toBeCloseTo(Math.exp(value - total), 10);
      });
    }
  });

  it('labels each sample with its most probable component, and rows of probabilities sum to one', () => {
    const predicted = predict(fit.model, samples);
    const proba = predictProba(fit.model, samples, { out: new Float32Array(12000) });
    expect(proba).toBeInstanceOf(Float32Array);
    let agree = 0;
    for (let i = 0; i < 4000; i++) {
      const row = [proba[i * 3]!, proba[i * 3 + 1]!, proba[i * 3 + 2]!];
      expect(row[0]! + row[1]! + row[2]!).toBeCloseTo(1, 6);
      expect(row[predicted[i]!]).toBe(Math.max(...row));
      if (predicted[i] === labels[i]) agree++;
    }
    // the truth's components are already in ascending order of feature 0
    expect(agree / 4000).toBeGreaterThan(0.97);
  });

  it("scores as the mean of the per-sample log-likelihoods, equal to the fit's own", () => {
    const logLikelihoods = scoreSamples(fit.model, samples);
    const mean = logLikelihoods.reduce((a, b) => a + b, 0) / 4000;
    expect(score(fit.model, samples)).toBeCloseTo(mean, 12);
    expect(fit.meanLogLikelihood).toBeCloseTo(mean, 10);
  });

  it('computes BIC and AIC from the log-likelihood and the parameter count, and BIC picks K = 3', () => {
    const n = 4000;
    const logLikelihood = score(fit.model, samples) * n;
    expect(nParameters(fit.model)).toBe(3 * 3 + 3 * 2 + 2);
    expect(bic(fit.model, samples)).toBeCloseTo(-2 * logLikelihood + 17 * Math.log(n), 6);
    expect(aic(fit.model, samples)).toBeCloseTo(-2 * logLikelihood + 2 * 17, 6);
    const bics = [1, 2, 3, 4, 5].map((k) =>
      bic(fitGaussianMixture(samples, { nComponents: k, seed: 2 }).model, samples),
    );
    expect(bics.indexOf(Math.min(...bics))).toBe(2);
    const counts = { full: 17, tied: 3 + 6 + 2, diag: 6 + 6 + 2, spherical: 3 + 6 + 2 };
    for (const [covarianceType, expected] of Object.entries(counts)) {
      expect(
        nParameters({ ...truth, covarianceType: covarianceType as GaussianMixture['covarianceType'] }),
      ).toBe(expected);
    }
  });

  it('accepts covariances that are symmetric only up to round-off, as other tools write them', () => {
    const model: GaussianMixture = {
      ...truth,
      nComponents: 1,
      weights: [1],
      means: [[0, 0]],
      covariances: [
        [
          [1, 0.30000000000000004],
          [0.3, 1],
        ],
      ],
      precisionsCholesky: [
        [
          [1, 0],
          [0, 1],
        ],
      ],
    };
    expect(Array.from(predict(model, { data: Float64Array.of(1, 2), nSamples: 1, nFeatures: 2 }))).toEqual([
      0,
    ]);
    const fit = fitGaussianMixture(sample(truth, 500, 1).samples, {
      nComponents: 1,
      initialParameters: { means: [[1, 1]], covariances: model.covariances },
    });
    expect(fit.converged).toBe(true);
  });

  it('refuses samples with the wrong number of features', () => {
    expect(() => predict(fit.model, { data: new Float64Array(3), nSamples: 3, nFeatures: 1 })).toThrow(
      'samples have 1 features, the model expects 2',
    );
  });
});

describe('JSON round trip', () => {
  it('gives back the model bit for bit, and the same predictions', () => {
    const { samples } = sample(truth, 1000, 5);
    for (const covarianceType of ['full', 'tied', 'diag', 'spherical'] as const) {
      const { model } = fitGaussianMixture(samples, { covarianceType, seed: 1 });
      const text = serializeGaussianMixture(model);
      expect(JSON.parse(text).format).toBe('mixseg.gaussian-mixture');
      const back = parseGaussianMixture(text);
      expect(back).toEqual(model);
      expect(Array.from(predictProba(back, samples))).toEqual(Array.from(predictProba(model, samples)));
    }
  });

  it('rejects text that is not a valid model, saying why', () => {
    const good = JSON.parse(
      serializeGaussianMixture(fitGaussianMixture(sample(truth, 300, 1).samples).model),
    );
    const cases: [unknown, string][] = [
      ['{"weights": [', 'the JSON does not parse'],
      [{ ...good, format: 'other' }, 'format must be "mixseg.gaussian-mixture"'],
      [{ ...good, version: 2 }, 'version 2 is not supported'],
      [{ ...good, covarianceType: 'banded' }, 'covarianceType must be one of'],
      [{ ...good, weights: [0.5, 0.5, 0.5] }, 'weights must sum to 1'],
      [{ ...good, means: [[0, 0]] }, 'means must be 3 rows of 2 finite numbers'],
      [
        {
          ...good,
          covariances: good.covariances.map(() => [
            [1, 2],
            [2, 1],
          ]),
        },
        'covariances[0] is not positive definite',
      ],
      [
        {
          ...good,
          covariances: good.covariances.map(() => [
            [1, 0.5],
            [0, 1],
          ]),
        },
        'covariances[0] is not symmetric',
      ],
    ];
    for (const [input, message] of cases) {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      expect(() => parseGaussianMixture(text)).toThrow(TypeError);
      expect(() => parseGaussianMixture(text)).toThrow(message);
    }
  });
});

describe('sample', () => {
  it('draws from the model: seeded, with the right proportions and moments', () => {
    const a = sample(truth, 50_000, 11);
    const b = sample(truth, 50_000, 11);
    expect(Array.from(b.samples.data.subarray(0, 100))).toEqual(Array.from(a.samples.data.subarray(0, 100)));
    const counts = [0, 0, 0];
    const sums = [0, 0, 0];
    for (let i = 0; i < 50_000; i++) {
      counts[a.labels[i]!]!++;
      sums[a.labels[i]!]! += a.samples.data[i * 2]!;
    }
    truth.weights.forEach((w, k) => {
      expect(Math.abs(counts[k]! / 50_000 - w)).toBeLessThan(0.01);
      expect(Math.abs(sums[k]! / counts[k]! - truth.means[k]![0]!)).toBeLessThan(0.05);
    });
  });
});

describe('createRandom', () => {
  it('repeats its stream for a seed, and differs across seeds and streams', () => {
    const draw = (seed: number, stream = 0) => {
      const random = createRandom(seed, stream);
      return Array.from({ length: 5 }, () => random.nextFloat());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1)).not.toEqual(draw(1, 1));
    const random = createRandom(123);
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < 100_000; i++) {
      const z = random.nextNormal();
      sum += z;
      sumSquares += z * z;
      const u = random.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
    }
    expect(Math.abs(sum / 100_000)).toBeLessThan(0.01);
    expect(Math.abs(sumSquares / 100_000 - 1)).toBeLessThan(0.02);
  });
});
