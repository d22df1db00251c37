/**
 * The options of `mixseg segment`: the segmentation options come from @mixseg/imaging's option
 * table (flag, value, default, help), the run options (what to write, how to run) are listed here;
 * each default is written once, in the help. `resolveSettings` checks what was given and resolves
 * it into the settings every subject gets.
 */
import { access, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseMixtureModel } from '@mixseg/core';
import {
  describeDefault,
  type IntensityPreparation,
  type OptionRecord,
  parseOptionText,
  type RecordValue,
  resolveOptionRecord,
  SEGMENT_OPTION_TABLE,
} from '@mixseg/imaging';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliIo, UsageError } from './cli-io.ts';
import { defaultMemoryBudget, memoryBudgetArgument } from './memory-budget.ts';
import { integerIn } from './options.ts';
import type { ModelTransform, SegmentSettings } from './settings.ts';
import { resolveShard } from './shard.ts';

/** Default output folder: never the input folder, so outputs do not mix with the data. */
export const DEFAULT_OUT_DIR = 'mixseg-output';

/** What commander hands over: segmentation options by camelCased flag, and the run options. */
export type SegmentCommandOptions = Record<string, unknown> & {
  manifest?: string;
  outDir?: string;
  jobs?: number;
  shard?: string;
  overwrite?: boolean;
  model?: string;
  saveModel?: boolean;
  saveBiasField?: boolean;
  saveRestored?: boolean;
  probabilities?: boolean;
  preview?: boolean;
  report?: boolean;
  json?: boolean;
  memoryBudget?: number;
};

/** `class-weights` -> `classWeights`: the attribute commander uses for a flag. */
export function attributeOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

const withDefault = (help: string, value: string | undefined) =>
  value === undefined ? help : `${help} (default: ${value})`;

