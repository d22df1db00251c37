import { describe, expect, it } from 'vitest';
import {
  changedOptions,
  checkOptionValue,
  DEFAULT_SEGMENT_OPTIONS,
  describeDefault,
  type OptionRecord,
  type RecordValue,
  resolveOptionRecord,
  SEGMENT_OPTION_TABLE,
  type SegmentOptionSpec,
  segmentOptionsOf,
} from '../../src/index.ts';
import { resolveSegmentOptions } from '../../src/segmentation/segment-options.ts';

/** A valid value of an option other than its default in `record`. */
function otherValue(spec: SegmentOptionSpec, record: OptionRecord): RecordValue {
  const current = record[spec.key];
  const v = spec.value;
  switch (v.kind) {
    case 'integer':
      return current === v.min ? v.min + 1 : v.min;
    case 'number':
      return current === v.max ? (v.min + v.max) / 2 : v.max;
    case 'choice':
      return v.choices.find((choice) => choice !== current)!;
    case 'switch':
      return !current;
    case 'text':
      return current === 'otsu' ? 'nonzero' : 'otsu';
    case 'list':
      return ['csf.nii.gz', 'gm.nii.gz', 'wm.nii.gz'];
    default:
      throw new Error('unknown kind');
  }
}

describe('the segmentation option table', () => {
  it('fills in the defaults of segment() itself, beta by prior', () => {
    const record = resolveOptionRecord({});
    const d = DEFAULT_SEGMENT_OPTIONS;
    expect(record).toMatchObject({
      nClasses: d.nClasses,
      imageType: d.imageType,
      prior: 'ppf',
      beta: d.beta.ppf,
      classWeightPower: d.classWeightPower,
      covarianceType: d.covarianceType,
      covarianceShrinkage: d.covarianceShrinkage,
      nInit: d.nInit,
      maxIter: d.maxIter,
      tol: d.tol,
      labelTol: d.labelTol,
      seed: d.seed,
      biasCorrection: true,
      biasFwhm: d.bias.fwhm,
      mask: 'nonzero',
      atlas: null,
      atlasWeight: null,
    });
    expect(resolveOptionRecord({ prior: 'mrf' })['beta']).toBe(d.beta.mrf);
    expect(resolveOptionRecord({ biasCorrection: false })['biasFwhm']).toBeNull();
    // the record's options, resolved by segment(), are segment()'s own defaults
    const fromRecord = resolveSegmentOptions(segmentOptionsOf(record));
    const fromNothing = resolveSegmentOptions({});
    expect(fromRecord).toEqual(fromNothing);
  });

  it('sees a change of any option that changes results, one at a time', () => {
    const defaults = resolveOptionRecord({});
    const changing = SEGMENT_OPTION_TABLE.filter((spec) => spec.changesResult);
    expect(changing.map((spec) => spec.key)).toEqual(
      expect.arrayContaining(['beta', 'mask', 'prior', 'nClasses', 'biasFwhm', 'covarianceShrinkage']),
    );
    for (const spec of changing) {
      const given: Partial<OptionRecord> = { [spec.key]: otherValue(spec, defaults) };
      if (spec.key === 'atlas') given['nClasses'] = 3;
      if (spec.key === 'atlasWeight' || spec.key === 'atlas') given['atlas'] = ['a', 'b', 'c'];
      const record = resolveOptionRecord(given);
      const keys = changedOptions(defaults, record).map((difference) => difference.key);
      expect(keys, spec.key).toContain(spec.key);
    }
    // a beta of 3 over the default (1 for ppf) is a change; an explicit default is not
    expect(changedOptions(defaults, resolveOptionRecord({ beta: 3 }))).toEqual([
      { key: 'beta', flag: 'beta', previous: 1, current: 3 },
    ]);
    expect(changedOptions(defaults, resolveOptionRecord({ beta: 1, prior: 'ppf' }))).toEqual([]);
    // a record written before an option existed differs from one that has it
    const { classWeightPower: _dropped, ...older } = defaults;
    expect(changedOptions(older, defaults).map((d) => d.key)).toEqual(['classWeightPower']);
  });

  it('refuses values out of range with the flag, the range and the value', () => {
    const spec = (key: string) => SEGMENT_OPTION_TABLE.find((s) => s.key === key)!;
    expect(() => checkOptionValue(spec('beta'), 100)).toThrow(
      '--beta must be a number from 0 to 20, got 100',
    );
    expect(() => checkOptionValue(spec('nClasses'), 2.5)).toThrow(/--classes must be an integer from 1/);
    expect(() => checkOptionValue(spec('prior'), 'potts')).toThrow(/one of ppf, mrf, atlas, none/);
    expect(() => resolveOptionRecord({ unknown: 1 })).toThrow(/unknown segmentation option "unknown"/);
  });

  it('states each default once, in words a user reads', () => {
    for (const spec of SEGMENT_OPTION_TABLE) {
      expect(spec.help, spec.key).not.toMatch(/\(default/);
      expect(spec.help.length, spec.key).toBeGreaterThan(10);
    }
    expect(describeDefault(SEGMENT_OPTION_TABLE.find((s) => s.key === 'robust')!)).toBe('on');
    expect(describeDefault(SEGMENT_OPTION_TABLE.find((s) => s.key === 'beta')!)).toBeUndefined();
  });
});
