/**
 * What a fit must not be driven by, found before fitting (docs/algorithms.md, "Robust estimation"): spike
 * values (one exact value holding far more voxels than the values beside it: zeros inside a mask, a
 * clipped maximum, a constant-filled region) and gross outliers beyond robust fences (one voxel at
 * 50 000 in a 0-1000 image). Outliers are winsorised to the fences; spike and winsorised voxels get
 * weight 0 in every estimate (class parameters, bias field) but are still labelled. A robust
 * scale (the interquartile range) of the rest sets the scale of the regularisation.
 */
import type { SampleMatrix } from '@mixseg/core';

/** A value that holds far more voxels than its neighbours. */
export interface SpikeValue {
  value: number;
  voxels: number;
  /** voxels / in-mask voxels */
  share: number;
}

/** What was found in, and done to, one channel. */
export interface ChannelRobustness {
  spikes: SpikeValue[];
  /** Values below `low` or above `high` were set to the fence and left out of the estimates. */
  low: number;
  high: number;
  winsorisedLow: number;
  winsorisedHigh: number;
  median: number;
  /** Interquartile range / 1.349 of the voxels that are not spikes (the SD of a normal), > 0. */
  robustScale: number;
  /** Whether every value is an integer. */
  integerValued: boolean;
}

/** The whole analysis. */
export interface RobustAnalysis {
  channels: ChannelRobustness[];
  /** Per-sample weight, 0 for a spike or winsorised voxel in any channel; undefined when all are 1. */
  weights: Float32Array | undefined;
  /** Samples with weight 0. */
  excluded: number;
  /** Plain sentences for the sidecar's warnings. */
  warnings: string[];
}

/** Options of {@link analyseIntensities}. */
export interface RobustOptions {
  /** Find spike values and leave them out of the estimates. Default true. */
  spikes?: boolean;
  /** Winsorise beyond the fences and leave those voxels out of the estimates. Default true. */
  winsorise?: boolean;
  /** A spike holds more than this times the voxels of each of its two nearest values on either side. Default 5. */
  spikeRatio?: number;
  /** ... and at least this share of the voxels (and 20 voxels). Default 0.001. */
  spikeMinShare?: number;
  /**
   * The fences are the 0.1st and 99.9th percentiles widened by this fraction of the range between
   * them on each side. Default 0.5.
   */
  fenceWidth?: number;
}

/** Distinct values (ascending) and their counts. */
function distinctValues(values: Float32Array): {
  values: Float64Array;
  counts: Float64Array;
  integer: boolean;
} {
  let min = Infinity;
  let max = -Infinity;
  let integer = true;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
    if (integer && Math.floor(x) !== x) integer = false;
  }
  if (integer && max - min < 1 << 22) {
    // counting over the integer range: one pass, no sort
    const counts = new Float64Array(max - min + 1);
    for (let i = 0; i < values.length; i++) counts[values[i]! - min]!++;
    let n = 0;
    for (let b = 0; b < counts.length; b++) if (counts[b]! > 0) n++;
    const outValues = new Float64Array(n);
    const outCounts = new Float64Array(n);
    for (let b = 0, j = 0; b < counts.length; b++) {
      if (counts[b]! > 0) {
        outValues[j] = min + b;
        outCounts[j++] = counts[b]!;
      }
    }
    return { values: outValues, counts: outCounts, integer };
  }
  const sorted = Float32Array.from(values).sort();
  const outValues: number[] = [];
  const outCounts: number[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    outValues.push(sorted[i]!);
    outCounts.push(j - i);
    i = j;
  }
  return { values: Float64Array.from(outValues), counts: Float64Array.from(outCounts), integer };
}

/** The p-quantile (0..1) of a weighted distinct-value list, by the lower empirical quantile. */
function quantile(values: Float64Array, counts: Float64Array, total: number, p: number): number {
  const target = p * total;
  let cumulative = 0;
  for (let j = 0; j < values.length; j++) {
    cumulative += counts[j]!;
    if (cumulative > target) return values[j]!;
  }
  return values[values.length - 1]!;
}

/**
 * Finds spikes and fences in every channel of the samples, winsorises the samples in place, and
 * returns per-sample weights (0 = left out of the estimates). When fewer than 2 samples per channel
 * would remain, nothing is left out (a warning says so).
 */
