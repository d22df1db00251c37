import { describe, expect, it } from 'vitest';
import { pairedRatio, pairedRatios } from '../src/paired-ratio.ts';

describe('pairedRatios', () => {
  it('divides values of the same repetition, not of the same position', () => {
    const mixseg = [
      { repetition: 0, value: 10 },
      { repetition: 1, value: 30 },
      { repetition: 2, value: 12 },
    ];
    const peer = [
      { repetition: 2, value: 24 },
      { repetition: 0, value: 100 },
      { repetition: 1, value: 60 },
    ];
    expect(pairedRatios(mixseg, peer)).toEqual([0.1, 0.5, 0.5]);
  });

  it('skips repetitions missing on either side and unusable denominators', () => {
    const mixseg = [
      { repetition: 0, value: 1 },
      { repetition: 1, value: 2 },
      { repetition: 2, value: 3 },
      { repetition: 3, value: Number.NaN },
    ];
    const peer = [
      { repetition: 0, value: 0 },
      { repetition: 2, value: 6 },
      { repetition: 3, value: 1 },
    ];
    expect(pairedRatios(mixseg, peer)).toEqual([0.5]);
  });
});

describe('pairedRatio', () => {
  it('reports the median of the per-repetition ratios, which differs from the ratio of medians', () => {
    // Repetition 1 ran while the machine was busy for both: its ratio is still fair.
    const mixseg = [
      { repetition: 0, value: 10 },
      { repetition: 1, value: 40 },
      { repetition: 2, value: 11 },
    ];
    const peer = [
      { repetition: 0, value: 20 },
      { repetition: 1, value: 80 },
      { repetition: 2, value: 44 },
    ];
    const ratio = pairedRatio(mixseg, peer);
    expect(ratio.perRepetition).toEqual([0.5, 0.5, 0.25]);
    expect(ratio.median).toBe(0.5);
    expect(ratio.pairs).toBe(3);
    expect(11 / 44).not.toBe(ratio.median);
  });

  it('is NaN with no pair', () => {
    const ratio = pairedRatio([{ repetition: 0, value: 1 }], []);
    expect(ratio.median).toBeNaN();
    expect(ratio.pairs).toBe(0);
  });
});
