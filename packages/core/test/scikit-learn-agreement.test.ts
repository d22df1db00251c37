import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  aic,
  bic,
  type CovarianceType,
  fitGaussianMixture,
  type GaussianMixture,
  type GaussianMixtureFit,
  predict,
  predictProba,
  type SampleMatrix,
  score,
  scoreSamples,
} from '../src/index.ts';

// The fixture is made by test-data/make-sklearn-fixture.py (see test-data/README.md): three data
// sets, each fitted by scikit-learn's GaussianMixture with every covariance type.

interface Parameters {
  weights: number[];
  means: number[][];
  /** K x D x D */
  covariances: number[][][];
}

interface SklearnModel extends Parameters {
  covarianceType: CovarianceType;
  nComponents: number;
  nFeatures: number;
  /** K x D x D, upper triangular: precision = U U^T */
  precisionsCholesky: number[][][];
}

/** One scikit-learn fit: the converged model and how the fit went. */
interface SklearnRun {
  model: SklearnModel;
  nIter: number;
  converged: boolean;
  /** scikit-learn's lower_bound_: the mean log-likelihood of the model one M-step before the last. */
  lowerBound: number;
  /** score(X) of the converged model. */
  score: number;
}

interface SklearnFit extends SklearnRun {
  /** The start scikit-learn's k-means initialisation gave this fit. */
  kmeansInit: Parameters;
  predict: number[];
  /** N x K, row-major */
  predictProba: number[];
  scoreSamples: number[];
  bic: number;
  aic: number;
  /** A second fit from explicit weights_init, means_init and precisions_init. */
  warmStart: SklearnRun & { init: Parameters };
}

interface Dataset {
  name: string;
  description: string;
  nSamples: number;
  nFeatures: number;
  /** N x D, row-major */
  data: number[];
  fits: Record<CovarianceType, SklearnFit>;
}

interface Fixture {
  versions: { sklearn: string };
  settings: {
    nComponents: number;
    tol: number;
    maxIter: number;
    regCovar: number;
    randomState: number;
    nInit: number;
  };
  datasets: Dataset[];
}

const FIXTURE_URL = new URL('../../../test-data/sklearn-gaussian-mixture.json', import.meta.url);
const COVARIANCE_TYPES = ['full', 'tied', 'diag', 'spherical'] as const;

