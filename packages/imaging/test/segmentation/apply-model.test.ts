import { describe, expect, it } from 'vitest';
import { compareLabelMaps } from '../../src/evaluation/compare.ts';
import { applyModel } from '../../src/segmentation/apply-model.ts';
import { segment } from '../../src/segmentation/segment.ts';
import { generatePhantom } from '../../src/synthetic/phantom.ts';

describe('applyModel', () => {
  const { image } = generatePhantom({ dims: [32, 32, 24], noiseLevel: 0.05, seed: 3 });

  it('gives the labels of the fit that produced the model when there is no spatial prior', () => {
    // without bias correction: applyModel estimates no field, so the model sees the same intensities
    const fitted = segment([image], { prior: 'none', seed: 1, biasCorrection: false });
    const applied = applyModel([image], fitted.partialVolume!, { prior: 'none' });
    expect(applied.labels).toEqual(fitted.labels);
    expect(applied.fractions).toEqual(fitted.fractions);
    expect(applied.mixture.nIter).toBe(0);
    expect(applied.statistics.map((c) => c.voxels)).toEqual(fitted.statistics.map((c) => c.voxels));
  });

  it('with the neighbourhood prior agrees with the fit on nearly every voxel and converges', () => {
    const fitted = segment([image], { prior: 'ppf', seed: 1, biasCorrection: false });
    const applied = applyModel([image], fitted.partialVolume!, { prior: 'ppf' });
    let differ = 0;
    for (let v = 0; v < image.data.length; v++) if (applied.labels[v] !== fitted.labels[v]) differ++;
    expect(differ / image.data.length).toBeLessThan(0.01);
    expect(applied.spatial?.converged).toBe(true);
  });

  it('applies a Gaussian mixture too (a multi-channel or --no-partial-volume model)', () => {
    const fitted = segment([image], { prior: 'none', seed: 1, biasCorrection: false, partialVolume: false });
    expect(fitted.partialVolume).toBeUndefined();
    const applied = applyModel([image], fitted.model, { prior: 'none' });
    let differ = 0;
    for (let v = 0; v < image.data.length; v++) if (applied.labels[v] !== fitted.labels[v]) differ++;
    expect(differ / image.data.length).toBeLessThan(0.001);
  });

  it('throws RangeError when the model has another number of channels', () => {
    const fitted = segment([image], { prior: 'none', seed: 1 });
    expect(() => applyModel([image, image], fitted.model)).toThrow(RangeError);
  });
});

describe('applyModel with bias correction', () => {
  // a model fitted with bias correction is in the units of the corrected intensities
  const biased = generatePhantom({ dims: [48, 48, 36], noiseLevel: 0.04, bias: 0.3, seed: 5 });
  const other = generatePhantom({ dims: [48, 48, 36], noiseLevel: 0.04, bias: 0.3, seed: 6 });
  const score = (labels: Uint8Array) =>
    compareLabelMaps(labels, other.labels, { voxelVolumeMl: 1, classes: [1, 2, 3] }).classes.map(
      (c) => c.dice,
    );

  it('estimates the subject own field with the model held fixed, as good as fitting it', () => {
    const fitted = segment([biased.image], { seed: 1 });
    const own = score(segment([other.image], { seed: 1 }).labels);
    const raw = score(applyModel([other.image], fitted.partialVolume!).labels);
    const corrected = applyModel([other.image], fitted.partialVolume!, { biasCorrection: true });
    const applied = score(corrected.labels);
    expect(corrected.biasFields).toHaveLength(1);
    // without the field the GM suffers; with it the result matches a fit of its own
    expect(applied[1]!).toBeGreaterThan(raw[1]! + 0.02);
    for (let k = 0; k < 3; k++) expect(Math.abs(applied[k]! - own[k]!)).toBeLessThan(0.01);
  });
});
