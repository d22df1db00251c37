/**
 * `mixseg segment`: one or hundreds of subjects, in parallel, resumable, sharded across a cluster.
 * Options are validated here once; each subject then runs in a worker (subject.ts).
 */

import { access, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { type CovarianceType, parseMixtureModel } from '@mixseg/core';
import {
  DEFAULT_BIAS_FWHM_MM,
  DEFAULT_SEGMENT_OPTIONS,
  type ImageType,
  type IntensityPreparation,
  writeFileAtomic,
} from '@mixseg/imaging/node';
import { type Command, Option } from 'commander';
import { type CliIo, EXIT_FAILURE, UsageError } from '../cli-io.ts';
import { findInputFiles, orderSubjects, readManifest, type Subject, subjectsFromFiles } from '../inputs.ts';
import { integerIn, numberIn } from '../options.ts';
import {
  type ClassEntry,
  classTable,
  dsegTsv,
  isTemporaryOutputOf,
  type SummaryRow,
  subjectOutputs,
  summaryRecord,
  summaryTsv,
} from '../outputs.ts';
import { runPool } from '../pool.ts';
import { describeVolumes, ProgressReporter } from '../progress.ts';
import { type ModelTransform, type PriorChoice, recordedOptions, type SegmentSettings } from '../settings.ts';
import { resolveShard, shardItems } from '../shard.ts';
import { subjectInputs } from '../subject.ts';
import { SOFTWARE } from '../version.ts';

/** Default output folder: never the input folder, so outputs do not mix with the data. */
export const DEFAULT_OUT_DIR = 'mixseg-output';

interface SegmentCommandOptions {
  manifest?: string;
  classes?: number;
  imageType: ImageType;
  partialVolume: boolean;
  robust: boolean;
  prior: PriorChoice;
  beta?: number;
  classWeights?: number;
  atlas?: string;
  atlasWeight?: number;
  /** Undefined: not given (on, unless --model). */
  biasCorrection?: boolean;
  biasFwhm?: number;
  mask: string;
  covariance: CovarianceType;
  covarianceShrinkage?: number;
  restarts: number;
  maxIter: number;
  tol: number;
  labelTol: number;
  seed: number;
  preparation: IntensityPreparation;
  outDir: string;
  jobs: number;
  shard?: string;
  overwrite?: boolean;
  model?: string;
  saveModel?: boolean;
  saveBiasField?: boolean;
  probabilities: boolean;
  preview?: boolean;
  json?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The intensity transform a saved model was fitted under: from a sidecar's Options, or a model
 * file's IntensityTransform. A model in bias-corrected units must be applied with the subject's own
 * field; one that does not say cannot be applied safely.
 * @throws Error naming what is missing
 */
function intensityTransformOf(parsed: Record<string, unknown>): ModelTransform {
  const recorded = (parsed['IntensityTransform'] ?? parsed['Options']) as Record<string, unknown> | undefined;
  if (!recorded || typeof recorded['biasCorrection'] !== 'boolean') {
    throw new Error(
      'it does not record whether it was fitted to bias-corrected intensities (saved by an older mixseg?): ' +
        'save the model again with --save-model, or use the sidecar of the run that fitted it',
    );
  }
  const preparation = recorded['preparation'];
  return {
    biasCorrection: recorded['biasCorrection'],
    biasFwhm: typeof recorded['biasFwhm'] === 'number' ? recorded['biasFwhm'] : undefined,
    preparation:
      preparation === 'zscore' || preparation === 'robust' || preparation === 'none' ? preparation : 'none',
  };
}

/** Validates the options and resolves them into settings. @throws {UsageError} */
async function resolveSettings(options: SegmentCommandOptions, io: CliIo): Promise<SegmentSettings> {
  let model: SegmentSettings['model'];
  if (options.model !== undefined) {
    const path = resolve(io.cwd, options.model);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--model ${options.model}: cannot read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      // a sidecar holds the model under "Model"; a --save-model file is the model itself
      // a sidecar holds the partial-volume model (single channel) or the Gaussian mixture
      const saved =
        (parsed['PartialVolumeModel'] as object | null | undefined) ??
        (parsed['Model'] as object | undefined) ??
        parsed;
      model = { path, mixture: parseMixtureModel(saved), transform: intensityTransformOf(parsed) };
    } catch (error) {
      throw new UsageError(`--model ${options.model}: ${(error as Error).message}`);
    }
    const modelClasses = 'pairs' in model.mixture ? model.mixture.nClasses : model.mixture.nComponents;
    if (options.classes !== undefined && options.classes !== modelClasses) {
      throw new UsageError(
        `--classes ${options.classes} disagrees with the model in ${options.model}, which has ${modelClasses} classes`,
      );
    }
    if (options.prior === 'atlas' || options.atlas !== undefined) {
      throw new UsageError('--model cannot be combined with an atlas (--prior atlas, --atlas)');
    }
    // nothing is fitted; the model's own transform decides the bias correction and preparation
    const fitting = [
      options.biasCorrection !== undefined && `--${options.biasCorrection ? '' : 'no-'}bias-correction`,
      options.biasFwhm !== undefined && '--bias-fwhm',
      options.covarianceShrinkage !== undefined && '--covariance-shrinkage',
    ].filter(Boolean);
    if (fitting.length > 0) {
      throw new UsageError(
        `--model applies a fitted model in the units it was fitted in (its file says whether the intensities were bias-corrected), so ${fitting.join(', ')} cannot be used with it`,
      );
    }
    if (options.saveBiasField === true && !model.transform.biasCorrection) {
      throw new UsageError(
        '--save-bias-field: the model was fitted without bias correction, so none is estimated when it is applied',
      );
    }
  }
  const classes =
    (model && ('pairs' in model.mixture ? model.mixture.nClasses : model.mixture.nComponents)) ??
    options.classes ??
    3;

  let atlas: string[] | undefined;
  let atlasWeight: number | undefined;
  if (options.prior === 'atlas' && options.atlas === undefined) {
    throw new UsageError(
      '--prior atlas needs --atlas with one probability map per class (csf.nii.gz,gm.nii.gz,wm.nii.gz)',
    );
  }
  if (options.atlas !== undefined) {
    const given = options.atlas.split(',').map((file) => file.trim());
    atlas = given.map((file) => resolve(io.cwd, file));
    if (atlas.length !== classes) {
      throw new UsageError(
        `--atlas gives ${atlas.length} maps for ${classes} classes: one per class, in class order`,
      );
    }
    for (const [i, file] of atlas.entries()) {
      if (!(await exists(file))) throw new UsageError(`--atlas: no such file ${given[i]}`);
    }
    // with a spatial prior the atlas is blended with it; with none, the atlas alone is the prior
    if (options.prior !== 'none') atlasWeight = options.atlasWeight ?? 0.5;
    else if (options.atlasWeight !== undefined) {
      throw new UsageError('--atlas-weight weighs the atlas against the spatial prior, but --prior is none');
    }
  } else if (options.atlasWeight !== undefined) {
    throw new UsageError('--atlas-weight needs --atlas');
  }

  const biasCorrection = model ? model.transform.biasCorrection : options.biasCorrection !== false;
  if (!biasCorrection && model === undefined) {
    if (options.biasFwhm !== undefined) {
      throw new UsageError('--bias-fwhm sets the bias field, but --no-bias-correction turns it off');
    }
    if (options.saveBiasField === true) {
      throw new UsageError('--save-bias-field needs bias correction (remove --no-bias-correction)');
    }
  }

  let mask: SegmentSettings['mask'];
  if (options.mask === 'nonzero' || options.mask === 'otsu') mask = options.mask;
  else {
    const file = resolve(io.cwd, options.mask);
    if (!(await exists(file))) {
      throw new UsageError(`--mask ${options.mask}: no such file (or use nonzero or otsu)`);
    }
    mask = { file };
  }
  if (options.beta !== undefined && options.prior === 'none') {
    throw new UsageError('--beta sets the spatial prior, but --prior is none');
  }

  return {
    classes,
    imageType: options.imageType,
    partialVolume: options.partialVolume,
    robust: options.robust,
    prior: options.prior,
    beta: options.beta,
    classWeightPower: options.classWeights ?? DEFAULT_SEGMENT_OPTIONS.classWeightPower,
    atlas,
    atlasWeight,
    biasCorrection,
    biasFwhm: biasCorrection
      ? (model?.transform.biasFwhm ?? options.biasFwhm ?? DEFAULT_BIAS_FWHM_MM)
      : undefined,
    mask,
    covariance: options.covariance,
    covarianceShrinkage:
      model === undefined
        ? (options.covarianceShrinkage ?? DEFAULT_SEGMENT_OPTIONS.covarianceShrinkage)
        : undefined,
    restarts: options.restarts,
    maxIter: options.maxIter,
    tol: options.tol,
    labelTol: options.labelTol,
    seed: options.seed,
    preparation: model?.transform.preparation ?? options.preparation,
    outDir: resolve(io.cwd, options.outDir),
    probabilities: options.probabilities,
    saveModel: options.saveModel === true,
    preview: options.preview === true,
    saveBiasField: options.saveBiasField === true,
    model,
    overwrite: options.overwrite === true,
    jobs: options.jobs,
    shard: resolveShard(options.shard, io.env),
    json: options.json === true,
  };
}

/** Options that change the result: outputs made with other values are not taken as done. */
const RESULT_OPTIONS = [
  'classes',
  'classWeightPower',
  'imageType',
  'partialVolume',
  'robust',
  'prior',
  'atlas',
  'atlasWeight',
  'biasCorrection',
  'biasFwhm',
  'covariance',
  'covarianceShrinkage',
  'restarts',
  'maxIter',
  'tol',
  'labelTol',
  'seed',
  'preparation',
  'model',
];

/**
 * The row of a subject whose outputs all exist (skipped), or undefined when it must run. Outputs
 * from a run with other options are a failure, not silently kept: the user must choose.
 */
async function completedRow(
  subject: Subject,
  settings: SegmentSettings,
  classes: readonly ClassEntry[],
): Promise<SummaryRow | undefined> {
  const outputs = subjectOutputs(settings.outDir, subject.stem, classes, settings, subject.channels.length);
  for (const path of outputs.all) if (!(await exists(path))) return undefined;
  let sidecar: Record<string, unknown>;
  try {
    sidecar = JSON.parse(await readFile(outputs.sidecar, 'utf8'));
  } catch {
    return undefined; // unreadable: redo it
  }
  const previous = (sidecar['Options'] ?? {}) as Record<string, unknown>;
  const current = recordedOptions(settings);
  const differences = RESULT_OPTIONS.filter(
    (key) => JSON.stringify(previous[key] ?? null) !== JSON.stringify(current[key] ?? null),
  );
  if (settings.beta !== undefined && previous['beta'] !== settings.beta) differences.push('beta');
  const base = { subject: subject.stem, inputs: subjectInputs(subject), dseg: outputs.dseg };
  if (differences.length > 0) {
    const described = differences
      .map(
        (key) =>
          `${key} ${JSON.stringify(previous[key] ?? null)} there, ${JSON.stringify(current[key] ?? settings.beta)} here`,
      )
      .join('; ');
    return {
      ...base,
      status: 'failed',
      volumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, null])),
      partialVolumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, null])),
      iterations: null,
      converged: null,
      seconds: null,
      error: `${outputs.sidecar}: outputs exist from a run with other options (${described}); use --overwrite to replace them, or another --out-dir`,
    };
  }
  const recordedClasses = (sidecar['Classes'] ?? []) as {
    Abbreviation: string;
    VolumeMl: number;
    PartialVolumeMl?: number | null;
  }[];
  const iterations = (sidecar['Iterations'] ?? {}) as { Mixture?: number; Spatial?: number };
  const timings = (sidecar['Timings'] ?? {}) as { Total?: number };
  return {
    ...base,
    status: 'skipped',
    volumesMl: Object.fromEntries(
      classes.map((c) => [
        c.abbreviation,
        recordedClasses.find((r) => r.Abbreviation === c.abbreviation)?.VolumeMl ?? null,
      ]),
    ),
    partialVolumesMl: Object.fromEntries(
      classes.map((c) => [
        c.abbreviation,
        recordedClasses.find((r) => r.Abbreviation === c.abbreviation)?.PartialVolumeMl ?? null,
      ]),
    ),
    iterations: (iterations.Mixture ?? 0) + (iterations.Spatial ?? 0),
    converged: typeof sidecar['Converged'] === 'boolean' ? sidecar['Converged'] : null,
    seconds: timings.Total ?? null,
    error: null,
  };
}

