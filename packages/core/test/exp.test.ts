import { describe, expect, it } from 'vitest';
import { expNonPositive } from '../src/exp.ts';
import { createRandom } from '../src/index.ts';

describe('expNonPositive', () => {
  it('matches Math.exp to within 4e-16 relative (two units in the last place) over the whole non-positive range', () => {
    const random = createRandom(1);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const scale = 10 ** (random.nextFloat() * 6 - 3); // |x| from 1e-3 to 1e3
      const x = -Math.min(745, scale * random.nextFloat());
      const expected = Math.exp(x);
      if (expected < 1e-300) continue;
      worst = Math.max(worst, Math.abs(expNonPositive(x) - expected) / expected);
    }
    expect(worst).toBeLessThan(4e-16);
  });

  it('is exact at 0, underflows to 0 like Math.exp, and passes NaN through', () => {
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-0)).toBe(1);
    expect(expNonPositive(-Infinity)).toBe(0);
    expect(expNonPositive(-746)).toBe(0);
    expect(Number.isNaN(expNonPositive(Number.NaN))).toBe(true);
    for (const x of [-700, -708.5, -740, -744.4]) {
      const expected = Math.exp(x);
      expect(Math.abs(expNonPositive(x) - expected)).toBeLessThanOrEqual(expected * 1e-15 + 5e-324);
    }
  });
});
