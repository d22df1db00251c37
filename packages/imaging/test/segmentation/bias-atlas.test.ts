import { describe, expect, it } from 'vitest';
import { compareLabelMaps } from '../../src/evaluation/compare.ts';
import { atlasPrior, blendedPrior, resampleVolume } from '../../src/segmentation/atlas-prior.ts';
import { estimateBiasField, gaussianSmooth } from '../../src/segmentation/bias-field.ts';
import { segment } from '../../src/segmentation/segment.ts';
import { generatePhantom } from '../../src/synthetic/phantom.ts';
import type { Volume } from '../../src/types.ts';

function volumeLike(reference: Volume, data: Float32Array, path: string, affine = reference.affine): Volume {
  return { ...reference, data, affine, source: { ...reference.source, path } };
}

describe('gaussianSmooth', () => {
  it('spreads an impulse into a symmetric Gaussian whose second moment is sigma squared', () => {
    const n = 41;
    const data = new Float64Array(n);
    data[20] = 1;
    gaussianSmooth(data, [n, 1, 1], [3, 0, 0]);
    let sum = 0;
    let second = 0;
    for (let i = 0; i < n; i++) {
      sum += data[i]!;
      second += data[i]! * (i - 20) ** 2;
      expect(data[i]).toBeCloseTo(data[40 - i]!, 12);
    }
    // truncated at 3 sigma: a little under sigma^2
    expect(Math.abs(second / sum - 9)).toBeLessThan(0.3);
  });
});

describe('estimateBiasField', () => {
  it('recovers a smooth multiplicative field from the true classes', () => {
    const phantom = generatePhantom({ dims: [40, 40, 30], noiseLevel: 0.02, bias: 0.2, seed: 3 });
    const clean = generatePhantom({ dims: [40, 40, 30], noiseLevel: 0.02, bias: 0, seed: 3 });
    const indices: number[] = [];
    for (let v = 0; v < phantom.labels.length; v++) if (phantom.labels[v]! > 0) indices.push(v);
    const voxelIndices = Uint32Array.from(indices);
    const N = voxelIndices.length;
    const responsibilities = new Float32Array(N * 3);
    const values = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      responsibilities[i * 3 + phantom.labels[voxelIndices[i]!]! - 1] = 1;
      values[i] = phantom.image.data[voxelIndices[i]!]!;
    }
    const field = new Float64Array(N);
    estimateBiasField(
      { dims: phantom.image.dims, spacing: phantom.image.spacing, voxelIndices },
      values,
      responsibilities,
      [300, 650, 850],
      [30 ** 2, 30 ** 2, 30 ** 2],
      field,
      { fwhm: 20 },
    );
    // the true field is image / clean image (same seed, same noise); compare after geometric-mean scaling
    const truth = new Float64Array(N);
    let logSum = 0;
    for (let i = 0; i < N; i++) {
      const v = voxelIndices[i]!;
      truth[i] = phantom.image.data[v]! / Math.max(clean.image.data[v]!, 1);
      logSum += Math.log(truth[i]!);
    }
    const scale = Math.exp(-logSum / N);
    let error = 0;
    let spread = 0;
    for (let i = 0; i < N; i++) {
      error += Math.abs(field[i]! - truth[i]! * scale);
      spread += Math.abs(truth[i]! * scale - 1);
    }
    // the estimate removes most of the field's deviation from 1
    expect(error / N).toBeLessThan(0.4 * (spread / N));
  });
});

