/**
 * What the fit needs to know about the data before it starts, from one scan: the sample matrix's
 * shape and type, that every value is finite, each feature's weighted moments and robust spread
 * (the default regularisation), and whether feature 0 is integer-valued within a range the
 * tabulated and histogram E-steps can index.
 */
import type { FloatArray, SampleMatrix } from './types.ts';

/** What one scan of the data found. */
export interface DataSummary {
  /** Per feature: weighted mean and variance. */
  means: Float64Array;
  variances: Float64Array;
  /** Feature 0: whether every value is an integer, and the range. */
  integerValued: boolean;
  minimum: number;
  maximum: number;
  sumWeights: number;
  /** Samples with non-zero weight. */
  nEffective: number;
}

/** Checks a sample matrix's shape and type. */
export function validateSampleMatrix(samples: SampleMatrix, name = 'samples'): void {
  if (samples === null || typeof samples !== 'object') {
    throw new TypeError(`${name} must be { data, nSamples, nFeatures }, got ${String(samples)}`);
  }
  const { data, nSamples, nFeatures } = samples;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new TypeError(`${name}.data must be a Float32Array or Float64Array, got ${describe(data)}`);
  }
  if (!Number.isInteger(nSamples) || nSamples < 0) {
    throw new RangeError(`${name}.nSamples must be a non-negative integer, got ${nSamples}`);
  }
  if (!Number.isInteger(nFeatures) || nFeatures < 1) {
    throw new RangeError(`${name}.nFeatures must be a positive integer, got ${nFeatures}`);
  }
  if (data.length !== nSamples * nFeatures) {
    throw new RangeError(
      `${name}.data has length ${data.length}, expected nSamples x nFeatures = ${nSamples} x ${nFeatures} = ${nSamples * nFeatures}`,
    );
  }
}

/** Throws a RangeError naming the first non-finite value, if any. */
export function assertFinite(samples: SampleMatrix, name = 'samples'): void {
  const { data, nFeatures } = samples;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value - value !== 0) throwNonFinite(name, value, i, nFeatures);
  }
}

function throwNonFinite(name: string, value: number, position: number, nFeatures: number): never {
  const sample = Math.floor(position / nFeatures);
  const feature = position % nFeatures;
  throw new RangeError(
    `${name} contains ${value} at sample ${sample} (feature ${feature}): ` +
      'remove or mask non-finite values before fitting',
  );
}

/** One pass over the data: validation of every value, moments, and integrality of feature 0. */
export function summariseData(samples: SampleMatrix, sampleWeights: FloatArray | undefined): DataSummary {
  const { data, nSamples: N, nFeatures: D } = samples;
  const shift = new Float64Array(D);
  for (let d = 0; d < D; d++) shift[d] = N > 0 ? data[d]! : 0;
  const sum = new Float64Array(D);
  const sumSquares = new Float64Array(D);
  let integerValued = true;
  let minimum = Infinity;
  let maximum = -Infinity;
  let sumWeights = 0;
  let nEffective = 0;
  for (let i = 0; i < N; i++) {
    const w = sampleWeights ? sampleWeights[i]! : 1;
    if (w > 0) nEffective++;
    sumWeights += w;
    const offset = i * D;
    const x0 = data[offset]!;
    if (x0 - x0 !== 0) throwNonFinite('samples', x0, offset, D);
    if (x0 < minimum) minimum = x0;
    if (x0 > maximum) maximum = x0;
    if (integerValued && Math.floor(x0) !== x0) integerValued = false;
    for (let d = 0; d < D; d++) {
      const x = data[offset + d]!;
      if (x - x !== 0) throwNonFinite('samples', x, offset + d, D);
      const v = x - shift[d]!;
      sum[d]! += w * v;
      sumSquares[d]! += w * v * v;
    }
  }
  const means = new Float64Array(D);
  const variances = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    const m = sumWeights > 0 ? sum[d]! / sumWeights : 0;
    means[d] = shift[d]! + m;
    variances[d] = sumWeights > 0 ? Math.max(sumSquares[d]! / sumWeights - m * m, 0) : 0;
  }
  return { means, variances, integerValued, minimum, maximum, sumWeights, nEffective };
}

/** A value's type or class, for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** Largest number of distinct-value bins the tabulated and histogram strategies use. */
export const MAX_TABLE_BINS = 65536;

/** Why integer tabulation cannot be used, or undefined when it can. */
export function tabulationUnavailable(nFeatures: number, summary: DataSummary): string | undefined {
  if (nFeatures !== 1) return `one feature, got nFeatures = ${nFeatures}`;
  if (!summary.integerValued) return 'integer-valued samples, and some are not integers';
  const range = summary.maximum - summary.minimum + 1;
  if (range > MAX_TABLE_BINS) {
    return `integer samples spanning at most ${MAX_TABLE_BINS} values, got ${summary.minimum}..${summary.maximum}`;
  }
  return undefined;
}

/** Bins of the histogram {@link robustVariances} reads its quartiles from. */
const ROBUST_BINS = 4096;

/**
 * Per feature, (IQR / 1.349)^2, the variance of a normal distribution with the same interquartile
 * range, read from a weighted histogram of 4096 bins over the feature's range (linear within a
 * bin); the variance itself where the IQR is 0. One pass over the data per feature.
 */
export function robustVariances(
  samples: SampleMatrix,
  sampleWeights: FloatArray | undefined,
  variances: Float64Array,
): Float64Array {
  const { data, nSamples: N, nFeatures: D } = samples;
  const out = new Float64Array(D);
  const counts = new Float64Array(ROBUST_BINS);
  for (let d = 0; d < D; d++) {
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < N; i++) {
      const x = data[i * D + d]!;
      if (x < low) low = x;
      if (x > high) high = x;
    }
    if (!(high > low)) {
      out[d] = variances[d]!;
      continue;
    }
    // two passes: a histogram over the whole range finds the bins of the quartiles, a second one
    // over those bins alone reads them precisely (a far outlier makes the first one coarse)
    let total = 0;
    let from = low;
    let to = high;
    let below = 0;
    let quartiles: [number, number] = [low, high];
    for (let pass = 0; pass < 2; pass++) {
      counts.fill(0);
      const width = (to - from) / ROBUST_BINS;
      below = 0;
      total = 0;
      for (let i = 0; i < N; i++) {
        const w = sampleWeights ? sampleWeights[i]! : 1;
        const x = data[i * D + d]!;
        total += w;
        if (x < from) below += w;
        else if (x <= to) counts[Math.min(ROBUST_BINS - 1, Math.floor((x - from) / width))]! += w;
      }
      const bin = (p: number): { b: number; value: number } => {
        const target = p * total;
        let cumulative = below;
        for (let b = 0; b < ROBUST_BINS; b++) {
          const next = cumulative + counts[b]!;
          if (next >= target && counts[b]! > 0)
            return { b, value: from + (b + (target - cumulative) / counts[b]!) * width };
          cumulative = next;
        }
        return { b: ROBUST_BINS - 1, value: to };
      };
      const q25 = bin(0.25);
      const q75 = bin(0.75);
      quartiles = [q25.value, q75.value];
      const nextFrom = from + q25.b * width;
      const nextTo = from + (q75.b + 1) * width;
      if (!(nextTo > nextFrom) || (nextFrom === from && nextTo === to)) break;
      from = nextFrom;
      to = nextTo;
    }
    const iqr = quartiles[1] - quartiles[0];
    out[d] = iqr > 0 ? (iqr / 1.349) ** 2 : variances[d]!;
  }
  return out;
}
