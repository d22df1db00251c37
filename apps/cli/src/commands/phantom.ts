/** `mixseg phantom`: a synthetic T1-like subject and its ground truth, the sample the README segments. */

import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  generatePhantom,
  type PhantomOptions,
  writeLabelMap,
  writeLabelPng,
  writeNifti,
} from '@mixseg/imaging/node';
import { type Command, Option } from 'commander';
import type { CliIo } from '../cli-io.ts';
import { integerIn, numberIn, numberList } from '../options.ts';

interface PhantomCommandOptions {
  outDir: string;
  name: string;
  size: number[];
  spacing: number[];
  /** commander keeps `--2d` as the key '2d' */
  '2d'?: boolean;
  shape: 'ellipsoids' | 'shells';
  noise: number;
  noiseType: 'gaussian' | 'rician';
  bias: number;
  seed: number;
  format: 'nifti' | 'png';
  json?: boolean;
}

/**
 * Why a --name cannot name the phantom's files, or undefined: it must be a plain file name, so that
 * the files land in --out-dir and nowhere else (no folder, no `..`, not hidden, no control characters).
 */
export function phantomNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (/[/\\]/.test(name))
    return 'must be a file name, without a folder (no / or \\); use --out-dir for the folder';
  if (name.includes('..')) return "must not contain '..'";
  if (name.startsWith('.')) return 'must not start with a dot (a hidden file)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters (tabs, newlines...)';
  return undefined;
}

export function phantomCommand(
  program: Command,
  io: CliIo,
  fail: (message: string, usage?: boolean) => void,
): void {
  program
    .command('phantom')
    .description('write a synthetic T1-like brain with its ground truth labels (for trying mixseg out)')
    .option('-o, --out-dir <dir>', 'folder to write to (default: the current folder)', '.')
    .option(
      '--name <name>',
      'subject name, a file name (no folder): files are <name>_T1w and <name>_desc-truth_dseg in --out-dir',
      'sub-phantom',
    )
    .option(
      '--size <nx,ny,nz>',
      'voxels per axis, or one number for all (default: 96,96,72, a whole small brain in a second)',
      numberList(3, (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'integers from 1 to 1024'),
      [96, 96, 72],
    )
    .option(
      '--spacing <mm>',
      'voxel size in mm, one number or three (default: 1.5, so the default size spans a brain)',
      numberList(3, (v) => v > 0, 'numbers > 0'),
      [1.5, 1.5, 1.5],
    )
    .option('--2d', 'one slice (nz = 1), like a PNG slice')
    .addOption(
      new Option('--shape <shape>', 'nested ellipsoids with ventricles, or concentric spheres')
        .choices(['ellipsoids', 'shells'])
        .default('ellipsoids'),
    )
    .option(
      '--noise <fraction>',
      'noise standard deviation as a fraction of the WM intensity, 0..0.5 (default: 0.03, moderate, like a good 3 T scan)',
      numberIn(0, 0.5),
      0.03,
    )
    .addOption(
      new Option('--noise-type <type>', 'gaussian, or rician as in magnitude MR images')
        .choices(['gaussian', 'rician'])
        .default('gaussian'),
    )
    .option(
      '--bias <amplitude>',
      'smooth multiplicative bias field 1 ± a, 0 <= a < 1 (default: 0, as after N4 bias correction)',
      numberIn(0, 0.99),
      0,
    )
    .option(
      '--seed <n>',
      'seed of the noise (default: 0; the anatomy does not depend on it)',
      integerIn(0, 2 ** 31),
      0,
    )
    .addOption(
      new Option('--format <format>', 'nifti (.nii.gz), or png for a 2-D phantom (16-bit grey)')
        .choices(['nifti', 'png'])
        .default('nifti'),
    )
    .option('--json', 'print the written files as JSON')
    .action(async (options: PhantomCommandOptions) => {
      const nameProblem = phantomNameProblem(options.name);
      if (nameProblem !== undefined) {
        fail(`--name ${JSON.stringify(options.name)}: ${nameProblem}`, true);
        return;
      }
      const dims: [number, number, number] = [
        options.size[0]!,
        options.size[1]!,
        options['2d'] ? 1 : options.size[2]!,
      ];
      if (options.format === 'png' && dims[2] !== 1) {
        fail('--format png needs a 2-D phantom: add --2d', true);
        return;
      }
      if (dims[0] < 2 || dims[1] < 2) {
        fail(`--size: nx and ny must be at least 2, got ${dims.join(',')}`, true);
        return;
      }
      try {
        const phantomOptions: PhantomOptions = {
          dims,
          spacing: options.spacing as [number, number, number],
          shape: options.shape,
          noise: options.noiseType,
          noiseLevel: options.noise,
          bias: options.bias,
          seed: options.seed,
        };
        const phantom = generatePhantom(phantomOptions);
        const outDir = resolve(io.cwd, options.outDir);
        await mkdir(outDir, { recursive: true });
        const extension = options.format === 'png' ? 'png' : 'nii.gz';
        const image = join(outDir, `${options.name}_T1w.${extension}`);
        const truth = join(outDir, `${options.name}_desc-truth_dseg.${extension}`);
        if (options.format === 'png') {
          await writeLabelPng(image, Uint16Array.from(phantom.image.data), phantom.image);
          await writeLabelPng(truth, phantom.labels, phantom.image);
        } else {
          await writeNifti(image, {
            data: phantom.image.data,
            dims: phantom.image.dims,
            datatype: 'int16',
            geometry: phantom.image.geometry,
          });
          await writeLabelMap(truth, phantom.labels, phantom.image);
        }
        if (options.json) {
          io.stdout(`${JSON.stringify({ image, truth, options: phantom.options }, null, 2)}\n`);
        } else {
          const show = (path: string) =>
            relative(io.cwd, path).startsWith('..') ? path : relative(io.cwd, path);
          io.stdout(
            [
              `wrote ${show(image)} (${dims.join(' x ')} voxels of ${options.spacing.join(' x ')} mm)`,
              `  and ${show(truth)} (ground truth: 1 CSF, 2 GM, 3 WM)`,
              '',
            ].join('\n'),
          );
        }
      } catch (error) {
        fail((error as Error).message);
      }
    });
}
