import { serializeGaussianMixture } from '@mixseg/core';
import { describe, expect, it } from 'vitest';
import { computeHistogram, histogramMisfit, mixtureCurves } from '../src/app/histogram.ts';
import {
  defaultLabelTable,
  findSubjects,
  parseHexColour,
  parseLabelTable,
  parseSidecar,
  parseSummary,
  subjectFiles,
} from '../src/app/results-folder.ts';

describe('parseLabelTable', () => {
  it('reads index, name, abbreviation and colour, sorted by index, with non-consecutive labels', () => {
    const table = parseLabelTable(
      'index\tname\tabbreviation\tcolor\n7\tWhite matter\tWM\t#EB5757\n1\tCSF\tCSF\t#2f80ed\n2\t<b>GM</b>\tGM\tnot-a-colour\n',
    );
    expect(table.map((entry) => entry.index)).toEqual([1, 2, 7]);
    expect(table[0]!.colour).toEqual([47, 128, 237]);
    expect(table[2]!.colour).toEqual([235, 87, 87]);
    expect(table[1]!.name).toBe('<b>GM</b>');
    expect(table[1]!.colour).toHaveLength(3);
  });

  it('throws naming the file when the index or name column is missing', () => {
    expect(() => parseLabelTable('label\tcolour\n1\t#ffffff\n', 'x/dseg.tsv')).toThrow(
      /x\/dseg\.tsv: needs "index" and "name"/,
    );
  });

  it('gives labels without a table the sidecar names and distinct default colours', () => {
    const table = defaultLabelTable(
      [3, 1],
      [{ index: 1, name: 'CSF', abbreviation: 'CSF', voxels: 1, volumeMl: 1, meanIntensity: [] }],
    );
    expect(table.map((entry) => entry.name)).toEqual(['CSF', 'label 3']);
    expect(table[0]!.colour).not.toEqual(table[1]!.colour);
    expect(parseHexColour('#00ff7f')).toEqual([0, 255, 127]);
  });
});

describe('results folder', () => {
  const files = [
    'dseg.tsv',
    'summary.tsv',
    'sub-01_T1w.nii.gz',
    'sub-01_T1w_dseg.json',
    'sub-01_T1w_dseg.nii.gz',
    'sub-01_T1w_label-CSF_probseg.nii.gz',
    'sub-01_T1w_label-GM_probseg.nii.gz',
    'sub-01_T1w_label-WM_probseg.nii.gz',
    'sub-02_T1w_dseg.nii.gz',
    'raw-02.nii',
  ];

  it('finds each subject of summary.tsv with its image, sidecar, probability maps and label table', () => {
    const summary = parseSummary(
      'subject\tstatus\tinputs\tdseg\tCSF_ml\nsub-01\tok\tin/sub-01_T1w.nii.gz\t/abs/out/sub-01_T1w_dseg.nii.gz\t1\nsub-03\tfailed\tx\t\t\n',
    );
    const [first, failed] = findSubjects(files, summary);
    expect(first).toEqual({
      subject: 'sub-01',
      stem: 'sub-01_T1w',
      dseg: 'sub-01_T1w_dseg.nii.gz',
      sidecar: 'sub-01_T1w_dseg.json',
      image: 'sub-01_T1w.nii.gz',
      probseg: [
        { abbreviation: 'CSF', path: 'sub-01_T1w_label-CSF_probseg.nii.gz' },
        { abbreviation: 'GM', path: 'sub-01_T1w_label-GM_probseg.nii.gz' },
        { abbreviation: 'WM', path: 'sub-01_T1w_label-WM_probseg.nii.gz' },
      ],
      labelTable: 'dseg.tsv',
    });
    expect(failed!.subject).toBe('sub-03');
    expect(failed!.dseg).toBe('');
  });

  it('without summary.tsv takes every label map, and finds the image from the sidecar Inputs', () => {
    const subjects = findSubjects(files, undefined);
    expect(subjects.map((subject) => subject.subject)).toEqual(['sub-01_T1w', 'sub-02_T1w']);
    expect(subjects[1]!.image).toBeUndefined();
    expect(subjects[1]!.sidecar).toBeUndefined();
    const fromInputs = subjectFiles(files, 'sub-02_T1w_dseg.nii.gz', 'sub-02', ['/elsewhere/raw-02.nii']);
    expect(fromInputs.image).toBe('raw-02.nii');
    expect(
      subjectFiles(files, 'sub-02_T1w_dseg.nii.gz', 'sub-02', ['/elsewhere/missing.nii']).image,
    ).toBeUndefined();
  });
});