/** Removes temporary files an interrupted run left for these subjects (a killed job cannot clean up). */
async function removeStaleTemporaries(outDir: string, stems: readonly string[]): Promise<void> {
  const wanted = new Set(stems);
  const names = await readdir(outDir);
  await Promise.all(
    names
      .filter((name) => name.startsWith('.') && name.includes('.tmp-'))
      .filter((name) => [...wanted].some((stem) => isTemporaryOutputOf(name, stem)))
      .map((name) => rm(join(outDir, name), { force: true })),
  );
}

async function runSegment(
  inputs: string[],
  options: SegmentCommandOptions,
  io: CliIo,
  useWorkers: boolean,
): Promise<number> {
  if (inputs.length > 0 && options.manifest !== undefined) {
    throw new UsageError('give input files or --manifest, not both');
  }
  if (inputs.length === 0 && options.manifest === undefined) {
    throw new UsageError(
      'nothing to segment: give input files, folders or globs, or --manifest subjects.tsv',
    );
  }
  const settings = await resolveSettings(options, io);
  const all = orderSubjects(
    options.manifest !== undefined
      ? await readManifest(options.manifest, io.cwd)
      : subjectsFromFiles(await findInputFiles(inputs, io.cwd)),
    io.cwd,
  );
  if (all.length === 0) throw new UsageError(`manifest ${options.manifest} lists no subject`);
  const subjects = shardItems(all, settings.shard);
  const classes = classTable(settings.classes);
  const log = (line: string) => {
    if (!settings.json) io.stderr(`${line}\n`);
  };

  await mkdir(settings.outDir, { recursive: true });
  await writeFileAtomic(join(settings.outDir, 'dseg.tsv'), dsegTsv(classes));
  await removeStaleTemporaries(
    settings.outDir,
    subjects.map((s) => s.stem),
  );
  const { index, count } = settings.shard;
  log(
    `mixseg segment: ${subjects.length} subject(s)${count > 1 ? ` (shard ${index}/${count} of ${all.length}, from ${settings.shard.source})` : ''}, ` +
      `${settings.jobs} job(s), output in ${settings.outDir}`,
  );

  const reporter = new ProgressReporter(
    io,
    settings.json ? 'quiet' : io.isTTY ? 'bar' : 'lines',
    subjects.length,
  );
  const rows = new Map<string, SummaryRow>();
  const pending: Subject[] = [];
  for (const subject of subjects) {
    const row = settings.overwrite ? undefined : await completedRow(subject, settings, classes);
    if (row) {
      rows.set(subject.stem, row);
      reporter.finish(row);
    } else pending.push(subject);
  }

  const controller = new AbortController();
  const stopOnSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  if (io.handleSignals) {
    process.on('SIGINT', stopOnSignal);
    process.on('SIGTERM', stopOnSignal);
  }
  try {
    const computed = await runPool(
      pending.map((subject) => ({ subject, settings })),
      {
        start: (task) => reporter.start(task.subject.stem),
        progress: (task, progress) => reporter.progress(task.subject.stem, progress),
        finish: (row) => reporter.finish(row),
      },
      { jobs: settings.jobs, useWorkers, signal: controller.signal },
    );
    for (const row of computed) if (row) rows.set(row.subject, row);
  } finally {
    reporter.close();
    if (io.handleSignals) {
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
    }
  }
  if (controller.signal.aborted) {
    // workers were terminated mid-write: their temporary files carry this process's id
    const names = await readdir(settings.outDir);
    await Promise.all(
      names
        .filter((name) => name.startsWith('.') && name.includes(`.tmp-${process.pid}-`))
        .map((name) => rm(join(settings.outDir, name), { force: true })),
    );
    io.stderr(
      `interrupted: ${rows.size} of ${subjects.length} subject(s) finished; rerun the same command to do the rest\n`,
    );
    return 130;
  }

  const ordered = subjects.map((s) => rows.get(s.stem)!).filter(Boolean);
  const suffix = count > 1 ? `_shard-${index}of${count}` : '';
  const counts = {
    total: ordered.length,
    done: ordered.filter((r) => r.status === 'done').length,
    skipped: ordered.filter((r) => r.status === 'skipped').length,
    failed: ordered.filter((r) => r.status === 'failed').length,
  };
  const summary = {
    software: { name: SOFTWARE.Name, version: SOFTWARE.Version },
    outDir: settings.outDir,
    shard: { index, count },
    counts,
    classes,
    subjects: ordered.map(summaryRecord),
  };
  const summaryJsonPath = join(settings.outDir, `summary${suffix}.json`);
  const summaryTsvPath = join(settings.outDir, `summary${suffix}.tsv`);
  await writeFileAtomic(summaryTsvPath, summaryTsv(ordered, classes));
  await writeFileAtomic(summaryJsonPath, `${JSON.stringify(summary, null, 2)}\n`);

  if (settings.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    if (ordered.length === 1 && ordered[0]!.status !== 'failed') {
      io.stdout(`${ordered[0]!.subject}: ${describeVolumes(ordered[0]!)}\n`);
    }
    io.stdout(
      `${counts.total} subject(s): ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed; summary in ${summaryTsvPath}\n`,
    );
    for (const row of ordered.filter((r) => r.status === 'failed')) io.stderr(`failed: ${row.error}\n`);
    // a result that contradicts the declared image type is said on the terminal; the other
    // warnings (spikes, outliers) are in the sidecars
    let others = 0;
    for (const row of ordered) {
      for (const warning of row.warnings ?? []) {
        if (/contradicts imageType/.test(warning)) io.stderr(`warning: ${row.subject}: ${warning}\n`);
        else others++;
      }
    }
    if (others > 0)
      io.stderr(`${others} other warning(s) (spikes, outliers) are in the subjects' _dseg.json sidecars\n`);
  }
  return counts.failed > 0 ? EXIT_FAILURE : 0;
}