/** Adds every option of `segment` to the command. */
export function addSegmentOptions(command: Command): void {
  for (const spec of SEGMENT_OPTION_TABLE) {
    const shown = describeDefault(spec);
    if (spec.value.kind === 'switch') {
      // both forms, no commander default: undefined unless given, so the table's default applies
      command.addOption(new Option(`--${spec.flag}`, withDefault(spec.help, shown)));
      command.addOption(
        new Option(`--no-${spec.flag}`, `turn --${spec.flag} off`).hideHelp(spec.default === false),
      );
      continue;
    }
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.flag} ${spec.placeholder ?? '<value>'}`;
    const option = new Option(flags, withDefault(spec.help, shown)).argParser((text: string) => {
      try {
        return parseOptionText(spec, text);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message.replace(/^--[\w-]+ must be /, 'expected '));
      }
    });
    if (spec.value.kind === 'choice') option.choices([...spec.value.choices]);
    command.addOption(option);
  }
  const cores = availableParallelism();
  command
    .option(
      '--manifest <file>',
      'TSV with a header and one row per subject: channel columns (t1, t2, pd...), optional mask and stem columns',
    )
    .option('-o, --out-dir <dir>', `output folder, kept apart from the inputs (default: ${DEFAULT_OUT_DIR})`)
    .option(
      '-j, --jobs <n>',
      `subjects segmented in parallel, one worker thread each; each holds one subject in memory (default: the number of cores, ${cores} here)`,
      integerIn(1, 1024),
    )
    .option(
      '--memory-budget <size>',
      "most memory the subjects running at once may need together, e.g. 8G, 500M or 50% (of the memory here); each subject's need is " +
        'estimated from its header: one that needs more fails by name, the others wait for room (default: 3/4 of the memory, or of the cgroup limit of a SLURM job or container)',
      memoryBudgetArgument,
    )
    .option(
      '--shard <i/n>',
      'process shard i of n (0-based) of the inputs sorted by name, for job arrays (default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, ' +
        'or JOB_COMPLETION_INDEX/MIXSEG_SHARD_COUNT on Kubernetes, else 0/1: everything)',
    )
    .option(
      '--overwrite',
      'replace the outputs of subjects done before, also those of a run with other options (by default they are skipped, ' +
        'so a rerun finishes an interrupted batch, and outputs of other options are refused)',
    )
    .option(
      '--model <file>',
      'apply a saved model (a --save-model file or a _dseg.json sidecar) instead of fitting: every subject gets the same model, in the units it was fitted in',
    )
    .option(
      '--save-model',
      'also write <stem>_model.json, the fitted model with its intensity transform, for --model',
    )
    .option(
      '--save-bias-field',
      'also write <stem>_desc-biasfield.nii.gz, the estimated field (float32, 1 = no bias, 0 outside the mask; one per channel with several)',
    )
    .option(
      '--save-restored',
      "also write the bias-corrected image, <stem>_desc-restore (FSL FAST's _restore; one per channel with several)",
    )
    .option(
      '--no-probabilities',
      'skip the class probability and partial-volume fraction maps (2K float volumes: most of the disk space and writing time)',
    )
    .option(
      '--preview',
      'also write <stem>_preview.png: slices with labels, histogram with the fitted model, convergence',
    )
    .option(
      '--report',
      "also write the folder's report.html: every subject's preview and class volumes on one page, outliers first " +
        '(a volume with a robust z-score beyond 3 over the folder); implies --preview',
    )
    .option('--json', 'print only the summary, as JSON, on stdout (no progress)');
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
export function intensityTransformOf(parsed: Record<string, unknown>): ModelTransform {
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
      preparation === 'zscore' || preparation === 'robust' ? preparation : ('none' as IntensityPreparation),
  };
}

async function readModel(given: string, io: CliIo): Promise<NonNullable<SegmentSettings['model']>> {
  const path = resolve(io.cwd, given);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--model ${given}: cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    // a sidecar holds the partial-volume model (one channel) or the Gaussian mixture; a
    // --save-model file is the model itself
    const saved =
      (parsed['PartialVolumeModel'] as object | null | undefined) ??
      (parsed['Model'] as object | undefined) ??
      parsed;
    return { path, mixture: parseMixtureModel(saved), transform: intensityTransformOf(parsed) };
  } catch (error) {
    throw new UsageError(`--model ${given}: ${(error as Error).message}`);
  }
}

/** Validates the options and resolves them into settings. @throws {UsageError} */
export async function resolveSettings(options: SegmentCommandOptions, io: CliIo): Promise<SegmentSettings> {
  const given: Partial<OptionRecord> = {};
  for (const spec of SEGMENT_OPTION_TABLE) {
    const value = options[attributeOf(spec.flag)] as RecordValue | undefined;
    if (value !== undefined) given[spec.key] = value;
  }
  const model = options.model === undefined ? undefined : await readModel(options.model, io);
  if (model) {
    const modelClasses = 'pairs' in model.mixture ? model.mixture.nClasses : model.mixture.nComponents;
    if (given['nClasses'] !== undefined && given['nClasses'] !== modelClasses) {
      throw new UsageError(
        `--classes ${given['nClasses']} disagrees with the model in ${options.model}, which has ${modelClasses} classes`,
      );
    }
    if (given['prior'] === 'atlas' || given['atlas'] !== undefined) {
      throw new UsageError('--model cannot be combined with an atlas (--prior atlas, --atlas)');
    }
    // nothing is fitted; the model's own transform decides the bias correction and preparation
    const fitting = [
      given['biasCorrection'] !== undefined && `--${given['biasCorrection'] ? '' : 'no-'}bias-correction`,
      given['biasFwhm'] !== undefined && '--bias-fwhm',
      given['covarianceShrinkage'] !== undefined && '--covariance-shrinkage',
    ].filter(Boolean);
    if (fitting.length > 0) {
      throw new UsageError(
        `--model applies a fitted model in the units it was fitted in (its file says whether the intensities were bias-corrected), so ${fitting.join(', ')} cannot be used with it`,
      );
    }
    if (
      (options.saveBiasField === true || options.saveRestored === true) &&
      !model.transform.biasCorrection
    ) {
      throw new UsageError(
        `${options.saveBiasField === true ? '--save-bias-field' : '--save-restored'}: the model was fitted without bias correction, so none is estimated when it is applied`,
      );
    }
    given['nClasses'] = modelClasses;
    given['biasCorrection'] = model.transform.biasCorrection;
    if (model.transform.biasFwhm !== undefined) given['biasFwhm'] = model.transform.biasFwhm;
    given['preparation'] = model.transform.preparation;
    given['partialVolume'] = 'pairs' in model.mixture;
  }
  const classes = (given['nClasses'] as number | undefined) ?? 3;
  const prior = given['prior'] ?? SEGMENT_OPTION_TABLE.find((s) => s.key === 'prior')!.default;
  if (prior === 'atlas' && given['atlas'] === undefined) {
    throw new UsageError(
      '--prior atlas needs --atlas with one probability map per class (csf.nii.gz,gm.nii.gz,wm.nii.gz)',
    );
  }
  if (given['atlas'] !== undefined) {
    const files = given['atlas'] as string[];
    if (files.length !== classes) {
      throw new UsageError(
        `--atlas gives ${files.length} maps for ${classes} classes: one per class, in class order`,
      );
    }
    const absolute = files.map((file) => resolve(io.cwd, file));
    for (const [i, file] of absolute.entries()) {
      if (!(await exists(file))) throw new UsageError(`--atlas: no such file ${files[i]}`);
    }
    given['atlas'] = absolute;
    if (prior === 'none' && given['atlasWeight'] !== undefined) {
      throw new UsageError('--atlas-weight weighs the atlas against the spatial prior, but --prior is none');
    }
  } else if (given['atlasWeight'] !== undefined) {
    throw new UsageError('--atlas-weight needs --atlas');
  }
  if (given['biasCorrection'] === false && !model) {
    if (given['biasFwhm'] !== undefined) {
      throw new UsageError('--bias-fwhm sets the bias field, but --no-bias-correction turns it off');
    }
    if (options.saveBiasField === true || options.saveRestored === true) {
      throw new UsageError(
        `${options.saveBiasField ? '--save-bias-field' : '--save-restored'} needs bias correction (remove --no-bias-correction)`,
      );
    }
  }
  if (given['beta'] !== undefined && prior === 'none') {
    throw new UsageError('--beta sets the spatial prior, but --prior is none');
  }
  const mask = given['mask'] as string | undefined;
  if (mask !== undefined && mask !== 'nonzero' && mask !== 'otsu') {
    const file = resolve(io.cwd, mask);
    if (!(await exists(file))) throw new UsageError(`--mask ${mask}: no such file (or use nonzero or otsu)`);
    given['mask'] = file;
  }
  let record: OptionRecord;
  try {
    record = resolveOptionRecord(given);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    record,
    model,
    outDir: resolve(io.cwd, options.outDir ?? DEFAULT_OUT_DIR),
    probabilities: options.probabilities !== false,
    saveModel: options.saveModel === true,
    preview: options.preview === true || options.report === true,
    report: options.report === true,
    saveBiasField: options.saveBiasField === true,
    saveRestored: options.saveRestored === true,
    overwrite: options.overwrite === true,
    jobs: options.jobs ?? availableParallelism(),
    shard: resolveShard(options.shard, io.env),
    json: options.json === true,
    memoryBudget: options.memoryBudget ?? defaultMemoryBudget(),
  };
}
