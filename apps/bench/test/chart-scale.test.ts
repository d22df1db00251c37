import { describe, expect, it } from 'vitest';
import {
  formatTick,
  linearDomainFromZero,
  linearScale,
  linearTicks,
  logDomain,
  logScale,
  logTicks,
} from '../src/chart-scale.ts';

describe('logTicks', () => {
  it('gives every power of ten inside a domain spanning several decades', () => {
    expect(logTicks(1e5, 1e7)).toEqual([1e5, 1e6, 1e7]);
    expect(logTicks(0.01, 1000)).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('adds 2 and 5 times each power of ten when fewer than three decades fall inside', () => {
    expect(logTicks(1e5, 1e6)).toEqual([1e5, 2e5, 5e5, 1e6]);
    expect(logTicks(3, 40)).toEqual([5, 10, 20]);
  });

  it('gives exact decimal values, not floating-point drift', () => {
    for (const tick of logTicks(1e-3, 1e3)) expect(String(tick)).not.toMatch(/0000|9999/);
  });
});

describe('logScale', () => {
  it('puts successive decades at equal distances', () => {
    const scale = logScale([1e5, 1e7], [0, 200]);
    expect(scale.map(1e5)).toBeCloseTo(0, 9);
    expect(scale.map(1e6)).toBeCloseTo(100, 9);
    expect(scale.map(1e7)).toBeCloseTo(200, 9);
    expect(scale.map(3e6)).toBeCloseTo(100 + 100 * Math.log10(3), 9);
  });

  it('maps an inverted range for y axes (SVG y grows downwards)', () => {
    const scale = logScale([1, 100], [300, 100]);
    expect(scale.map(1)).toBeCloseTo(300, 9);
    expect(scale.map(10)).toBeCloseTo(200, 9);
  });

  it('throws RangeError for a domain that is not positive and increasing', () => {
    expect(() => logScale([0, 10], [0, 1])).toThrow(RangeError);
    expect(() => logScale([10, 1], [0, 1])).toThrow(RangeError);
    expect(() => logScale([Number.NaN, 1], [0, 1])).toThrow(RangeError);
  });
});

describe('logDomain', () => {
  it('widens the data to the enclosing powers of ten', () => {
    expect(logDomain([0.072, 2362])).toEqual([0.01, 10000]);
    expect(logDomain([1e5, 1e7])).toEqual([1e5, 1e7]);
  });

  it('ignores values a log axis cannot show and gives a decade around a single value', () => {
    expect(logDomain([0, -3, Number.NaN, 1e6])).toEqual([1e6, 1e7]);
  });

  it('throws RangeError when no value is positive', () => {
    expect(() => logDomain([0, -1])).toThrow(RangeError);
  });
});

describe('linear scales and ticks', () => {
  it('maps the domain ends onto the range ends', () => {
    const scale = linearScale([0, 1], [300, 100]);
    expect(scale.map(0)).toBe(300);
    expect(scale.map(0.5)).toBe(200);
    expect(scale.map(1)).toBe(100);
  });

  it('ticks at 1, 2 or 5 times a power of ten', () => {
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 83)).toEqual([0, 20, 40, 60, 80]);
    expect(linearTicks(0, 0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(linearTicks(0, 0.3, 6)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
  });

  it('starts bar axes at zero and ends them on a tick', () => {
    expect(linearDomainFromZero([3.6, 11.8, 6.1])).toEqual([0, 15]);
    expect(linearDomainFromZero([0.93, 0.41])).toEqual([0, 1]);
    expect(linearDomainFromZero([])).toEqual([0, 1]);
  });
});

describe('formatTick', () => {
  it('writes plain numbers in the readable range and powers of ten as 1eK outside it', () => {
    expect(formatTick(0.01)).toBe('0.01');
    expect(formatTick(1000)).toBe('1000');
    expect(formatTick(1e5)).toBe('1e5');
    expect(formatTick(1e7)).toBe('1e7');
    expect(formatTick(2e-4)).toBe('2e-4');
    expect(formatTick(0)).toBe('0');
  });
});
