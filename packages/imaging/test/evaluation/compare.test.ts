import { describe, expect, it } from 'vitest';
import { labelMapProblem } from '../../src/evaluation/compare.ts';
import { compareLabelMaps, generatePhantom, voxelVolumeMl } from '../../src/index.ts';
import { syntheticVolume } from '../volume-fixture.ts';

describe('voxelVolumeMl', () => {
  it('is the product of the spacing in mm divided by 1000', () => {
    expect(voxelVolumeMl(syntheticVolume([0], [1, 1, 1]))).toBe(0.001);
    expect(voxelVolumeMl(syntheticVolume([0], [1, 1, 1], { spacing: [1.5, 1.5, 1.5] }))).toBeCloseTo(
      0.003375,
      15,
    );
    expect(voxelVolumeMl(syntheticVolume([0], [1, 1, 1], { spacing: [2, 0.5, 4] }))).toBe(0.004);
  });
});

describe('compareLabelMaps', () => {
  // inside the reference mask (first six voxels): class 1 A = {0, 1, 5}, B = {0, 1, 2};
  // class 2 A = {2, 3, 4}, B = {3, 4, 5}; the last two voxels are outside the mask
  const reference = [1, 1, 1, 2, 2, 2, 0, 0];
  const labels = [1, 1, 2, 2, 2, 1, 1, 3];

  it('gives Dice 2 x 2 / (3 + 3) for two classes that share two of three voxels', () => {
    const comparison = compareLabelMaps(labels, reference, { voxelVolumeMl: 0.5 });
    expect(comparison.classes.map((c) => c.label)).toEqual([1, 2]);
    expect(comparison.classes[0]).toEqual({
      label: 1,
      dice: 2 / 3,
      volumeMl: 1.5,
      referenceVolumeMl: 1.5,
      volumeDifferenceMl: 0,
      volumeDifferencePercent: 0,
      count: 3,
      referenceCount: 3,
      intersection: 2,
    });
    expect(comparison.classes[1]!.dice).toBe(2 / 3);
    expect(comparison.meanDice).toBe(2 / 3);
    expect(comparison.referenceVoxels).toBe(6);
    expect(comparison.unlabelledInReference).toBe(0);
  });

  it('ignores whatever the labels say outside the reference mask', () => {
    const inside = compareLabelMaps([1, 1, 2, 2, 2, 1, 0, 0], reference, { voxelVolumeMl: 0.5 });
    const everywhere = compareLabelMaps([1, 1, 2, 2, 2, 1, 3, 1], reference, { voxelVolumeMl: 0.5 });
    expect(everywhere).toEqual(inside);
    // class 3 lies only outside the mask: nothing of it is counted
    const withThree = compareLabelMaps([1, 1, 2, 2, 2, 1, 3, 3], reference, {
      voxelVolumeMl: 0.5,
      classes: [3],
    });
    expect(withThree.classes[0]).toMatchObject({ count: 0, referenceCount: 0, dice: 1 });
  });

  it('defines Dice as 1 when a class is empty in both maps, with no percent difference', () => {
    const comparison = compareLabelMaps(labels, reference, { voxelVolumeMl: 0.5, classes: [1, 4] });
    expect(comparison.classes[1]).toEqual({
      label: 4,
      dice: 1,
      volumeMl: 0,
      referenceVolumeMl: 0,
      volumeDifferenceMl: 0,
      volumeDifferencePercent: null,
      count: 0,
      referenceCount: 0,
      intersection: 0,
    });
    expect(comparison.meanDice).toBe((2 / 3 + 1) / 2);
  });

  it('gives Dice 0 and a positive volume difference for a class the reference lacks', () => {
    const comparison = compareLabelMaps([3, 3, 1, 0], [1, 1, 1, 1], { voxelVolumeMl: 2, classes: [1, 3] });
    expect(comparison.classes[0]).toMatchObject({ label: 1, dice: 2 / 5, count: 1, referenceCount: 4 });
    expect(comparison.classes[1]).toMatchObject({
      label: 3,
      dice: 0,
      volumeMl: 4,
      referenceVolumeMl: 0,
      volumeDifferenceMl: 4,
      volumeDifferencePercent: null,
    });
    expect(comparison.unlabelledInReference).toBe(1);
  });

  it('reports volumes in mL and differences in mL and percent of the reference', () => {
    // reference: 4 voxels of class 1, 2 of class 2; labels: 5 of class 1, 1 of class 2
    const comparison = compareLabelMaps([1, 1, 1, 1, 1, 2, 0], [1, 1, 1, 1, 2, 2, 0], {
      voxelVolumeMl: 0.003375,
    });
    const [csf, gm] = comparison.classes;
    expect(csf!.volumeMl).toBeCloseTo(0.016875, 12);
    expect(csf!.referenceVolumeMl).toBeCloseTo(0.0135, 12);
    expect(csf!.volumeDifferenceMl).toBeCloseTo(0.003375, 12);
    expect(csf!.volumeDifferencePercent).toBe(25);
    expect(csf!.dice).toBe((2 * 4) / (5 + 4));
    expect(gm!.volumeDifferenceMl).toBeCloseTo(-0.003375, 12);
    expect(gm!.volumeDifferencePercent).toBe(-50);
    expect(gm!.dice).toBe((2 * 1) / (1 + 2));
  });

  it('counts the reference-mask voxels that the labels leave at 0', () => {
    const comparison = compareLabelMaps([0, 0, 1, 0, 2, 0], [1, 2, 1, 3, 0, 0], { voxelVolumeMl: 1 });
    expect(comparison.referenceVoxels).toBe(4);
    expect(comparison.unlabelledInReference).toBe(3);
    expect(comparison.classes.map((c) => [c.label, c.dice])).toEqual([
      [1, 2 / 3],
      [2, 0],
      [3, 0],
    ]);
  });

  it('copies class names and survives a JSON round trip unchanged', () => {
    const comparison = compareLabelMaps(labels, reference, {
      voxelVolumeMl: 0.5,
      classes: [1, 2, 4],
      names: { 1: 'CSF', 2: 'GM' },
    });
    expect(comparison.classes.map((c) => c.name)).toEqual(['CSF', 'GM', undefined]);
    expect('name' in comparison.classes[2]!).toBe(false);
    expect(JSON.parse(JSON.stringify(comparison))).toEqual(comparison);
  });

  it('takes typed arrays, with float reference labels from a NIfTI file', () => {
    const comparison = compareLabelMaps(Uint8Array.from(labels), Float32Array.from(reference), {
      voxelVolumeMl: 0.5,
    });
    expect(comparison.meanDice).toBe(2 / 3);
  });

  it('gives Dice 1 for every class when a phantom is compared with itself', () => {
    const phantom = generatePhantom({ dims: [48, 48, 36] });
    const comparison = compareLabelMaps(phantom.labels, phantom.labels, {
      voxelVolumeMl: voxelVolumeMl(phantom.image),
      names: { 1: 'CSF', 2: 'GM', 3: 'WM' },
    });
    expect(comparison.classes.map((c) => [c.name, c.dice])).toEqual([
      ['CSF', 1],
      ['GM', 1],
      ['WM', 1],
    ]);
    expect(comparison.meanDice).toBe(1);
    expect(comparison.unlabelledInReference).toBe(0);
    const brain = phantom.mask.reduce((sum, x) => sum + x, 0);
    expect(comparison.referenceVoxels).toBe(brain);
    const total = comparison.classes.reduce((sum, c) => sum + c.volumeMl, 0);
    expect(total).toBeCloseTo(brain * 0.003375, 9);
  });

  it('agrees closely, but not perfectly, between centre-sampled and majority labels of a phantom', () => {
    const crisp = generatePhantom({ dims: [48, 48, 36], partialVolume: false });
    const majority = generatePhantom({ dims: [48, 48, 36] });
    const comparison = compareLabelMaps(crisp.labels, majority.labels, { voxelVolumeMl: 0.003375 });
    for (const c of comparison.classes) {
      expect(c.dice).toBeGreaterThan(0.9);
      expect(c.dice).toBeLessThan(1);
    }
  });

  it('throws RangeError when the lengths differ', () => {
    expect(() => compareLabelMaps([1, 2], [1, 2, 3], { voxelVolumeMl: 1 })).toThrow(RangeError);
    expect(() => compareLabelMaps([1, 2], [1, 2, 3], { voxelVolumeMl: 1 })).toThrow(
      'labels and reference must have the same length, got 2 and 3',
    );
  });

  it('throws RangeError for a bad voxel volume, bad classes, or nothing to compare', () => {
    expect(() => compareLabelMaps([1], [1], { voxelVolumeMl: 0 })).toThrow(
      'voxelVolumeMl must be a finite number > 0 (mL), got 0',
    );
    expect(() => compareLabelMaps([1], [1], { voxelVolumeMl: 1, classes: [0, 1] })).toThrow(
      'classes must be positive integers (0 is outside the reference mask), got 0',
    );
    expect(() => compareLabelMaps([1], [1.5], { voxelVolumeMl: 1 })).toThrow(
      'reference labels must be integers, got 1.5',
    );
    expect(() => compareLabelMaps([1, 1], [0, 0], { voxelVolumeMl: 1 })).toThrow(
      'no class to compare: the reference has no voxel > 0 and no classes were given',
    );
  });
});