export function analyseIntensities(
  samples: SampleMatrix & { data: Float32Array },
  options: RobustOptions = {},
): RobustAnalysis {
  const { data, nSamples: N, nFeatures: D } = samples;
  const spikeRatio = options.spikeRatio ?? 5;
  const minShare = options.spikeMinShare ?? 0.001;
  const fenceWidth = options.fenceWidth ?? 0.5;
  const doSpikes = options.spikes ?? true;
  const doWinsorise = options.winsorise ?? true;
  if (!(spikeRatio > 1) || !(minShare >= 0 && minShare < 1) || !(fenceWidth >= 0)) {
    throw new RangeError('spikeRatio must be > 1, spikeMinShare in [0, 1), fenceWidth >= 0');
  }
  const weights = new Float32Array(N).fill(1);
  const channels: ChannelRobustness[] = [];
  const warnings: string[] = [];
  const column = new Float32Array(N);
  for (let d = 0; d < D; d++) {
    for (let i = 0; i < N; i++) column[i] = data[i * D + d]!;
    const distinct = distinctValues(column);
    const { values, counts } = distinct;
    const spikes: SpikeValue[] = [];
    const isSpike = new Uint8Array(values.length);
    if (doSpikes) {
      const minimum = Math.max(20, minShare * N);
      for (let j = 0; j < values.length; j++) {
        const c = counts[j]!;
        if (c < minimum) continue;
        let local = 1;
        for (let step = 1; step <= 2; step++) {
          if (j - step >= 0) local = Math.max(local, counts[j - step]!);
          if (j + step < values.length) local = Math.max(local, counts[j + step]!);
        }
        if (c > spikeRatio * local) {
          spikes.push({ value: values[j]!, voxels: c, share: c / N });
          isSpike[j] = 1;
        }
      }
    }
    // quantiles of the rest
    let rest = 0;
    const restCounts = new Float64Array(counts.length);
    for (let j = 0; j < counts.length; j++) {
      if (!isSpike[j]) {
        restCounts[j] = counts[j]!;
        rest += counts[j]!;
      }
    }
    const basis = rest > 0 ? restCounts : counts;
    const total = rest > 0 ? rest : N;
    const q = (p: number) => quantile(values, basis, total, p);
    const p001 = q(0.001);
    const p999 = q(0.999);
    const width = p999 - p001;
    const low = doWinsorise ? p001 - fenceWidth * width : -Infinity;
    const high = doWinsorise ? p999 + fenceWidth * width : Infinity;
    const iqr = q(0.75) - q(0.25);
    const spread = iqr > 0 ? iqr / 1.349 : width > 0 ? width / 6.18 : 1;
    channels.push({
      spikes,
      low,
      high,
      winsorisedLow: 0,
      winsorisedHigh: 0,
      median: q(0.5),
      robustScale: spread,
      integerValued: distinct.integer,
    });
  }
  // Spikes that cover most of the voxels are the data itself (a noise-free or few-valued image),
  // not artefacts: they are kept.
  for (const [d, channel] of channels.entries()) {
    const share = channel.spikes.reduce((sum, spike) => sum + spike.share, 0);
    if (share > 0.5) {
      warnings.push(
        `${D > 1 ? `channel ${d + 1}: ` : ''}${channel.spikes.length} values hold ${(100 * share).toFixed(0)}% of the voxels: ` +
          'the image has few distinct values; they were kept in the fit',
      );
      channel.spikes = [];
    }
  }
  // weights and winsorising, all channels
  const spikeSets = channels.map((c) => new Set(c.spikes.map((s) => s.value)));
  let excluded = 0;
  for (let i = 0; i < N; i++) {
    let keep = true;
    for (let d = 0; d < D; d++) {
      const channel = channels[d]!;
      const x = data[i * D + d]!;
      if (spikeSets[d]!.size > 0 && spikeSets[d]!.has(x)) keep = false;
      if (x < channel.low) {
        data[i * D + d] = channel.low;
        channel.winsorisedLow++;
        keep = false;
      } else if (x > channel.high) {
        data[i * D + d] = channel.high;
        channel.winsorisedHigh++;
        keep = false;
      }
    }
    if (!keep) {
      weights[i] = 0;
      excluded++;
    }
  }
  if (excluded > 0 && N - excluded < 2 * D + 1) {
    warnings.push(
      `${excluded} of ${N} voxels are spikes or outliers: too few would remain, so none was left out of the fit`,
    );
    weights.fill(1);
    excluded = 0;
  }
  channels.forEach((channel, d) => {
    const name = D > 1 ? `channel ${d + 1}: ` : '';
    for (const spike of channel.spikes) {
      warnings.push(
        `${name}${spike.voxels} voxels (${(100 * spike.share).toFixed(1)}% of the mask) hold exactly the value ${spike.value}: ` +
          'a spike (zeros inside the mask, a clipped maximum or a filled region), left out of the fit and labelled by their intensity',
      );
    }
    const winsorised = channel.winsorisedLow + channel.winsorisedHigh;
    if (winsorised > 0) {
      warnings.push(
        `${name}${winsorised} voxels beyond the robust range [${formatNumber(channel.low)}, ${formatNumber(channel.high)}] were winsorised and left out of the fit`,
      );
    }
  });
  return { channels, weights: excluded > 0 ? weights : undefined, excluded, warnings };
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}