describe('segment with bias correction', () => {
  it('beats the uncorrected fit on every class of a strongly biased phantom', () => {
    const phantom = generatePhantom({ dims: [48, 48, 36], noiseLevel: 0.04, bias: 0.25, seed: 5 });
    const dice = (biasCorrection: boolean) => {
      const result = segment([phantom.image], { biasCorrection, prior: 'none' });
      return compareLabelMaps(result.labels, phantom.labels, { voxelVolumeMl: 1 }).classes.map((c) => c.dice);
    };
    const without = dice(false);
    const corrected = dice(true);
    for (let k = 0; k < 3; k++) expect(corrected[k]!).toBeGreaterThan(without[k]! + 0.01);
  });

  it('returns the field, near 1 without bias, and is deterministic', () => {
    const phantom = generatePhantom({ dims: [32, 32, 24], noiseLevel: 0.03, seed: 2 });
    const a = segment([phantom.image], { prior: 'none' });
    const b = segment([phantom.image], { prior: 'none' });
    expect(Buffer.from(a.labels).equals(Buffer.from(b.labels))).toBe(true);
    const field = a.biasFields![0]!;
    for (let v = 0; v < field.length; v++) {
      if (a.mask[v]) expect(Math.abs(field[v]! - 1)).toBeLessThan(0.05);
      else expect(field[v]).toBe(0);
    }
    expect(segment([phantom.image], { biasCorrection: false }).biasFields).toBeUndefined();
  });
});

describe('atlas priors', () => {
  const phantom = generatePhantom({ dims: [36, 36, 28], noiseLevel: 0.05, seed: 11 });
  const maps = [0, 1, 2].map((k) =>
    volumeLike(
      phantom.image,
      Float32Array.from({ length: phantom.labels.length }, (_, v) => phantom.fractions[v * 3 + k]!),
      `atlas-${k}`,
    ),
  );

  it('resamples through the affines: a map shifted by one voxel in world space comes back aligned', () => {
    const source = maps[1]!;
    const [nx, ny] = source.dims;
    const shifted = new Float32Array(source.data.length);
    // shifted voxel (x, y, z) holds source voxel (x + 1, y, z); its affine moves it one voxel on
    for (let v = 0; v < shifted.length; v++) {
      const x = v % nx;
      if (x + 1 < nx) shifted[v] = source.data[v + 1]!;
    }
    const affine = source.affine.map((row) => row.slice());
    affine[0]![3]! += source.affine[0]![0]!;
    const back = resampleVolume(volumeLike(source, shifted, 'shifted', affine), source);
    for (let v = 0; v < back.length; v++) {
      if (v % nx < nx - 1 && Math.floor(v / nx) % ny >= 0) expect(back[v]).toBeCloseTo(source.data[v]!, 6);
    }
  });

  it('follows the atlas order for the labels and agrees with the truth', () => {
    const reversed = [maps[2]!, maps[1]!, maps[0]!];
    const result = segment([phantom.image], { prior: 'atlas', atlas: reversed });
    // label 1 is now WM: the brightest class
    expect(result.model.means[0]![0]!).toBeGreaterThan(result.model.means[2]![0]!);
    const relabelled = Float32Array.from(result.labels, (l) => (l === 0 ? 0 : 4 - l));
    const comparison = compareLabelMaps(relabelled, phantom.labels, { voxelVolumeMl: 1 });
    for (const c of comparison.classes) expect(c.dice).toBeGreaterThan(0.9);
  });

  it('refuses an atlas with the wrong count, or one that does not overlap the image', () => {
    expect(() => segment([phantom.image], { prior: 'atlas', atlas: maps.slice(0, 2) })).toThrow(
      /one map per class/,
    );
    expect(() => segment([phantom.image], { prior: 'atlas' })).toThrow(/needs the atlas maps/);
    const far = maps.map((m) => {
      const affine = m.affine.map((row) => row.slice());
      affine[0]![3]! += 1000;
      return volumeLike(m, m.data as Float32Array, m.source.path, affine);
    });
    expect(() => atlasPrior(far, phantom.image, Uint32Array.of(0, 1, 2), 3)).toThrow(/atlas-0.*covers only/);
  });

  it('blends atlas and spatial terms geometrically', () => {
    const atlas = Float32Array.of(0.8, 0.2);
    const update = blendedPrior(atlas, (context) => context.prior.set([0.2, 0.8]), 0.5);
    const prior = new Float32Array(2);
    update({ iteration: 1, responsibilities: new Float32Array(2), model: undefined as never, prior });
    expect(prior[0]).toBeCloseTo(0.4, 6);
    expect(prior[1]).toBeCloseTo(0.4, 6);
    expect(() => blendedPrior(atlas, undefined, 1.5)).toThrow(RangeError);
  });
});