export function segmentCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const cores = availableParallelism();
  program
    .command('segment')
    .description('segment images into tissue classes (CSF, GM, WM): one subject or a whole study')
    .argument(
      '[inputs...]',
      'image files, folders (searched recursively for .nii, .nii.gz, .png, .jpg) or quoted globs',
    )
    .option(
      '--manifest <file>',
      'TSV with a header and one row per subject: channel columns (t1, t2, pd...), optional mask and stem columns',
    )
    .option(
      '-k, --classes <n>',
      'number of tissue classes (default: 3, CSF, GM and WM of a skull-stripped brain; more for lesions or non-brain tissue)',
      integerIn(1, 254),
    )
    .addOption(
      new Option(
        '--image-type <type>',
        "contrast of the first channel (FSL FAST's -t): t1 orders the classes by rising intensity (CSF, GM, WM), " +
          't2 and pd by falling intensity (CSF is bright). A result that contradicts it is warned about',
      )
        .choices(['t1', 't2', 'pd'])
        .default('t1'),
    )
    .option(
      '--no-partial-volume',
      'do not model voxels that mix two tissues (CSF/GM, GM/WM); default: modelled, which keeps the pure classes ' +
        "at the noise spread and writes <stem>_label-<class>_desc-pve_probseg.nii.gz fraction maps (as FAST's _pve_)",
    )
    .option(
      '--no-robust',
      'fit every voxel; default: spike values (zeros inside the mask, a clipped maximum) and gross outliers are ' +
        'left out of the fit, an outlier class takes what no tissue explains, and the sidecar says what was done',
    )
    .addOption(
      new Option(
        '--prior <kind>',
        'spatial prior that makes neighbouring voxels agree: ppf (neighbourhood probability factor), ' +
          'mrf (Potts field, as FSL FAST and ANTs Atropos), atlas (the --atlas maps blended with the ppf term), ' +
          'none (the plain mixture, voxel by voxel). Default ppf: it removes noise speckle while keeping thin structures',
      )
        .choices(['ppf', 'mrf', 'atlas', 'none'])
        .default(DEFAULT_SEGMENT_OPTIONS.prior),
    )
    .option(
      '--beta <strength>',
      `strength of the spatial prior, 0 = off (default: ${DEFAULT_SEGMENT_OPTIONS.beta.ppf} for ppf; ${DEFAULT_SEGMENT_OPTIONS.beta.mrf} for mrf, as Atropos); raise it for noisy images`,
      numberIn(0, 100),
    )
    .option(
      '--class-weights <0..1>',
      "how strongly the spatial prior keeps each class's share of the brain: 0 lets each neighbourhood decide alone " +
        `(as FSL FAST and dipy), 1 keeps a small class small where the neighbourhood is mixed (default: ${DEFAULT_SEGMENT_OPTIONS.classWeightPower}, chosen across every dataset with a reference)`,
      numberIn(0, 1),
    )
    .option(
      '--atlas <files>',
      'tissue-probability maps, one per class, comma-separated in label order (csf.nii.gz,gm.nii.gz,wm.nii.gz for CSF, GM, WM), ' +
        'registered to the inputs (any grid: resampled through the affines). Needed by --prior atlas; with ppf or mrf blended ' +
        "with that prior; with none the atlas alone is the prior. The labels follow the maps' order",
    )
    .option(
      '--atlas-weight <w>',
      'weight w of the atlas against the spatial prior, 0..1: log prior = w log atlas + (1 - w) log spatial (default: 0.5)',
      numberIn(0, 1),
    )
    .option(
      '--bias-correction',
      'correct a smooth multiplicative intensity bias (RF inhomogeneity): a FAST-style field, smoothed with a ' +
        'FWHM of 20 mm, estimated between EM rounds (default: on)',
    )
    .option(
      '--no-bias-correction',
      'leave the intensities as they are (images already corrected, e.g. by N4)',
    )
    .option(
      '--bias-fwhm <mm>',
      "smoothness of the bias field: FWHM of its Gaussian kernel in mm (default: 20, FSL FAST's); smaller follows faster variation, and risks following anatomy",
      numberIn(0, 1000, { openLow: true }),
    )
    .option(
      '--save-bias-field',
      'also write <stem>_desc-biasfield.nii.gz, the estimated field (float32, 1 = no bias, 0 outside the mask; ' +
        'with several channels one per channel, desc-biasfield1, desc-biasfield2...)',
    )
    .option(
      '--mask <file|method>',
      'brain mask file (nonzero = brain), or nonzero (every nonzero voxel) or otsu (automatic threshold, for images with a dark background). ' +
        'Default nonzero: inputs are expected skull-stripped, as for FAST',
      'nonzero',
    )
    .addOption(
      new Option(
        '--covariance <type>',
        'covariance of each class with several channels. Default diag: full covariances of T2 and PD model the ' +
          'partial-volume rim of CSF rather than the tissues',
      )
        .choices(['full', 'tied', 'diag', 'spherical'])
        .default('diag'),
    )
    .option(
      '--covariance-shrinkage <0..1>',
      "shrinks each class's covariance towards the pooled one: 0 = free, 1 = one shared covariance, as the noise " +
        `is the same in every tissue (default: ${DEFAULT_SEGMENT_OPTIONS.covarianceShrinkage}, chosen across every dataset with a reference)`,
      numberIn(0, 1),
    )
    .option(
      '--restarts <n>',
      'seeded starts of the plain mixture, the best kept (default: 5; a single start often lands in a poor optimum on brains)',
      integerIn(1, 100),
      5,
    )
    .option(
      '--max-iter <n>',
      'EM iteration cap per stage (default: 200; reaching it is reported as not converged, not an error)',
      integerIn(1, 100_000),
      200,
    )
    .option(
      '--tol <gain>',
      "stop when the mean log-likelihood per voxel gains less than this (default: 1e-5; scikit-learn's 1e-3 stops visibly early)",
      numberIn(0, 1, { openLow: true }),
      1e-5,
    )
    .option(
      '--label-tol <fraction>',
      'the spatial stage also stops when at most this fraction of the voxels changed label in an iteration, as FAST and Atropos stop (default: 0.001; 0 turns it off)',
      numberIn(0, 0.5),
      0.001,
    )
    .option(
      '--seed <n>',
      'seed of every random choice (default: 0; the same input, options and seed always give the same output)',
      integerIn(0, Number.MAX_SAFE_INTEGER),
      0,
    )
    .addOption(
      new Option(
        '--preparation <kind>',
        'intensity preparation: none, zscore, or robust (clip outliers at the 0.5/99.5 percentiles, e.g. vessels pulling CSF into GM). ' +
          'Default none: raw integer intensities keep the fit exact and fast',
      )
        .choices(['none', 'zscore', 'robust'])
        .default('none'),
    )
    .option(
      '-o, --out-dir <dir>',
      `output folder (default: ${DEFAULT_OUT_DIR}, kept apart from the inputs)`,
      DEFAULT_OUT_DIR,
    )
    .option(
      '-j, --jobs <n>',
      `subjects segmented in parallel, one worker thread each (default: the number of cores, ${cores} here); each holds one subject in memory`,
      integerIn(1, 1024),
      cores,
    )
    .option(
      '--shard <i/n>',
      'process shard i of n (0-based) of the inputs sorted by name, for job arrays. Default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, ' +
        'or JOB_COMPLETION_INDEX/MIXSEG_SHARD_COUNT (Kubernetes), else 0/1: everything',
    )
    .option(
      '--overwrite',
      'redo subjects whose outputs exist (default: skip them, so a rerun finishes an interrupted batch)',
    )
    .option(
      '--model <file>',
      'apply a saved model (a --save-model file or a _dseg.json sidecar) instead of fitting: every subject gets the same Gaussians',
    )
    .option('--save-model', 'also write <stem>_model.json, the fitted mixture, for --model')
    .option(
      '--no-probabilities',
      'skip the per-class probability maps (K float volumes: most of the disk space and writing time)',
    )
    .option(
      '--preview',
      'also write <stem>_preview.png: slices with labels, histogram with the fitted Gaussians, convergence',
    )
    .option('--json', 'print only the summary, as JSON, on stdout (no progress)')
    .action(async (inputs: string[], options: SegmentCommandOptions, command: Command) => {
      try {
        setExitCode(await runSegment(inputs, options, io, io.useWorkers));
      } catch (error) {
        if (error instanceof UsageError)
          command.error(`error: ${error.message}`, { exitCode: 2, code: 'mixseg.usage' });
        throw error;
      }
    });
}
