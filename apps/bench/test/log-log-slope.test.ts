import { describe, expect, it } from 'vitest';
import { logLogSlope } from '../src/log-log-slope.ts';

describe('logLogSlope', () => {
  it('recovers the exponent of an exact power law', () => {
    const sizes = [1e5, 3e5, 1e6, 3e6, 1e7];
    expect(logLogSlope(sizes.map((n) => [n, 2.8e-5 * n] as [number, number]))).toBeCloseTo(1, 12);
    expect(logLogSlope(sizes.map((n) => [n, 1e-9 * n * n] as [number, number]))).toBeCloseTo(2, 12);
    expect(logLogSlope(sizes.map((n) => [n, 0.08] as [number, number]))).toBeCloseTo(0, 12);
  });

  it('shows a fixed overhead bending a linear cost below slope 1', () => {
    const slope = logLogSlope([1e5, 1e6, 1e7].map((n) => [n, 5 + 1e-5 * n] as [number, number]));
    expect(slope).toBeGreaterThan(0.3);
    expect(slope).toBeLessThan(0.95);
  });

  it('is NaN with fewer than two usable points or a single N', () => {
    expect(logLogSlope([[1e6, 3]])).toBeNaN();
    expect(
      logLogSlope([
        [1e6, 3],
        [1e6, 4],
      ]),
    ).toBeNaN();
    expect(
      logLogSlope([
        [1e6, 3],
        [1e7, 0],
        [1e8, Number.NaN],
      ]),
    ).toBeNaN();
  });
});
