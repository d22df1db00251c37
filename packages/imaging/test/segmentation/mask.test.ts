import { describe, expect, it } from 'vitest';
import {
  countMask,
  generatePhantom,
  maskFromVolume,
  nonzeroMask,
  otsuMask,
  segment,
} from '../../src/index.ts';
import { syntheticVolume } from '../volume-fixture.ts';

/** Every voxel index whose (x, y, z) lies in the cube [from, to) on each axis. */
function cube(dims: [number, number, number], from: number, to: number): number[] {
  const [nx, ny] = dims;
  const indices: number[] = [];
  for (let z = from; z < to; z++) {
    for (let y = from; y < to; y++) for (let x = from; x < to; x++) indices.push(x + nx * (y + ny * z));
  }
  return indices;
}

describe('NaN and infinite voxels in automatic masks', () => {
  it('counts NaN voxels inside the brain as non-finite with the default mask (0 before)', () => {
    const phantom = generatePhantom({ dims: [40, 40, 32], spacing: [3, 3, 3], noiseLevel: 0.03, seed: 5 });
    const image = { ...phantom.image, data: Float32Array.from(phantom.image.data) };
    // a 3 x 3 x 3 block of NaN at the centre of the brain, and an infinite voxel beside it
    const hole = cube(image.dims, 18, 21);
    for (const v of hole) image.data[v] = Number.NaN;
    const infinite = 17 + 40 * (20 + 40 * 16);
    image.data[infinite] = Number.POSITIVE_INFINITY;
    expect(phantom.mask[infinite]).toBe(1);
    const result = segment([image], { prior: 'none', biasCorrection: false });
    expect(result.nonFinite).toBe(hole.length + 1);
    expect(result.mask[infinite]).toBe(1);
    expect(result.labels[infinite]).toBe(0);
    expect(result.statistics.reduce((sum, s) => sum + s.voxels, 0)).toBe(
      countMask(result.mask) - hole.length - 1,
    );
  });

  it('leaves a NaN background outside the mask, however close it comes to the brain', () => {
    const dims: [number, number, number] = [8, 8, 8];
    const data = new Array(8 * 8 * 8).fill(Number.NaN);
    const brain = cube(dims, 2, 6);
    for (const v of brain) data[v] = 100 + (v % 7);
    const mask = nonzeroMask(syntheticVolume(data, dims));
    expect(countMask(mask)).toBe(brain.length);
  });

  it('takes only the non-finite voxels the region encloses, not its zeros, nor NaN reached through zeros', () => {
    const dims: [number, number, number] = [9, 9, 9];
    const data = new Array(9 * 9 * 9).fill(0);
    for (const v of cube(dims, 1, 8)) data[v] = 50;
    const at = (x: number, y: number, z: number) => x + 9 * (y + 9 * z);
    data[at(4, 4, 4)] = Number.NaN; // enclosed: inside
    data[at(3, 3, 3)] = 0; // an enclosed zero: outside, as before
    // a channel of zeros from the edge to a NaN voxel: that NaN is reached from outside
    for (let x = 0; x <= 2; x++) data[at(x, 6, 6)] = 0;
    data[at(3, 6, 6)] = Number.NaN;
    const mask = nonzeroMask(syntheticVolume(data, dims));
    expect(mask[at(4, 4, 4)]).toBe(1);
    expect(mask[at(3, 3, 3)]).toBe(0);
    expect(mask[at(3, 6, 6)]).toBe(0);
    // the 7^3 cube less the enclosed zero, the two zeros of the channel and the NaN it reaches
    expect(countMask(mask)).toBe(7 ** 3 - 1 - 2 - 1);
    // Otsu's mask alike; a mask file's NaN voxels stay outside
    expect(otsuMask(syntheticVolume(data, dims))[at(4, 4, 4)]).toBe(1);
    expect(maskFromVolume(syntheticVolume(data, dims), syntheticVolume(data, dims))[at(4, 4, 4)]).toBe(0);
  });

  it('treats a 2-D image by its edge: a NaN pixel inside a slice of brain is inside', () => {
    const dims: [number, number, number] = [6, 6, 1];
    const data = new Array(36).fill(0);
    for (let y = 1; y < 5; y++) for (let x = 1; x < 5; x++) data[x + 6 * y] = 80;
    data[2 + 6 * 2] = Number.NaN;
    expect(nonzeroMask(syntheticVolume(data, dims))[2 + 6 * 2]).toBe(1);
  });
});
