/**
 * The fitted model is plain data; this module checks that an object really is one (shapes,
 * finiteness, weights summing to 1, symmetric positive-definite covariances) and turns it to and
 * from JSON. JSON keeps every double exactly (shortest round-trip representation), so
 * parse(serialize(model)) equals the model bit for bit.
 */
import { choleskyLower } from './linear-algebra.ts';
import { type PartialVolumeMixture, validatePartialVolumeMixture } from './partial-volume-model.ts';
import type { CovarianceType, GaussianMixture } from './types.ts';

const FORMAT = 'mixseg.gaussian-mixture';
const VERSION = 1;
const COVARIANCE_TYPES: readonly CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];

function fail(what: string): never {
  throw new TypeError(`not a valid Gaussian mixture: ${what}`);
}

function checkMatrices(name: string, value: unknown, K: number, D: number): void {
  if (!Array.isArray(value) || value.length !== K) fail(`${name} must hold ${K} matrices`);
  value.forEach((matrix, k) => {
    if (!Array.isArray(matrix) || matrix.length !== D) fail(`${name}[${k}] must be ${D} x ${D}`);
    matrix.forEach((row, i) => {
      if (
        !Array.isArray(row) ||
        row.length !== D ||
        !row.every((v) => typeof v === 'number' && Number.isFinite(v))
      ) {
        fail(`${name}[${k}][${i}] must be ${D} finite numbers`);
      }
    });
  });
}

/** Throws a TypeError saying what is wrong when `model` is not a valid {@link GaussianMixture}. */
export function validateGaussianMixture(model: unknown): asserts model is GaussianMixture {
  if (model === null || typeof model !== 'object') fail(`expected an object, got ${String(model)}`);
  const m = model as Partial<GaussianMixture>;
  if (!COVARIANCE_TYPES.includes(m.covarianceType as CovarianceType)) {
    fail(
      `covarianceType must be one of ${COVARIANCE_TYPES.join(', ')}, got ${JSON.stringify(m.covarianceType)}`,
    );
  }
  const K = m.nComponents;
  const D = m.nFeatures;
  if (!Number.isInteger(K) || K! < 1) fail(`nComponents must be a positive integer, got ${K}`);
  if (!Number.isInteger(D) || D! < 1) fail(`nFeatures must be a positive integer, got ${D}`);
  const weights = m.weights;
  if (
    !Array.isArray(weights) ||
    weights.length !== K ||
    !weights.every((w) => typeof w === 'number' && w >= 0 && w <= 1)
  ) {
    fail(`weights must be ${K} numbers in [0, 1]`);
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) fail(`weights must sum to 1, got ${sum}`);
  if (
    !Array.isArray(m.means) ||
    m.means.length !== K ||
    !m.means.every(
      (row) =>
        Array.isArray(row) &&
        row.length === D &&
        row.every((v) => typeof v === 'number' && Number.isFinite(v)),
    )
  ) {
    fail(`means must be ${K} rows of ${D} finite numbers`);
  }
  checkMatrices('covariances', m.covariances, K!, D!);
  checkMatrices('precisionsCholesky', m.precisionsCholesky, K!, D!);
  m.covariances!.forEach((matrix, k) => {
    const flat: number[] = [];
    for (let i = 0; i < D!; i++) {
      for (let j = 0; j < D!; j++) {
        const v = matrix[i]![j]!;
        if (Math.abs(v - matrix[j]![i]!) > 1e-9 * Math.max(1, Math.abs(v)))
          fail(`covariances[${k}] is not symmetric`);
        flat.push(v);
      }
    }
    if (choleskyLower(flat, D!) === undefined) fail(`covariances[${k}] is not positive definite`);
  });
}

/** JSON text of a model (with a format tag and version, so files can be recognised). */
export function serializeGaussianMixture(model: GaussianMixture): string {
  validateGaussianMixture(model);
  const { covarianceType, nComponents, nFeatures, weights, means, covariances, precisionsCholesky } = model;
  return JSON.stringify(
    {
      format: FORMAT,
      version: VERSION,
      covarianceType,
      nComponents,
      nFeatures,
      weights,
      means,
      covariances,
      precisionsCholesky,
    },
    null,
    2,
  );
}

/** Reads a model from JSON text (or an already parsed object), validating it. */
export function parseGaussianMixture(json: string | object): GaussianMixture {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new TypeError(
        `not a valid Gaussian mixture: the JSON does not parse (${(error as Error).message})`,
      );
    }
  }
  if (value === null || typeof value !== 'object') fail('expected a JSON object');
  const record = value as Record<string, unknown>;
  if (record['format'] !== undefined && record['format'] !== FORMAT) {
    fail(`format must be "${FORMAT}", got ${JSON.stringify(record['format'])}`);
  }
  if (record['version'] !== undefined && record['version'] !== VERSION) {
    fail(`version ${JSON.stringify(record['version'])} is not supported (expected ${VERSION})`);
  }
  const model = {
    covarianceType: record['covarianceType'],
    nComponents: record['nComponents'],
    nFeatures: record['nFeatures'],
    weights: record['weights'],
    means: record['means'],
    covariances: record['covariances'],
    precisionsCholesky: record['precisionsCholesky'],
  };
  validateGaussianMixture(model);
  return model;
}

const PARTIAL_VOLUME_FORMAT = 'mixseg.partial-volume-mixture';

/** JSON text of a partial-volume mixture (with its own format tag and version). */
export function serializePartialVolumeMixture(model: PartialVolumeMixture): string {
  validatePartialVolumeMixture(model);
  const { nClasses, means, variances, weights, pairs, pairWeights, nSteps, outlier } = model;
  return JSON.stringify(
    {
      format: PARTIAL_VOLUME_FORMAT,
      version: VERSION,
      nClasses,
      means,
      variances,
      weights,
      pairs,
      pairWeights,
      nSteps,
      outlier,
    },
    null,
    2,
  );
}

/**
 * Reads a saved model of either kind from JSON text or a parsed object: a partial-volume mixture
 * when its format says so (or it has `pairs`), otherwise a Gaussian mixture. Validates it.
 * @throws TypeError saying what is wrong
 */
export function parseMixtureModel(json: string | object): GaussianMixture | PartialVolumeMixture {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new TypeError(`not a valid model: the JSON does not parse (${(error as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object')
    throw new TypeError('not a valid model: expected a JSON object');
  const record = value as Record<string, unknown>;
  if (record['format'] === PARTIAL_VOLUME_FORMAT || (record['format'] === undefined && 'pairs' in record)) {
    if (record['version'] !== undefined && record['version'] !== VERSION) {
      throw new TypeError(
        `not a valid partial-volume mixture: version ${JSON.stringify(record['version'])} is not supported`,
      );
    }
    const model = {
      nClasses: record['nClasses'],
      means: record['means'],
      variances: record['variances'],
      weights: record['weights'],
      pairs: record['pairs'],
      pairWeights: record['pairWeights'],
      nSteps: record['nSteps'],
      outlier: record['outlier'] ?? null,
    };
    validatePartialVolumeMixture(model);
    return model;
  }
  return parseGaussianMixture(record);
}
