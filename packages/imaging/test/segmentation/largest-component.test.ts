import { describe, expect, it } from 'vitest';
import { largestComponent } from '../../src/segmentation/largest-component.ts';

/** A 6 x 5 x 4 volume with voxels set at the given [x, y, z]. */
function volume(points: [number, number, number][]): { mask: Uint8Array; dims: [number, number, number] } {
  const dims: [number, number, number] = [6, 5, 4];
  const mask = new Uint8Array(6 * 5 * 4);
  for (const [x, y, z] of points) mask[x + 6 * (y + 5 * z)] = 1;
  return { mask, dims };
}

describe('largestComponent', () => {
  it('keeps the largest blob and drops smaller separate ones (the brain, not the spheres)', () => {
    const brain: [number, number, number][] = [];
    for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) for (let z = 0; z < 2; z++) brain.push([x, y, z]);
    const sphere: [number, number, number][] = [
      [5, 4, 3],
      [5, 3, 3],
      [4, 4, 3],
    ];
    const { mask, dims } = volume([...brain, ...sphere]);
    const kept = largestComponent(mask, dims);
    expect(kept.reduce((a, b) => a + b, 0)).toBe(brain.length);
    expect(kept[5 + 6 * (4 + 5 * 3)]).toBe(0);
    expect(kept[0]).toBe(1);
  });

  it('joins voxels through faces only: diagonal neighbours are separate components', () => {
    const { mask, dims } = volume([
      [0, 0, 0],
      [1, 1, 0],
      [2, 2, 0],
      [2, 3, 0],
    ]);
    const kept = largestComponent(mask, dims);
    expect(kept.reduce((a, b) => a + b, 0)).toBe(2);
    expect(kept[2 + 6 * 2]).toBe(1);
    expect(kept[2 + 6 * 3]).toBe(1);
  });

  it('returns an empty mask for an empty input and throws RangeError on a size mismatch', () => {
    expect(largestComponent(new Uint8Array(8), [2, 2, 2]).every((v) => v === 0)).toBe(true);
    expect(() => largestComponent(new Uint8Array(7), [2, 2, 2])).toThrow(RangeError);
  });
});