describe('a BIDS-Derivatives folder (sub-XX[/ses-Y]/anat/)', () => {
  const files = [
    'dseg.tsv',
    'summary.tsv',
    'sub-01/anat/sub-01_dseg.nii.gz',
    'sub-01/anat/sub-01_dseg.json',
    'sub-01/anat/sub-01_label-GM_probseg.nii.gz',
    'sub-01/anat/sub-01_label-GM_desc-pve_probseg.nii.gz',
    'sub-01/anat/sub-01_desc-restore_T1w.nii.gz',
    'sub-02/ses-1/anat/sub-02_ses-1_dseg.nii.gz',
    'sub-02/ses-1/anat/sub-02_ses-1_dseg.json',
  ];

  it('finds each subject in its folder from the summary, with its sidecar, probabilities and restored image', () => {
    const summary = parseSummary(
      'subject\tstatus\tdseg\nsub-01_T1w\tdone\t/data/out/sub-01/anat/sub-01_dseg.nii.gz\n' +
        'sub-02_ses-1_T1w\tskipped\t/data/out/sub-02/ses-1/anat/sub-02_ses-1_dseg.nii.gz\n',
    );
    const [first, second] = findSubjects(files, summary);
    expect(first).toMatchObject({
      subject: 'sub-01_T1w',
      dseg: 'sub-01/anat/sub-01_dseg.nii.gz',
      sidecar: 'sub-01/anat/sub-01_dseg.json',
      image: 'sub-01/anat/sub-01_desc-restore_T1w.nii.gz',
      probseg: [{ abbreviation: 'GM', path: 'sub-01/anat/sub-01_label-GM_probseg.nii.gz' }],
      labelTable: 'dseg.tsv',
    });
    expect(second).toMatchObject({
      dseg: 'sub-02/ses-1/anat/sub-02_ses-1_dseg.nii.gz',
      sidecar: 'sub-02/ses-1/anat/sub-02_ses-1_dseg.json',
      image: undefined,
    });
  });

  it("reads the image's name from the sidecar's Sources (a BIDS URI or a relative path)", () => {
    const sidecar = parseSidecar(JSON.stringify({ Sources: ['bids:raw:sub-01/anat/sub-01_T1w.nii.gz'] }));
    expect(sidecar.inputs).toEqual(['sub-01/anat/sub-01_T1w.nii.gz']);
    const withRaw = [...files, 'raw/sub-01_T1w.nii.gz'];
    expect(subjectFiles(withRaw, 'sub-01/anat/sub-01_dseg.nii.gz', 'sub-01', sidecar.inputs).image).toBe(
      'raw/sub-01_T1w.nii.gz',
    );
  });
});

