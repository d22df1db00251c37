/**
 * The partial-volume mixture in the units it is fitted in and the units it is reported in: the
 * intensities are put on a lattice (integers the E-step tabulates densities over), and the model
 * goes back to intensity units, or to a one-feature Gaussian mixture of its pure classes.
 */
import type { GaussianMixture, PartialVolumeMixture } from '@mixseg/core';

/** Steps of the lattice the intensities are put on (tables that stay in cache). */
export const LATTICE_STEPS = 4096;

/** Intensity x is stored as round((x - origin) / step). */
export interface Lattice {
  origin: number;
  step: number;
}

/**
 * The lattice for values in [low, high]: integer data spanning at most LATTICE_STEPS values keep
 * their own integers (step 1, exact); anything else gets LATTICE_STEPS steps over the range.
 */
export function intensityLattice(low: number, high: number, integerValued: boolean): Lattice {
  if (!(high > low)) return { origin: low, step: 1 };
  if (integerValued && high - low <= LATTICE_STEPS) return { origin: low, step: 1 };
  return { origin: low, step: (high - low) / LATTICE_STEPS };
}

/** Lattice values of x / field (clamped to a band around the lattice). */
export function latticeValues(
  values: ArrayLike<number>,
  field: ArrayLike<number> | undefined,
  lattice: Lattice,
  out: Float32Array,
): void {
  const { origin, step } = lattice;
  const low = -LATTICE_STEPS;
  const high = 2 * LATTICE_STEPS;
  for (let i = 0; i < out.length; i++) {
    const x = field ? values[i]! / field[i]! : values[i]!;
    const v = Math.round((x - origin) / step);
    out[i] = v < low ? low : Math.min(v, high);
  }
}

/** A partial-volume model on the lattice, mapped to intensity units (or back, with `inverse`). */
export function modelInIntensityUnits(
  model: PartialVolumeMixture,
  lattice: Lattice,
  inverse = false,
): PartialVolumeMixture {
  const { origin, step } = lattice;
  const map = inverse ? (x: number) => (x - origin) / step : (x: number) => origin + step * x;
  const scale = inverse ? 1 / (step * step) : step * step;
  return {
    ...model,
    means: model.means.map(map),
    variances: model.variances.map((v) => v * scale),
    weights: [...model.weights],
    pairs: model.pairs.map(([a, b]) => [a, b] as [number, number]),
    pairWeights: [...model.pairWeights],
    outlier: model.outlier
      ? { ...model.outlier, low: map(model.outlier.low), high: map(model.outlier.high) }
      : null,
  };
}

/** Each class's share of the voxels it holds the majority of (pure, and half of each mixel class). */
export function classShares(model: PartialVolumeMixture): number[] {
  const shares = [...model.weights];
  model.pairs.forEach(([a, b], p) => {
    // fraction steps t >= 1/2 belong to a: with an even number of steps, half of them
    const steps = model.nSteps;
    const toA = Math.ceil(steps / 2) / steps;
    shares[a]! += model.pairWeights[p]! * toA;
    shares[b]! += model.pairWeights[p]! * (1 - toA);
  });
  const total = shares.reduce((x, y) => x + y, 0);
  return shares.map((s) => (total > 0 ? s / total : 1 / shares.length));
}

/** The pure classes of a partial-volume model as a one-feature Gaussian mixture (weights: class shares). */
export function pureClassesAsGaussianMixture(model: PartialVolumeMixture): GaussianMixture {
  return {
    covarianceType: 'full',
    nComponents: model.nClasses,
    nFeatures: 1,
    weights: classShares(model),
    means: model.means.map((m) => [m]),
    covariances: model.variances.map((v) => [[v]]),
    precisionsCholesky: model.variances.map((v) => [[1 / Math.sqrt(v)]]),
  };
}
