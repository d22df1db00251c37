/** Parsers of option values for commander: each throws InvalidArgumentError saying what it expected. */
import { InvalidArgumentError } from 'commander';

export function integerIn(low: number, high: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^[+]?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < low || number > high) {
      throw new InvalidArgumentError(
        `expected an integer from ${low}${high === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${high}`}.`,
      );
    }
    return number;
  };
}

export function numberIn(low: number, high: number, { openLow = false } = {}) {
  return (value: string): number => {
    const number = Number(value);
    const aboveLow = openLow ? number > low : number >= low;
    if (value.trim() === '' || !Number.isFinite(number) || !aboveLow || number > high) {
      const lowText = openLow ? `> ${low}` : `>= ${low}`;
      throw new InvalidArgumentError(
        `expected a number ${lowText}${high === Number.POSITIVE_INFINITY ? '' : ` and <= ${high}`}.`,
      );
    }
    return number;
  };
}

/** `a,b,c` -> three numbers (or one number repeated `n` times). */
export function numberList(n: number, check: (value: number) => boolean, what: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((part) => Number(part.trim()));
    const list = parts.length === 1 ? Array.from({ length: n }, () => parts[0]!) : parts;
    if (list.length !== n || !list.every((v) => Number.isFinite(v) && check(v))) {
      throw new InvalidArgumentError(`expected ${what}: one number or ${n} separated by commas.`);
    }
    return list;
  };
}
