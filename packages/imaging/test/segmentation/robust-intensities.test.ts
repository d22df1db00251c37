import { createRandom } from '@mixseg/core';
import { describe, expect, it } from 'vitest';
import { analyseIntensities } from '../../src/segmentation/robust-intensities.ts';

/** N integer intensities around a few tissue means (8-bit-like), plus extra values. */
function intensities(n: number, extra: number[] = [], means = [40, 80, 105], sd = 9) {
  const random = createRandom(7, 0);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const mean = means[Math.floor(random.nextFloat() * means.length)]!;
    const gauss =
      Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    values.push(Math.max(1, Math.round(mean + sd * gauss)));
  }
  values.push(...extra);
  return { data: Float32Array.from(values), nSamples: values.length, nFeatures: 1 };
}

describe('analyseIntensities', () => {
  it('finds a spike of zeros inside the mask and leaves it out of the fit, saying so', () => {
    const samples = intensities(100_000, new Array<number>(3000).fill(0));
    const analysis = analyseIntensities(samples);
    expect(analysis.channels[0]!.spikes).toEqual([{ value: 0, voxels: 3000, share: 3000 / 103_000 }]);
    expect(analysis.excluded).toBe(3000);
    expect(analysis.weights![100_000]).toBe(0);
    expect(analysis.weights![0]).toBe(1);
    expect(analysis.warnings[0]).toMatch(/3000 voxels \(2\.9% of the mask\) hold exactly the value 0/);
  });

  it('finds a clipped maximum, and no spike in a smooth histogram or in continuous values', () => {
    const clipped = intensities(100_000).data.map((x) => Math.min(x, 110));
    const analysis = analyseIntensities({ data: clipped, nSamples: clipped.length, nFeatures: 1 });
    expect(analysis.channels[0]!.spikes.map((s) => s.value)).toEqual([110]);
    expect(analyseIntensities(intensities(100_000)).channels[0]!.spikes).toEqual([]);
    const random = createRandom(3, 0);
    const continuous = Float32Array.from({ length: 50_000 }, () => 100 * random.nextFloat());
    expect(analyseIntensities({ data: continuous, nSamples: 50_000, nFeatures: 1 }).excluded).toBe(0);
  });

  it('winsorises one extreme voxel to the upper fence and leaves it out of the fit', () => {
    const samples = intensities(50_000, [32767]);
    const analysis = analyseIntensities(samples);
    const channel = analysis.channels[0]!;
    expect(channel.winsorisedHigh).toBe(1);
    expect(samples.data[50_000]).toBe(channel.high);
    expect(channel.high).toBeLessThan(300);
    expect(analysis.weights![50_000]).toBe(0);
    // the robust scale ignores it: the IQR of the tissue mixture
    expect(channel.robustScale).toBeGreaterThan(10);
    expect(channel.robustScale).toBeLessThan(50);
  });

  it('keeps the values of an image with few distinct values (a noise-free or label-like image)', () => {
    // three exact tissue values (a noise-free phantom) and partial-volume values between them
    const data = Float32Array.from({ length: 30_000 }, (_, i) =>
      i < 27_000 ? [100, 200, 300][i % 3]! : 101 + (i % 198),
    );
    const analysis = analyseIntensities({ data, nSamples: data.length, nFeatures: 1 });
    expect(analysis.excluded).toBe(0);
    expect(analysis.weights).toBeUndefined();
    expect(analysis.warnings[0]).toMatch(/few distinct values/);
  });

  it('leaves a voxel out when any of its channels is a spike', () => {
    const first = intensities(20_000, new Array<number>(500).fill(0)).data;
    const second = intensities(20_500).data;
    const data = new Float32Array(2 * 20_500);
    for (let i = 0; i < 20_500; i++) {
      data[2 * i] = first[i]!;
      data[2 * i + 1] = second[i]!;
    }
    const analysis = analyseIntensities({ data, nSamples: 20_500, nFeatures: 2 });
    expect(analysis.channels[0]!.spikes).toHaveLength(1);
    expect(analysis.channels[1]!.spikes).toHaveLength(0);
    expect(analysis.excluded).toBe(500);
    expect(analysis.warnings[0]).toMatch(/^channel 1: 500 voxels/);
  });

  it('does nothing when spikes and winsorising are turned off', () => {
    const samples = intensities(10_000, [...new Array<number>(500).fill(0), 32767]);
    const analysis = analyseIntensities(samples, { spikes: false, winsorise: false });
    expect(analysis.excluded).toBe(0);
    expect(samples.data[10_500]).toBe(32767);
  });
});
