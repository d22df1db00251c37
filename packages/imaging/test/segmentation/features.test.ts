import { describe, expect, it } from 'vitest';
import {
  automaticMask,
  countMask,
  extractFeatures,
  ImageFileError,
  maskFromVolume,
  nonzeroMask,
  otsuThreshold,
  scatterLabels,
  scatterResponsibilities,
} from '../../src/index.ts';
import { syntheticVolume } from '../volume-fixture.ts';

describe('masks', () => {
  it('takes the finite nonzero voxels of a skull-stripped image', () => {
    const volume = syntheticVolume([0, 5, 0, Number.NaN, 7, -2, Infinity, 0], [2, 2, 2]);
    expect(Array.from(nonzeroMask(volume))).toEqual([0, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(automaticMask(volume, 'nonzero'))).toEqual([0, 1, 0, 0, 1, 1, 0, 0]);
  });

  it('separates a bright head from a dark noisy background with Otsu', () => {
    // 60 % background around 10 +- 5, 40 % head around 500 +- 100
    const data = Array.from({ length: 1000 }, (_, i) =>
      i < 600 ? 10 + (i % 11) - 5 : 400 + ((i * 37) % 200),
    );
    const threshold = otsuThreshold(Float32Array.from(data));
    expect(threshold).toBeGreaterThan(15);
    expect(threshold).toBeLessThan(400);
    const mask = automaticMask(syntheticVolume(data, [10, 10, 10]), 'otsu');
    expect(countMask(mask)).toBe(400);
    expect(mask[599]).toBe(0);
    expect(mask[600]).toBe(1);
  });

  it('refuses a mask file on another grid, showing both grids', () => {
    const image = syntheticVolume(new Array(8).fill(1), [2, 2, 2], { path: 'sub-01_T1w.nii.gz' });
    const same = syntheticVolume([1, 0, 0, 0, 0, 0, 0, 2], [2, 2, 2], { path: 'mask.nii.gz' });
    expect(Array.from(maskFromVolume(same, image))).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    const shifted = syntheticVolume(new Array(8).fill(1), [2, 2, 2], {
      path: 'mask.nii.gz',
      origin: [0, 0, 5],
    });
    expect(() => maskFromVolume(shifted, image)).toThrow(ImageFileError);
    expect(() => maskFromVolume(shifted, image)).toThrow(
      'mask.nii.gz: mask grid 2x2x2 voxels of 1x1x1 mm, affine [[1,0,0,0],[0,1,0,0],[0,0,1,5]] differs from the grid of sub-01_T1w.nii.gz, 2x2x2 voxels of 1x1x1 mm, affine [[1,0,0,0],[0,1,0,0],[0,0,1,0]]',
    );
  });
});

describe('extractFeatures', () => {
  const t1 = syntheticVolume([0, 100, 200, 300, Number.NaN, 500, 600, 0], [2, 2, 2], { path: 't1.nii' });
  const t2 = syntheticVolume([0, 9, 8, 7, 6, Infinity, 4, 0], [2, 2, 2], { path: 't2.nii' });
  const mask = Uint8Array.of(0, 1, 1, 1, 1, 1, 1, 0);

  it('stacks co-registered channels into D-dimensional samples of the in-mask voxels', () => {
    const features = extractFeatures([t1, t2], mask);
    expect(features.samples.nFeatures).toBe(2);
    expect(Array.from(features.voxelIndices)).toEqual([1, 2, 3, 6]);
    expect(Array.from(features.samples.data)).toEqual([100, 9, 200, 8, 300, 7, 600, 4]);
  });

  it('leaves out and counts the voxels that are NaN or infinite in any channel', () => {
    expect(extractFeatures([t1, t2], mask).nonFinite).toBe(2);
    expect(extractFeatures([t1], mask).nonFinite).toBe(1);
  });

  it('refuses channels on different grids, showing both grids', () => {
    const other = syntheticVolume(new Array(8).fill(1), [2, 2, 2], { path: 'pd.nii', spacing: [1, 1, 2] });
    expect(() => extractFeatures([t1, other], mask)).toThrow(ImageFileError);
    expect(() => extractFeatures([t1, other], mask)).toThrow(
      /pd\.nii: grid 2x2x2 voxels of 1x1x2 mm.*differs from the grid of t1\.nii, 2x2x2 voxels of 1x1x1 mm/,
    );
  });

  it('refuses an empty mask or a mask with only non-finite voxels, naming the image', () => {
    expect(() => extractFeatures([t1], new Uint8Array(8))).toThrow('t1.nii: the mask is empty');
    expect(() => extractFeatures([t1, t2], Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0))).toThrow(
      't1.nii: all 2 voxels in the mask are NaN or infinite',
    );
    expect(() => extractFeatures([t1], new Uint8Array(7))).toThrow(RangeError);
  });

  it('standardises each channel with zscore and clips outliers with robust', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i === 999 ? 1e6 : i));
    const volume = syntheticVolume(values, [10, 10, 10]);
    const all = new Uint8Array(1000).fill(1);
    const z = extractFeatures([volume], all, { preparation: 'zscore' });
    const mean = z.samples.data.reduce((a, b) => a + b, 0) / 1000;
    const sd = Math.sqrt(z.samples.data.reduce((a, b) => a + (b - mean) ** 2, 0) / 1000);
    expect(mean).toBeCloseTo(0, 5);
    expect(sd).toBeCloseTo(1, 5);
    const robust = extractFeatures([volume], all, { preparation: 'robust', percentiles: [1, 99] });
    expect(Math.max(...robust.samples.data)).toBeCloseTo(989.01, 1);
    expect(Math.min(...robust.samples.data)).toBeCloseTo(9.99, 1);
    expect(robust.transforms[0]!.clipHigh).toBeCloseTo(989.01, 1);
    expect(extractFeatures([volume], all).samples.data[999]).toBe(1e6);
  });

  it('scatters labels and responsibilities back into full-size volumes, 0 outside the mask', () => {
    const features = extractFeatures([t1, t2], mask);
    expect(Array.from(scatterLabels(Int32Array.of(0, 2, 1, 2), features.voxelIndices, 8))).toEqual([
      0, 1, 3, 2, 0, 0, 3, 0,
    ]);
    const responsibilities = Float64Array.of(0.5, 0.5, 1, 0, 0.25, 0.75, 0, 1);
    const maps = scatterResponsibilities(responsibilities, features.voxelIndices, 8, 2);
    expect(Array.from(maps)).toEqual([0, 0, 0.5, 0.5, 1, 0, 0.25, 0.75, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(() => scatterLabels(Int32Array.of(0), features.voxelIndices, 8)).toThrow(
      'got 1 labels for 4 voxels',
    );
  });
});
