/**
 * Declarative validation of option bags, as scikit-learn's `_parameter_constraints`: each fit
 * function declares a table from option name to constraint, and {@link checkParameters} checks the
 * options given (undefined means "use the default") in the table's order, throwing a RangeError or
 * TypeError that says what was expected and what was got. Constraints between options (this one
 * only with that one) stay with the function that resolves them.
 */
import { describe } from './data-summary.ts';
import type { FloatArray } from './types.ts';

/** The sizes array lengths are stated in. */
export interface ParameterShape {
  nSamples: number;
  nFeatures: number;
  nComponents: number;
}

/** What one option must be. */
export type ParameterConstraint =
  /** an integer >= minimum */
  | { kind: 'integer'; minimum: number }
  /**
   * A finite number (NaN fails every constraint) >= minimum, and <= maximum or < below when
   * given; without a minimum, any finite number.
   */
  | { kind: 'number'; minimum?: number; maximum?: number; below?: number }
  /** one of a few strings */
  | { kind: 'one-of'; values: readonly string[] }
  | { kind: 'function' }
  /**
   * A typed array (Float32Array or Float64Array, or only Float32Array) of nSamples or
   * nSamples x nComponents values, whose values, when `values` is given, are checked by it.
   */
  | {
      kind: 'array';
      float32Only?: boolean;
      length: 'nSamples' | 'nSamples x nComponents';
      values?: (name: string, array: FloatArray, shape: ParameterShape) => void;
    }
  /** anything else: a function that throws on an invalid value */
  | { kind: 'custom'; check: (name: string, value: unknown, shape: ParameterShape) => void };

/** A table of constraints for the options of type T. */
export type ParameterConstraints<T> = { readonly [Name in keyof Required<T>]: ParameterConstraint };

/**
 * Checks each option given against its constraint, in the order of the table. `shapeOf` gives the
 * sizes array lengths refer to, from the options checked so far.
 * @throws RangeError or TypeError naming the option, what it must be and what it is
 */
export function checkParameters<T extends object>(
  options: T,
  constraints: ParameterConstraints<T>,
  shapeOf: () => ParameterShape,
): void {
  for (const name of Object.keys(constraints) as (keyof T & string)[]) {
    const value = options[name];
    if (value !== undefined) checkParameter(name, value, constraints[name], shapeOf);
  }
}

function checkParameter(
  name: string,
  value: unknown,
  constraint: ParameterConstraint,
  shapeOf: () => ParameterShape,
): void {
  switch (constraint.kind) {
    case 'integer':
      if (!Number.isInteger(value) || (value as number) < constraint.minimum) {
        throw new RangeError(`${name} must be an integer >= ${constraint.minimum}, got ${value}`);
      }
      return;
    case 'number':
      checkNumber(name, value, constraint);
      return;
    case 'one-of':
      if (!constraint.values.includes(value as string)) {
        throw new RangeError(
          `${name} must be one of ${constraint.values.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(value)}`,
        );
      }
      return;
    case 'function':
      if (typeof value !== 'function')
        throw new TypeError(`${name} must be a function, got ${describe(value)}`);
      return;
    case 'array': {
      const shape = shapeOf();
      const ok = constraint.float32Only
        ? value instanceof Float32Array
        : value instanceof Float32Array || value instanceof Float64Array;
      if (!ok) {
        const expected = constraint.float32Only ? 'a Float32Array' : 'a Float32Array or Float64Array';
        throw new TypeError(`${name} must be ${expected}, got ${describe(value)}`);
      }
      const array = value as FloatArray;
      const perSample = constraint.length === 'nSamples';
      const length = perSample ? shape.nSamples : shape.nSamples * shape.nComponents;
      if (array.length !== length) {
        throw new RangeError(
          `${name} has length ${array.length}, expected ${perSample ? '' : 'nSamples x nComponents = '}${length}`,
        );
      }
      constraint.values?.(name, array, shape);
      return;
    }
    case 'custom':
      constraint.check(name, value, shapeOf());
      return;
    default:
      throw new TypeError(`unknown constraint ${JSON.stringify(constraint satisfies never)}`);
  }
}

function checkNumber(
  name: string,
  value: unknown,
  { minimum, maximum, below }: { minimum?: number; maximum?: number; below?: number },
): void {
  const x = value as number;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(x) &&
    (minimum === undefined || x >= minimum) &&
    (maximum === undefined || x <= maximum) &&
    (below === undefined || x < below);
  if (ok) return;
  let expected = 'a finite number';
  if (maximum !== undefined) expected = `a number from ${minimum} to ${maximum}`;
  else if (below !== undefined) expected = `a number from ${minimum} to below ${below}`;
  else if (minimum !== undefined) expected = `a finite number >= ${minimum}`;
  throw new RangeError(`${name} must be ${expected}, got ${value}`);
}

/** Values of per-sample weights: finite and >= 0. */
export function nonNegativeWeights(name: string, weights: FloatArray): void {
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || w === Infinity) {
      throw new RangeError(`${name} contains ${w} at sample ${i}: weights must be finite and >= 0`);
    }
  }
}

/** Rows of per-sample probabilities (a prior, or responsibilities): finite, >= 0, not all zero. */
export function probabilityRows(name: string, matrix: FloatArray, { nComponents }: ParameterShape): void {
  for (let row = 0; row < matrix.length; row += nComponents) {
    let sum = 0;
    for (let k = 0; k < nComponents; k++) {
      const value = matrix[row + k]!;
      if (!(value >= 0) || value === Infinity) {
        throw new RangeError(
          `${name} contains ${value} at sample ${row / nComponents} component ${k}: values must be finite and >= 0`,
        );
      }
      sum += value;
    }
    if (sum === 0) throw new RangeError(`${name} of sample ${row / nComponents} is zero for every component`);
  }
}

/** Rows of per-sample log-probabilities: no NaN or +Infinity, not all -Infinity. */
export function logProbabilityRows(name: string, matrix: FloatArray, { nComponents }: ParameterShape): void {
  for (let row = 0; row < matrix.length; row += nComponents) {
    let max = -Infinity;
    for (let k = 0; k < nComponents; k++) {
      const value = matrix[row + k]!;
      if (Number.isNaN(value) || value === Infinity) {
        throw new RangeError(`${name} contains ${value} at sample ${row / nComponents} component ${k}`);
      }
      if (value > max) max = value;
    }
    if (max === -Infinity) {
      throw new RangeError(`${name} of sample ${row / nComponents} is -Infinity for every component`);
    }
  }
}
