import { describe, expect, it } from 'vitest';
import { COVARIANCE_TYPES, contestantsFor, PLANS, warmStartFor } from '../src/core-em-cases.ts';

const BASE = {
  weights: [0.25, 0.75],
  means: [
    [0, 0],
    [10, 10],
  ],
  covariances: [
    [
      [4, 1],
      [1, 2],
    ],
    [
      [8, -2],
      [-2, 6],
    ],
  ],
};

describe('warmStartFor', () => {
  it('keeps full covariances as they are', () => {
    expect(warmStartFor(BASE, 'full')).toEqual(BASE);
  });

  it('gives every component the weighted pooled covariance for tied', () => {
    const tied = warmStartFor(BASE, 'tied');
    const pooled = [
      [0.25 * 4 + 0.75 * 8, 0.25 * 1 + 0.75 * -2],
      [0.25 * 1 + 0.75 * -2, 0.25 * 2 + 0.75 * 6],
    ];
    expect(tied.covariances).toEqual([pooled, pooled]);
    expect(tied.means).toEqual(BASE.means);
  });

  it('zeroes the off-diagonal terms for diag and averages the variances for spherical', () => {
    expect(warmStartFor(BASE, 'diag').covariances).toEqual([
      [
        [4, 0],
        [0, 2],
      ],
      [
        [8, 0],
        [0, 6],
      ],
    ]);
    expect(warmStartFor(BASE, 'spherical').covariances).toEqual([
      [
        [3, 0],
        [0, 3],
      ],
      [
        [7, 0],
        [0, 7],
      ],
    ]);
  });
});

describe('the sweep', () => {
  it('measures the histogram and tabulated paths for one feature only, and the prior with full only', () => {
    expect(contestantsFor('d3', 'full').map((c) => c.name)).toEqual(['direct']);
    expect(contestantsFor('d1', 'full').map((c) => c.name)).toEqual([
      'direct',
      'tabulated',
      'tabulated+prior',
      'histogram',
    ]);
    for (const type of COVARIANCE_TYPES.filter((t) => t !== 'full')) {
      expect(contestantsFor('d1', type).map((c) => c.name)).toEqual(['direct', 'tabulated', 'histogram']);
    }
  });

  it('spans 1e5 to 1e7 in the full run with several repetitions at every size', () => {
    const sizes = PLANS.full.map((p) => p.nSamples);
    expect(Math.min(...sizes)).toBe(1e5);
    expect(Math.max(...sizes)).toBe(1e7);
    for (const plan of PLANS.full) expect(plan.repetitions).toBeGreaterThanOrEqual(2);
  });
});