function loadFixture(): Fixture {
  const path = fileURLToPath(FIXTURE_URL);
  if (!existsSync(path)) {
    throw new Error(
      `The scikit-learn fixture ${path} is missing. It is committed with the repository; restore it ` +
        '(git checkout test-data/sklearn-gaussian-mixture.json) or regenerate it with ' +
        '/usr/bin/python3 test-data/make-sklearn-fixture.py',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

const fixture = loadFixture();
const { settings } = fixture;

// Tolerances. Each says what separates the two numbers compared, and what was observed (with
// scikit-learn 1.2.1) when this test was written.

/** Predictions from the same parameters differ by round-off only (observed <= 1e-14). */
const PREDICTION = { abs: 1e-9, rel: 1e-9 };
/**
 * Parameters of fits stopped by tol = 1e-10: EM stops some sqrt(tol) away from the optimum, and
 * scikit-learn takes one more M-step after the gain falls below tol than @mixseg/core does.
 * Relative to each array's largest magnitude (observed <= 1.05e-5, the slow one-feature fits).
 */
const CONVERGED_PARAMETERS = 2e-5;
/** Mean log-likelihoods of fits stopped by tol: they differ by less than the last gain, < tol. */
const CONVERGED_LOG_LIKELIHOOD = { abs: 1e-9 };
/** The same number of EM iterations from the same start: round-off only (observed <= 2e-14). */
const SAME_ITERATIONS = 1e-10;
/** Log-likelihoods of the same parameters (observed <= 4e-15). */
const SAME_LOG_LIKELIHOOD = { abs: 1e-12 };

interface Tolerance {
  abs?: number;
  rel?: number;
}

/** Element-wise |actual - expected| <= abs + rel |expected|, naming the worst element on failure. */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: string,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const difference = Math.abs(actual[i]! - e);
    const allowed = (tolerance.abs ?? 0) + (tolerance.rel ?? 0) * Math.abs(e);
    const excess = Number.isNaN(difference) ? Infinity : difference - allowed;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  const message =
    worst < 0
      ? what
      : `${what}: element ${worst} is ${actual[worst]}, scikit-learn has ${expected[worst]} ` +
        `(difference ${Math.abs(actual[worst]! - expected[worst]!)}, tolerance ${JSON.stringify(tolerance)})`;
  expect(worstExcess, message).toBe(0);
}

/** Agreement relative to the largest magnitude in `expected` (for matrices with near-zero entries). */
function expectCloseToScale(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  what: string,
): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  expectClose(actual, expected, { abs: rel * scale }, `${what} (relative to ${scale})`);
}

/** The @mixseg/core model holding scikit-learn's fitted parameters. */
function modelFrom(sklearn: SklearnModel): GaussianMixture {
  return {
    covarianceType: sklearn.covarianceType,
    nComponents: sklearn.nComponents,
    nFeatures: sklearn.nFeatures,
    weights: sklearn.weights,
    means: sklearn.means,
    // scikit-learn's covariances are symmetric only up to round-off (0.7222642757686888 against
    // 0.7222642757686887): @mixseg/core must accept them as they are.
    covariances: sklearn.covariances,
    precisionsCholesky: sklearn.precisionsCholesky,
  };
}

/** fitGaussianMixture with scikit-learn's settings, from a given start, in scikit-learn's order. */
function fitFrom(
  samples: SampleMatrix,
  covarianceType: CovarianceType,
  init: Parameters,
  stopping: { tol: number; maxIter: number },
): GaussianMixtureFit {
  return fitGaussianMixture(samples, {
    nComponents: settings.nComponents,
    covarianceType,
    regCovar: settings.regCovar,
    tol: stopping.tol,
    maxIter: stopping.maxIter,
    initialParameters: {
      weights: init.weights,
      means: init.means,
      covariances: init.covariances,
    },
    componentOrder: 'fixed',
  });
}

/** Checks a fit stopped by tol against scikit-learn's fit from the same start. */
function expectConvergedLike(fit: GaussianMixtureFit, sklearn: SklearnRun, what: string): void {
  expect(sklearn.converged, `${what}: scikit-learn converged`).toBe(true);
  expect(fit.converged, `${what}: converged`).toBe(true);
  expect(fit.stopReason).toBe('tolerance');
  // scikit-learn counts the M-step it takes after the gain fell below tol; @mixseg/core stops
  // before it. Its model is therefore scikit-learn's one M-step earlier, whose mean log-likelihood
  // is scikit-learn's lower_bound_.
  expect(sklearn.nIter - fit.nIter, `${what}: scikit-learn's n_iter_ minus nIter`).toBe(1);
  expectClose([fit.meanLogLikelihood], [sklearn.lowerBound], SAME_LOG_LIKELIHOOD, `${what}: lower_bound_`);
  expectClose([fit.meanLogLikelihood], [sklearn.score], CONVERGED_LOG_LIKELIHOOD, `${what}: score`);
  const { model } = fit;
  expectCloseToScale(model.weights, sklearn.model.weights, CONVERGED_PARAMETERS, `${what}: weights`);
  expectCloseToScale(model.means.flat(), sklearn.model.means.flat(), CONVERGED_PARAMETERS, `${what}: means`);
  expectCloseToScale(
    model.covariances.flat(2),
    sklearn.model.covariances.flat(2),
    CONVERGED_PARAMETERS,
    `${what}: covariances`,
  );
}

/** Checks a fit of exactly scikit-learn's number of iterations against scikit-learn's model. */
function expectSameIterationsLike(fit: GaussianMixtureFit, sklearn: SklearnRun, what: string): void {
  expect(fit.nIter).toBe(sklearn.nIter);
  expectClose([fit.meanLogLikelihood], [sklearn.score], SAME_LOG_LIKELIHOOD, `${what}: score`);
  const { model } = fit;
  expectCloseToScale(model.weights, sklearn.model.weights, SAME_ITERATIONS, `${what}: weights`);
  expectCloseToScale(model.means.flat(), sklearn.model.means.flat(), SAME_ITERATIONS, `${what}: means`);
  expectCloseToScale(
    model.covariances.flat(2),
    sklearn.model.covariances.flat(2),
    SAME_ITERATIONS,
    `${what}: covariances`,
  );
  expectCloseToScale(
    model.precisionsCholesky.flat(2),
    sklearn.model.precisionsCholesky.flat(2),
    SAME_ITERATIONS,
    `${what}: precisionsCholesky`,
  );
}

/** Largest |entry| strictly below (or above) the diagonal of K D x D matrices. */
function largestOffDiagonal(matrices: number[][][], part: 'lower' | 'upper'): number {
  let largest = 0;
  for (const matrix of matrices) {
    matrix.forEach((row, i) => {
      row.forEach((value, j) => {
        if (part === 'lower' ? j < i : j > i) largest = Math.max(largest, Math.abs(value));
      });
    });
  }
  return largest;
}

describe(`the scikit-learn fixture (scikit-learn ${fixture.versions.sklearn})`, () => {
  it('holds three data sets, each fitted with every covariance type and the settings this test assumes', () => {
    expect(fixture.datasets.map((dataset) => dataset.nFeatures)).toEqual([2, 1, 3]);
    expect(settings).toEqual({
      nComponents: 3,
      tol: 1e-10,
      maxIter: 1000,
      regCovar: 1e-6,
      randomState: 0,
      nInit: 1,
    });
    for (const dataset of fixture.datasets) {
      expect(dataset.data).toHaveLength(dataset.nSamples * dataset.nFeatures);
      expect(Object.keys(dataset.fits).sort()).toEqual([...COVARIANCE_TYPES].sort());
    }
  });
});

for (const dataset of fixture.datasets) {
  const samples: SampleMatrix = {
    data: Float64Array.from(dataset.data),
    nSamples: dataset.nSamples,
    nFeatures: dataset.nFeatures,
  };
  const D = dataset.nFeatures;

  describe(`scikit-learn agreement on ${dataset.name}: ${dataset.description}`, () => {
    for (const covarianceType of COVARIANCE_TYPES) {
      const sklearn = dataset.fits[covarianceType];
      const warm = sklearn.warmStart;

      describe(`with ${covarianceType} covariances`, () => {
        it("predicts scikit-learn's label for every sample from scikit-learn's fitted parameters", () => {
          const labels = predict(modelFrom(sklearn.model), samples);
          const mismatches = sklearn.predict.flatMap((label, i) => (labels[i] === label ? [] : [i]));
          expect(mismatches, 'samples labelled differently').toEqual([]);
        });

        it("gives scikit-learn's responsibilities to 1e-9", () => {
          const probabilities = predictProba(modelFrom(sklearn.model), samples);
          expectClose(probabilities, sklearn.predictProba, { abs: PREDICTION.abs }, 'predictProba');
        });

        it("gives scikit-learn's per-sample log-likelihoods, mean score, BIC and AIC to 1e-9 relative", () => {
          const model = modelFrom(sklearn.model);
          expectClose(scoreSamples(model, samples), sklearn.scoreSamples, PREDICTION, 'scoreSamples');
          expectClose([score(model, samples)], [sklearn.score], PREDICTION, 'score');
          expectClose([bic(model, samples)], [sklearn.bic], PREDICTION, 'bic');
          expectClose([aic(model, samples)], [sklearn.aic], PREDICTION, 'aic');
        });

        it("converges from scikit-learn's warm start to scikit-learn's parameters and log-likelihood", () => {
          const fit = fitFrom(samples, covarianceType, warm.init, settings);
          expectConvergedLike(fit, warm, 'warm start');
        });

        it("computes scikit-learn's precision Cholesky factors, upper triangular and not transposed", () => {
          const fit = fitFrom(samples, covarianceType, warm.init, settings);
          const expected = warm.model.precisionsCholesky;
          const actual = fit.model.precisionsCholesky;
          expect(largestOffDiagonal(expected, 'lower'), "scikit-learn's factor is upper triangular").toBe(0);
          expect(largestOffDiagonal(actual, 'lower'), 'the factor is upper triangular').toBe(0);
          if (D > 1 && (covarianceType === 'full' || covarianceType === 'tied')) {
            // The factors have off-diagonal entries far above the tolerance, so a transposed
            // (lower triangular) factor cannot pass the comparison below.
            const scale = Math.max(...expected.flat(2).map(Math.abs));
            expect(largestOffDiagonal(expected, 'upper') / scale).toBeGreaterThan(
              1000 * CONVERGED_PARAMETERS,
            );
          }
          expectCloseToScale(actual.flat(2), expected.flat(2), CONVERGED_PARAMETERS, 'precisionsCholesky');
        });

        it("reaches scikit-learn's fit from the k-means start scikit-learn itself used", () => {
          const fit = fitFrom(samples, covarianceType, sklearn.kmeansInit, settings);
          expectConvergedLike(fit, sklearn, 'k-means start');
        });

        it('matches scikit-learn to round-off after the same number of EM iterations from the same start', () => {
          for (const [what, init, run] of [
            ['warm start', warm.init, warm],
            ['k-means start', sklearn.kmeansInit, sklearn],
          ] as const) {
            const fit = fitFrom(samples, covarianceType, init, { tol: 0, maxIter: run.nIter });
            expectSameIterationsLike(fit, run, what);
          }
        });
      });
    }
  });
}