describe('labelMapProblem', () => {
  it('accepts label maps and refuses intensity images: too many distinct values, or non-integers', () => {
    expect(labelMapProblem(Uint8Array.of(0, 1, 2, 3, 3, 2))).toBeUndefined();
    // 0, negative and NaN voxels are outside the reference, as compareLabelMaps takes them
    expect(labelMapProblem([0, -1, Number.NaN, 2])).toBeUndefined();
    expect(labelMapProblem(Array.from({ length: 255 }, (_, i) => i + 1))).toBeUndefined();
    const t1 = Array.from({ length: 2000 }, (_, i) => 1 + (i % 851));
    expect(labelMapProblem(t1)).toBe('it has 851 distinct values');
    expect(labelMapProblem([0, 1, 12.5])).toBe('it holds the value 12.5, not an integer');
  });

  it('makes compareLabelMaps refuse a reference with more than 255 labels unless the classes are given', () => {
    const t1 = Array.from({ length: 2000 }, (_, i) => 1 + (i % 851));
    const labels = new Array(2000).fill(1);
    expect(() => compareLabelMaps(labels, t1, { voxelVolumeMl: 1 })).toThrow(
      'the reference does not look like a label map: it has 851 distinct values > 0, more than 255 (expected small non-negative integers)',
    );
    expect(compareLabelMaps(labels, t1, { voxelVolumeMl: 1, classes: [1] }).classes[0]!.referenceCount).toBe(
      3,
    );
  });
});
