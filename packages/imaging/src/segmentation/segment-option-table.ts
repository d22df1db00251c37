/**
 * The segmentation options as one declarative table: for each, its name in a run's record (the
 * sidecar's `Options`), its command-line flag, how its value is read and checked, its default, its
 * help, and whether another value gives another segmentation. The command line's options, the
 * resolved record a run writes into its sidecar, and the check that decides whether earlier
 * results were made with the same options all come from it, and segment()'s own defaults are the
 * table's (DEFAULT_SEGMENT_OPTIONS).
 */
import { DEFAULT_SEGMENT_OPTIONS, type SpatialPriorKind } from './segment-options.ts';

/** How a value is read from the command line and checked. */
export type OptionValue =
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; openLow?: boolean }
  | { kind: 'choice'; choices: readonly string[] }
  /** on or off: `--name` and `--no-name` */
  | { kind: 'switch' }
  /** a word or a path, kept as given (files are resolved by the caller) */
  | { kind: 'text' }
  /** comma-separated words or paths */
  | { kind: 'list' };

/** A value in a record: what JSON holds. */
export type RecordValue = string | number | boolean | string[] | null;

/** A run's options, resolved: every key of the table, with its default filled in. */
export type OptionRecord = Record<string, RecordValue>;

export interface SegmentOptionSpec {
  /** Name in the record (camelCase), e.g. `classWeightPower`. */
  key: string;
  /** Long command-line flag without the dashes, e.g. `class-weights`. */
  flag: string;
  /** One-letter alias, e.g. `k`. */
  short?: string;
  /** How the value is written in the help, e.g. `<0..1>`. */
  placeholder?: string;
  value: OptionValue;
  /**
   * The default; a function of the rest of the record when it depends on another option (beta on
   * the prior); null when the option is off unless given (the atlas).
   */
  default: RecordValue | ((record: OptionRecord) => RecordValue);
  /** What it does and why the default is what it is (the default itself is added once). */
  help: string;
  /** Whether another value gives another segmentation: earlier results are then not taken as done. */
  changesResult: boolean;
}

const d = DEFAULT_SEGMENT_OPTIONS;

