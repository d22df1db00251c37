import { describe, expect, it } from 'vitest';
import {
  createRandom,
  fitPartialVolumeMixture,
  type PartialVolumeMixture,
  type PriorUpdateContext,
  parseMixtureModel,
  serializePartialVolumeMixture,
} from '../src/index.ts';

const MEANS = [300, 650, 850];
const SD = 30;

/**
 * Integer intensities drawn from a known partial-volume model: pure classes at MEANS with SD, a
 * CSF/GM and a GM/WM mixel class with the fraction t uniform on [0, 1], and the true t of each.
 */
function partialVolumeSamples(n: number, seed: number, extra: number[] = []) {
  const random = createRandom(seed, 0);
  const gauss = () => {
    let u = 0;
    while (u === 0) u = random.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
  };
  const data = new Float32Array(n + extra.length);
  for (let i = 0; i < n; i++) {
    const u = random.nextFloat();
    let mean: number;
    if (u < 0.2) mean = MEANS[0]!;
    else if (u < 0.5) mean = MEANS[1]!;
    else if (u < 0.8) mean = MEANS[2]!;
    else if (u < 0.9) {
      const t = random.nextFloat();
      mean = t * MEANS[0]! + (1 - t) * MEANS[1]!;
    } else {
      const t = random.nextFloat();
      mean = t * MEANS[1]! + (1 - t) * MEANS[2]!;
    }
    data[i] = Math.round(mean + SD * gauss());
  }
  data.set(extra, n);
  return { data, nSamples: data.length, nFeatures: 1 };
}

/** A start that is off on purpose, as a plain mixture would give (broad classes). */
const START = { means: [320, 640, 840], variances: [50 ** 2, 50 ** 2, 35 ** 2], weights: [0.25, 0.4, 0.35] };

