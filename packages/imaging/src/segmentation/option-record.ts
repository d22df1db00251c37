/**
 * What the option table (segment-option-table.ts) is used for: reading and checking a value from
 * the command line, a run's resolved record (the sidecar's `Options`), the options whose change
 * makes earlier results stale, and the segment() options a record stands for.
 */
import type { Volume } from '../types.ts';
import {
  type OptionRecord,
  type RecordValue,
  SEGMENT_OPTION_TABLE,
  type SegmentOptionSpec,
} from './segment-option-table.ts';
import type { ImageType, SegmentOptions, SpatialPriorKind } from './segment-options.ts';

/** The spec of a key. @throws RangeError for an unknown key */
export function optionSpec(key: string): SegmentOptionSpec {
  const spec = SEGMENT_OPTION_TABLE.find((s) => s.key === key);
  if (!spec) throw new RangeError(`unknown segmentation option ${JSON.stringify(key)}`);
  return spec;
}

/** The default of an option, shown in the help ("by prior" for a default that depends on another). */
export function describeDefault(spec: SegmentOptionSpec): string | undefined {
  if (typeof spec.default === 'function') return undefined;
  if (spec.default === null) return undefined;
  if (spec.value.kind === 'switch') return spec.default ? 'on' : 'off';
  return String(spec.default);
}

/**
 * Checks one value against its spec. @returns the value; @throws RangeError naming the option, the
 * expected and the given value
 */
export function checkOptionValue(spec: SegmentOptionSpec, value: RecordValue): RecordValue {
  if (value === null) return null;
  const fail = (expected: string): never => {
    throw new RangeError(`--${spec.flag} must be ${expected}, got ${JSON.stringify(value)}`);
  };
  const v = spec.value;
  switch (v.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < v.min || value > v.max) {
        fail(`an integer from ${v.min} to ${v.max}`);
      }
      return value;
    case 'number':
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value > v.max ||
        (v.openLow ? value <= v.min : value < v.min)
      ) {
        fail(`a number from ${v.min}${v.openLow ? ' (excluded)' : ''} to ${v.max}`);
      }
      return value;
    case 'choice':
      if (typeof value !== 'string' || !v.choices.includes(value)) fail(`one of ${v.choices.join(', ')}`);
      return value;
    case 'switch':
      if (typeof value !== 'boolean') fail('true or false');
      return value;
    case 'text':
      if (typeof value !== 'string' || value.length === 0) fail('a word or a path');
      return value;
    case 'list':
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every((x) => typeof x === 'string' && x.length > 0)
      ) {
        fail('a comma-separated list');
      }
      return value;
    default:
      throw new RangeError(`unknown value kind ${(v satisfies never as { kind: string }).kind}`);
  }
}

/** Reads a value from command-line text. @throws RangeError as {@link checkOptionValue} */
export function parseOptionText(spec: SegmentOptionSpec, text: string): RecordValue {
  switch (spec.value.kind) {
    case 'integer':
    case 'number': {
      const value = text.trim() === '' ? Number.NaN : Number(text);
      return checkOptionValue(spec, value);
    }
    case 'list':
      return checkOptionValue(
        spec,
        text.split(',').map((part) => part.trim()),
      );
    case 'switch':
      return checkOptionValue(spec, text === 'true');
    default:
      return checkOptionValue(spec, text);
  }
}

/**
 * A run's record: every option of the table, the given values checked and the defaults filled in
 * (in table order, so that a default may depend on an earlier option).
 * @throws RangeError for an unknown key or a value out of range
 */
export function resolveOptionRecord(given: Partial<OptionRecord>): OptionRecord {
  for (const key of Object.keys(given)) optionSpec(key);
  const record: OptionRecord = {};
  for (const spec of SEGMENT_OPTION_TABLE) {
    const value = given[spec.key];
    record[spec.key] =
      value !== undefined
        ? checkOptionValue(spec, value)
        : typeof spec.default === 'function'
          ? spec.default(record)
          : spec.default;
  }
  return record;
}

/** One option whose value differs between two records. */
export interface OptionDifference {
  key: string;
  flag: string;
  previous: RecordValue | undefined;
  current: RecordValue;
}

/**
 * The options that change results and differ between an earlier run's record (a sidecar's
 * `Options`) and this one's. A key the earlier record lacks counts as different.
 */
export function changedOptions(previous: Record<string, unknown>, current: OptionRecord): OptionDifference[] {
  return SEGMENT_OPTION_TABLE.filter((spec) => spec.changesResult)
    .filter(
      (spec) => JSON.stringify(previous[spec.key] ?? null) !== JSON.stringify(current[spec.key] ?? null),
    )
    .map((spec) => ({
      key: spec.key,
      flag: spec.flag,
      previous: previous[spec.key] as RecordValue | undefined,
      current: current[spec.key]!,
    }));
}

/**
 * The segment() options of a record. The mask and the atlas are given as volumes (read by the
 * caller from the record's paths); a method mask ('nonzero', 'otsu') is taken from the record.
 */
export function segmentOptionsOf(
  record: OptionRecord,
  extras: Pick<SegmentOptions, 'onIteration' | 'classNames' | 'probabilities'> & {
    mask?: Volume;
    atlas?: Volume[];
  } = {},
): SegmentOptions {
  const maskMethod = record['mask'] === 'otsu' ? 'otsu' : 'nonzero';
  return {
    nClasses: record['nClasses'] as number,
    imageType: record['imageType'] as ImageType,
    prior: record['prior'] as SpatialPriorKind,
    ...(record['beta'] === null ? {} : { beta: record['beta'] as number }),
    classWeightPower: record['classWeightPower'] as number,
    ...(extras.atlas ? { atlas: extras.atlas } : {}),
    ...(record['atlasWeight'] === null ? {} : { atlasWeight: record['atlasWeight'] as number }),
    biasCorrection: record['biasCorrection'] ? { fwhm: record['biasFwhm'] as number } : false,
    mask: extras.mask ?? maskMethod,
    partialVolume: record['partialVolume'] as boolean,
    robust: record['robust'] as boolean,
    covarianceType: record['covarianceType'] as SegmentOptions['covarianceType'],
    covarianceShrinkage: record['covarianceShrinkage'] as number,
    nInit: record['nInit'] as number,
    maxIter: record['maxIter'] as number,
    tol: record['tol'] as number,
    labelTol: record['labelTol'] as number,
    seed: record['seed'] as number,
    preparation: record['preparation'] as SegmentOptions['preparation'],
    ...(extras.probabilities === undefined ? {} : { probabilities: extras.probabilities }),
    ...(extras.classNames ? { classNames: extras.classNames } : {}),
    ...(extras.onIteration ? { onIteration: extras.onIteration } : {}),
  };
}