describe('parseSidecar', () => {
  const model = {
    covarianceType: 'full' as const,
    nComponents: 2,
    nFeatures: 1,
    weights: [0.25, 0.75],
    means: [[100], [300]],
    covariances: [[[100]], [[400]]],
    precisionsCholesky: [[[0.1]], [[0.05]]],
  };

  it('reads the model, the log-likelihood trace and the classes', () => {
    const sidecar = parseSidecar(
      JSON.stringify({
        Software: 'mixseg',
        Inputs: ['a.nii.gz'],
        Options: { preparation: 'none' },
        Model: JSON.parse(serializeGaussianMixture(model)),
        LogLikelihood: { Mixture: [-3, -2.5], Spatial: [-2.4] },
        Classes: [
          { Index: 1, Name: 'CSF', Abbreviation: 'CSF', Voxels: 10, VolumeMl: 0.01, MeanIntensity: [100] },
        ],
      }),
    );
    expect(sidecar.model?.means).toEqual([[100], [300]]);
    expect(sidecar.logLikelihood).toEqual({ mixture: [-3, -2.5], spatial: [-2.4] });
    expect(sidecar.classes[0]!.volumeMl).toBe(0.01);
    expect(sidecar.inputs).toEqual(['a.nii.gz']);
  });

  it('reports an invalid model instead of throwing, and throws naming the file for invalid JSON', () => {
    expect(parseSidecar('{"Model":{"weights":[1]}}').modelProblem).toMatch(/not a valid Gaussian mixture/);
    expect(() => parseSidecar('{', 'sub_dseg.json')).toThrow(/sub_dseg\.json: not valid JSON/);
  });

  it('draws curves whose sum integrates to the histogram count', () => {
    const values = Float32Array.from(
      { length: 4000 },
      (_, i) => (i < 1000 ? 100 : 300) + ((i * 7919) % 61) - 30,
    );
    const histogram = computeHistogram(values, undefined, 64);
    expect(histogram.total).toBe(4000);
    const curves = mixtureCurves(model, histogram, 2001);
    const step = curves.x[1]! - curves.x[0]!;
    const area = curves.sum.reduce((total, value) => total + value, 0) * (step / histogram.binWidth);
    // the two Gaussians hold ~all their mass inside [70, 330]: the area is the voxel count
    expect(area / 4000).toBeGreaterThan(0.85);
    expect(area / 4000).toBeLessThan(1.01);
  });

  it('draws a partial-volume model with its mixed voxels in the curve of their majority class', () => {
    const pv = {
      nClasses: 2,
      means: [100, 300],
      variances: [100, 100],
      weights: [0.3, 0.5],
      pairs: [[0, 1]] as [number, number][],
      pairWeights: [0.2],
      nSteps: 12,
      outlier: null,
    };
    const values = Float32Array.from({ length: 4000 }, (_, i) => 60 + (i % 280));
    const histogram = computeHistogram(values, undefined, 70);
    const curves = mixtureCurves(pv, histogram, 2001);
    const step = curves.x[1]! - curves.x[0]!;
    const area = (curve: Float64Array) =>
      (curve.reduce((total, value) => total + value, 0) * step) / histogram.binWidth / histogram.total;
    // each class holds its pure weight and half the mixels
    expect(area(curves.components[0]!)).toBeCloseTo(0.3 + 0.1, 2);
    expect(area(curves.components[1]!)).toBeCloseTo(0.5 + 0.1, 2);
    // between the peaks the mixels lift the sum well above two pure Gaussians
    const middle = curves.x.findIndex((x) => x >= 200);
    expect(curves.sum[middle]! / histogram.total).toBeGreaterThan(0.2 / 200 / 2);
    expect(curves.components[0]![middle]! + curves.components[1]![middle]!).toBeCloseTo(
      curves.sum[middle]!,
      9,
    );
  });
});

describe('histogramMisfit', () => {
  // 20,000 draws of 0.25 N(100, 10^2) + 0.75 N(300, 20^2) (Box-Muller over a fixed LCG)
  let seed = 12345;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed + 0.5) / 2 ** 31;
  };
  const values = Float64Array.from({ length: 20_000 }, (_, i) => {
    const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return i < 5000 ? 100 + 10 * z : 300 + 20 * z;
  });
  const mixture = (shift: number, scale = 1) => ({
    covarianceType: 'full' as const,
    nComponents: 2,
    nFeatures: 1,
    weights: [0.25, 0.75],
    means: [[(100 + shift) * scale], [(300 + shift) * scale]],
    covariances: [[[100 * scale * scale]], [[400 * scale * scale]]],
    precisionsCholesky: [[[0.1 / scale]], [[0.05 / scale]]],
  });
  const histogram = computeHistogram(values, undefined, 128);

  it('is near 0 for the model the voxels were drawn from', () => {
    expect(histogramMisfit(histogram, mixtureCurves(mixture(0), histogram, 512))).toBeLessThan(0.04);
  });

  it('grows when bars and curves are in different units', () => {
    // the model of intensities 15 % brighter (a bias field not divided out)
    const biased = histogramMisfit(histogram, mixtureCurves(mixture(0, 1.15), histogram, 512));
    expect(biased).toBeGreaterThan(0.5);
    const shifted = histogramMisfit(histogram, mixtureCurves(mixture(20), histogram, 512));
    expect(shifted).toBeGreaterThan(0.4);
    expect(shifted).toBeLessThan(biased + 0.2);
  });
});