describe('fitPartialVolumeMixture', () => {
  const samples = partialVolumeSamples(200_000, 1);

  it('recovers the pure classes at the noise spread, and the mixel weights', () => {
    const fit = fitPartialVolumeMixture(samples, { initialParameters: START });
    expect(fit.converged).toBe(true);
    for (const [k, mean] of fit.model.means.entries()) expect(Math.abs(mean - MEANS[k]!)).toBeLessThan(2);
    for (const variance of fit.model.variances) expect(Math.abs(Math.sqrt(variance) - SD)).toBeLessThan(1);
    for (const [k, weight] of fit.model.weights.entries()) {
      expect(Math.abs(weight - [0.2, 0.3, 0.3][k]!)).toBeLessThan(0.01);
    }
    for (const weight of fit.model.pairWeights) expect(Math.abs(weight - 0.1)).toBeLessThan(0.01);
    expect(fit.model.pairs).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('never lets the log-likelihood decrease without regularisation', () => {
    const fit = fitPartialVolumeMixture(samples, { initialParameters: START, tol: 1e-9, maxIter: 60 });
    const trace = fit.logLikelihoodTrace;
    for (let i = 1; i < trace.length; i++) expect(trace[i]!).toBeGreaterThanOrEqual(trace[i - 1]! - 1e-9);
  });

  it('gives fractions that sum to 1, pure at a class mean and half and half midway', () => {
    const N = samples.nSamples;
    const fractions = new Float32Array(N * 3);
    const responsibilities = new Float32Array(N * 3);
    fitPartialVolumeMixture(samples, { initialParameters: START, fractions, responsibilities });
    const at = (value: number) => {
      const i = samples.data.indexOf(value);
      expect(i).toBeGreaterThanOrEqual(0);
      return Array.from(fractions.subarray(3 * i, 3 * i + 3));
    };
    for (let i = 0; i < N; i += 997) {
      const sum = fractions[3 * i]! + fractions[3 * i + 1]! + fractions[3 * i + 2]!;
      expect(sum).toBeCloseTo(1, 5);
    }
    expect(at(300)[0]).toBeGreaterThan(0.9);
    expect(at(850)[2]).toBeGreaterThan(0.9);
    const midway = at(475);
    expect(Math.abs(midway[0]! - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(midway[1]! - 0.5)).toBeLessThan(0.05);
    // the responsibilities are majority classes: midway between CSF and GM, either may hold it
    const i = samples.data.indexOf(475);
    expect(responsibilities[3 * i]! + responsibilities[3 * i + 1]!).toBeGreaterThan(0.99);
  });

  it('lets an outlier class take a bright cluster instead of moving a class onto it', () => {
    const cluster = new Array<number>(6000).fill(0).map((_, i) => 1400 + (i % 40));
    const withCluster = partialVolumeSamples(200_000, 1, cluster);
    const inliers = new Float32Array(withCluster.nSamples);
    const fit = fitPartialVolumeMixture(withCluster, {
      initialParameters: START,
      outlierWeight: 0.02,
      inliers,
    });
    for (const [k, mean] of fit.model.means.entries()) expect(Math.abs(mean - MEANS[k]!)).toBeLessThan(3);
    expect(Math.sqrt(fit.model.variances[2]!)).toBeLessThan(SD + 2);
    expect(inliers[withCluster.nSamples - 1]).toBeLessThan(0.01);
    expect(inliers[0]).toBeGreaterThan(0.9);
    let low = Infinity;
    for (const x of withCluster.data) low = Math.min(low, x);
    expect(fit.model.outlier).toEqual({ weight: 0.02, low, high: 1439 });
  });

  it('keeps each mixel class at most mixelCap times its smaller pure class (pairWeightCap)', () => {
    const fit = fitPartialVolumeMixture(samples, {
      initialParameters: { ...START, weights: [0.02, 0.5, 0.48] },
      pairWeightCap: 0.5,
    });
    fit.model.pairs.forEach(([a, b], p) => {
      expect(fit.model.pairWeights[p]!).toBeLessThanOrEqual(
        0.5 * Math.min(fit.model.weights[a]!, fit.model.weights[b]!) + 1e-12,
      );
    });
    const total = [...fit.model.weights, ...fit.model.pairWeights].reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 12);
  });

  it('calls the prior hook between iterations and stops when the labels are stable', () => {
    const N = samples.nSamples;
    let calls = 0;
    const fit = fitPartialVolumeMixture(samples, {
      initialParameters: START,
      labelTol: 0.001,
      updatePrior: (context: PriorUpdateContext) => {
        calls++;
        expect(context.responsibilities.length).toBe(N * 3);
        context.prior.fill(1);
      },
    });
    expect(calls).toBe(fit.nIter);
    expect(fit.stopReason).toBe('labels-stable');
  });

  it('gives each sample its expected intensity and noise variance, per value or with a prior', () => {
    const N = samples.nSamples;
    const fractions = new Float32Array(N * 3);
    const expectations = { means: new Float64Array(N), variances: new Float64Array(N), origin: 10, step: 2 };
    const fit = fitPartialVolumeMixture(samples, { initialParameters: START, fractions, expectations });
    for (let i = 0; i < N; i += 1009) {
      let mean = 0;
      let variance = 0;
      for (let k = 0; k < 3; k++) {
        mean += fractions[3 * i + k]! * fit.model.means[k]!;
        variance += fractions[3 * i + k]! * fit.model.variances[k]!;
      }
      expect(expectations.means[i]).toBeCloseTo(10 + 2 * mean, 3);
      expect(expectations.variances[i]).toBeCloseTo(4 * variance, 3);
    }
    // with a per-sample prior equal to the class shares, the same, from each sample's responsibilities
    const shares = [...fit.model.weights];
    fit.model.pairs.forEach(([a, b], p) => {
      shares[a]! += fit.model.pairWeights[p]! / 2;
      shares[b]! += fit.model.pairWeights[p]! / 2;
    });
    const prior = new Float32Array(N * 3);
    for (let i = 0; i < N; i++) prior.set(shares, 3 * i);
    const withPrior = { means: new Float64Array(N), variances: new Float64Array(N) };
    fitPartialVolumeMixture(samples, {
      initialModel: fit.model,
      fixedParameters: true,
      prior,
      expectations: withPrior,
    });
    for (let i = 0; i < N; i += 1009)
      expect(withPrior.means[i]).toBeCloseTo((expectations.means[i]! - 10) / 2, 3);
  });

  it('holds every parameter with fixedParameters', () => {
    const first = fitPartialVolumeMixture(samples, { initialParameters: START });
    const held = fitPartialVolumeMixture(samples, { initialModel: first.model, fixedParameters: true });
    expect(held.model).toEqual(first.model);
    expect(held.nIter).toBe(0);
  });

  it('is deterministic and leaves out zero-weight samples', () => {
    const a = fitPartialVolumeMixture(samples, { initialParameters: START });
    const b = fitPartialVolumeMixture(samples, { initialParameters: START });
    expect(b.model).toEqual(a.model);
    // a spike of zeros with weight 0 changes nothing
    const spiked = partialVolumeSamples(200_000, 1, new Array<number>(5000).fill(0));
    const weights = new Float32Array(spiked.nSamples).fill(1).fill(0, 200_000);
    const c = fitPartialVolumeMixture(spiked, { initialParameters: START, sampleWeights: weights });
    for (const [k, mean] of c.model.means.entries()) expect(mean).toBeCloseTo(a.model.means[k]!, 6);
  });

  it('round-trips through JSON and is told apart from a Gaussian mixture', () => {
    const { model } = fitPartialVolumeMixture(samples, { initialParameters: START, outlierWeight: 0.01 });
    const parsed = parseMixtureModel(serializePartialVolumeMixture(model)) as PartialVolumeMixture;
    expect(parsed).toEqual(model);
    expect(() =>
      parseMixtureModel({ ...JSON.parse(serializePartialVolumeMixture(model)), weights: [1, 1, 1] }),
    ).toThrow(/sum to 1/);
  });

  it('throws RangeError for data it cannot fit, naming the problem', () => {
    const fractional = { data: Float32Array.from([1.5, 2, 3]), nSamples: 3, nFeatures: 1 };
    expect(() => fitPartialVolumeMixture(fractional, { initialParameters: START })).toThrow(/integer-valued/);
    const twoFeatures = { data: new Float32Array(6), nSamples: 3, nFeatures: 2 };
    expect(() => fitPartialVolumeMixture(twoFeatures, { initialParameters: START })).toThrow(/one feature/);
    expect(() => fitPartialVolumeMixture(samples, {} as never)).toThrow(/initialParameters or initialModel/);
    expect(() =>
      fitPartialVolumeMixture(samples, { initialParameters: START, responsibilities: new Float32Array(3) }),
    ).toThrow(/responsibilities has length 3/);
  });
});
