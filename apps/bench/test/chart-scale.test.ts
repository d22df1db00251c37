import { describe, expect, it } from 'vitest';
import { axisTicks, formatTick, isLog, linearAxis, logAxis } from '../src/chart-scale.ts';

describe('logAxis and its ticks', () => {
  it('widens the data to the enclosing powers of ten', () => {
    expect(logAxis([0.072, 2362], [0, 1]).domain()).toEqual([0.01, 10000]);
    expect(logAxis([1e5, 1e7], [0, 1]).domain()).toEqual([1e5, 1e7]);
  });

  it('ignores values a log axis cannot show and gives a decade around a single value', () => {
    expect(logAxis([0, -3, Number.NaN, 1e6], [0, 1]).domain()).toEqual([1e6, 1e7]);
    expect(logAxis([0, -1], [0, 1]).domain()).toEqual([1, 10]);
  });

  it('puts successive decades at equal distances, on an inverted range for y axes', () => {
    const x = logAxis([1e5, 1e7], [0, 200]);
    expect(x(1e6)).toBeCloseTo(100, 9);
    expect(x(3e6)).toBeCloseTo(100 + 100 * Math.log10(3), 9);
    const y = logAxis([1, 100], [300, 100]);
    expect(y(1)).toBeCloseTo(300, 9);
    expect(y(10)).toBeCloseTo(200, 9);
    expect(isLog(y)).toBe(true);
  });

  it('ticks every power of ten inside a domain spanning several decades', () => {
    expect(axisTicks(logAxis([], [0, 1], [1e5, 1e7]))).toEqual([1e5, 1e6, 1e7]);
    expect(axisTicks(logAxis([], [0, 1], [0.01, 1000]))).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('adds 2 and 5 times each power of ten when fewer than three decades fall inside', () => {
    expect(axisTicks(logAxis([], [0, 1], [1e5, 1e6]))).toEqual([1e5, 2e5, 5e5, 1e6]);
    expect(axisTicks(logAxis([], [0, 1], [3, 40]))).toEqual([5, 10, 20]);
  });

  it('gives exact decimal values, not floating-point drift', () => {
    for (const tick of axisTicks(logAxis([], [0, 1], [1e-3, 1e3]))) {
      expect(String(tick)).not.toMatch(/0000|9999/);
    }
  });
});

describe('linearAxis and its ticks', () => {
  it('maps the domain ends onto the range ends', () => {
    const y = linearAxis([], [300, 100], [0, 1]);
    expect(y(0)).toBe(300);
    expect(y(0.5)).toBe(200);
    expect(y(1)).toBe(100);
    expect(isLog(y)).toBe(false);
  });

  it('starts at zero and ends on a tick at 1, 2 or 5 times a power of ten', () => {
    expect(linearAxis([3.6, 11.8, 6.1], [0, 1]).domain()).toEqual([0, 12]);
    expect(linearAxis([0.93, 0.41], [0, 1]).domain()).toEqual([0, 1]);
    expect(linearAxis([], [0, 1]).domain()).toEqual([0, 1]);
    expect(axisTicks(linearAxis([0.93], [0, 1]))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(axisTicks(linearAxis([28.4], [0, 1]))).toEqual([0, 10, 20, 30]);
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