/** Every option of a segmentation, in the order the help lists them. */
export const SEGMENT_OPTION_TABLE: readonly SegmentOptionSpec[] = [
  {
    key: 'nClasses',
    flag: 'classes',
    short: 'k',
    placeholder: '<n>',
    value: { kind: 'integer', min: 1, max: 254 },
    default: d.nClasses,
    help: 'number of tissue classes: 3 gives CSF, GM and WM of a skull-stripped brain; more for lesions or non-brain tissue',
    changesResult: true,
  },
  {
    key: 'imageType',
    flag: 'image-type',
    placeholder: '<type>',
    value: { kind: 'choice', choices: ['t1', 't2', 'pd'] },
    default: d.imageType,
    help:
      "contrast of the first channel (FSL FAST's -t): t1 orders the classes by rising intensity (CSF, GM, WM), " +
      't2 and pd by falling intensity (CSF is bright); a result that contradicts it is warned about',
    changesResult: true,
  },
  {
    key: 'prior',
    flag: 'prior',
    placeholder: '<kind>',
    value: { kind: 'choice', choices: ['ppf', 'mrf', 'atlas', 'none'] },
    default: d.prior,
    help:
      'spatial prior that makes neighbouring voxels agree: ppf (neighbourhood probability factor), mrf (Potts field, ' +
      'as FSL FAST and ANTs Atropos), atlas (the --atlas maps blended with the ppf term), none (voxel by voxel); ' +
      'ppf was chosen across every dataset with a reference: the Potts field loses T2 images',
    changesResult: true,
  },
  {
    key: 'beta',
    flag: 'beta',
    placeholder: '<strength>',
    value: { kind: 'number', min: 0, max: 20 },
    default: (record) => d.beta[record['prior'] as SpatialPriorKind] ?? null,
    help: `strength of the spatial prior, 0 = off (by prior: ppf ${d.beta.ppf}, mrf ${d.beta.mrf} as Atropos); raise it for noisy images`,
    changesResult: true,
  },
  {
    key: 'classWeightPower',
    flag: 'class-weights',
    placeholder: '<0..1>',
    value: { kind: 'number', min: 0, max: 1 },
    default: d.classWeightPower,
    help:
      "how strongly the spatial prior keeps each class's share of the brain: 0 lets each neighbourhood decide alone " +
      '(as FSL FAST and dipy), 1 keeps a small class small where the neighbourhood is mixed; chosen across every dataset with a reference',
    changesResult: true,
  },
  {
    key: 'atlas',
    flag: 'atlas',
    placeholder: '<files>',
    value: { kind: 'list' },
    default: null,
    help:
      'tissue-probability maps, one per class, comma-separated in label order (csf.nii.gz,gm.nii.gz,wm.nii.gz), ' +
      'registered to the inputs (any grid: resampled through the affines); needed by --prior atlas, blended with ' +
      "ppf or mrf; with none the atlas alone is the prior; the labels follow the maps' order",
    changesResult: true,
  },
  {
    key: 'atlasWeight',
    flag: 'atlas-weight',
    placeholder: '<w>',
    value: { kind: 'number', min: 0, max: 1 },
    default: (record) => (record['atlas'] === null || record['prior'] === 'none' ? null : d.atlasWeight),
    help: 'weight w of the atlas against the spatial prior, 0..1: log prior = w log atlas + (1 - w) log spatial',
    changesResult: true,
  },
  {
    key: 'biasCorrection',
    flag: 'bias-correction',
    value: { kind: 'switch' },
    default: true,
    help:
      'correct a smooth multiplicative intensity bias (RF inhomogeneity), a FAST-style field estimated between ' +
      'EM rounds; turn it off for images already corrected (by N4, say)',
    changesResult: true,
  },
  {
    key: 'biasFwhm',
    flag: 'bias-fwhm',
    placeholder: '<mm>',
    value: { kind: 'number', min: 0, max: 1000, openLow: true },
    default: (record) => (record['biasCorrection'] === false ? null : d.bias.fwhm),
    help: "smoothness of the bias field, FWHM of its Gaussian kernel in mm (FSL FAST's); smaller follows faster variation, and risks following anatomy",
    changesResult: true,
  },
  {
    key: 'mask',
    flag: 'mask',
    placeholder: '<file|method>',
    value: { kind: 'text' },
    default: 'nonzero',
    help:
      'brain mask file (nonzero = brain), or nonzero (every nonzero voxel: inputs are expected skull-stripped, as for FAST) ' +
      'or otsu (an automatic threshold, for images with a dark background)',
    changesResult: true,
  },
  {
    key: 'partialVolume',
    flag: 'partial-volume',
    value: { kind: 'switch' },
    default: true,
    help:
      'model the voxels that mix two tissues (CSF/GM, GM/WM), which keeps the pure classes at the noise spread and ' +
      "writes fraction maps (<stem>_label-<class>_desc-pve_probseg, as FAST's _pve_)",
    changesResult: true,
  },
  {
    key: 'robust',
    flag: 'robust',
    value: { kind: 'switch' },
    default: true,
    help:
      'leave spike values (zeros inside the mask, a clipped maximum) and gross outliers out of the fit, with an outlier ' +
      'class for what no tissue explains; the sidecar says what was done',
    changesResult: true,
  },
  {
    key: 'covarianceType',
    flag: 'covariance',
    placeholder: '<type>',
    value: { kind: 'choice', choices: ['full', 'tied', 'diag', 'spherical'] },
    default: d.covarianceType,
    help: 'covariance of each class with several channels; diag: full covariances of T2 and PD model the partial-volume rim of CSF rather than the tissues',
    changesResult: true,
  },
  {
    key: 'covarianceShrinkage',
    flag: 'covariance-shrinkage',
    placeholder: '<0..1>',
    value: { kind: 'number', min: 0, max: 1 },
    default: d.covarianceShrinkage,
    help: "shrinks each class's spread towards the pooled one, 0 = free, 1 = one shared spread, as the noise is the same in every tissue; chosen across every dataset with a reference",
    changesResult: true,
  },
  {
    key: 'nInit',
    flag: 'restarts',
    placeholder: '<n>',
    value: { kind: 'integer', min: 1, max: 100 },
    default: d.nInit,
    help: 'seeded k-means starts of the plain mixture that starts the model, the best kept (a single start often lands in a poor optimum on brains)',
    changesResult: true,
  },
  {
    key: 'maxIter',
    flag: 'max-iter',
    placeholder: '<n>',
    value: { kind: 'integer', min: 1, max: 100_000 },
    default: d.maxIter,
    help: 'EM iteration cap per stage; reaching it is reported as not converged, not an error',
    changesResult: true,
  },
  {
    key: 'tol',
    flag: 'tol',
    placeholder: '<gain>',
    value: { kind: 'number', min: 0, max: 1, openLow: true },
    default: d.tol,
    help: "stop when the mean log-likelihood per voxel gains less than this (scikit-learn's 1e-3 stops visibly early)",
    changesResult: true,
  },
  {
    key: 'labelTol',
    flag: 'label-tol',
    placeholder: '<fraction>',
    value: { kind: 'number', min: 0, max: 0.5 },
    default: d.labelTol,
    help: 'the spatial stage also stops when at most this fraction of the voxels changed label in an iteration, as FAST and Atropos stop; 0 turns it off',
    changesResult: true,
  },
  {
    key: 'seed',
    flag: 'seed',
    placeholder: '<n>',
    value: { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER },
    default: d.seed,
    help: 'seed of every random choice: the same input, options and seed always give the same output',
    changesResult: true,
  },
  {
    key: 'preparation',
    flag: 'preparation',
    placeholder: '<kind>',
    value: { kind: 'choice', choices: ['none', 'zscore', 'robust'] },
    default: d.preparation,
    help: 'intensity preparation: none, zscore, or robust (clip at the 0.5/99.5 percentiles); none keeps integer intensities exact and fast',
    changesResult: true,
  },
];
