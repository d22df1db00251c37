/** `mixseg info <file>`: what an image is (dimensions, voxel size, datatype, orientation, affine, range). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo } from '../cli-io.ts';
import { integerIn } from '../options.ts';
import { axisCodes } from '../orientation.ts';
import { readVolumeFile } from '../read-volume.ts';

export interface ImageInfo {
  file: string;
  format: string;
  datatype: string;
  dims: number[];
  nVolumes: number;
  volume: number;
  spacingMm: number[];
  orientation: string;
  affine: number[][];
  qformCode: number;
  sformCode: number;
  range: { min: number | null; max: number | null };
  nonzeroVoxels: number;
  nonFiniteVoxels: number;
}

export async function imageInfo(path: string, volume: number | undefined): Promise<ImageInfo> {
  const image = await readVolumeFile(path, volume);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nonzero = 0;
  let nonFinite = 0;
  for (const value of image.data) {
    if (!Number.isFinite(value)) {
      nonFinite++;
      continue;
    }
    if (value < min) min = value;
    if (value > max) max = value;
    if (value !== 0) nonzero++;
  }
  const finite = max >= min;
  return {
    file: path,
    format: image.source.format,
    datatype: image.source.datatype,
    dims: image.dims,
    nVolumes: image.source.nVolumes,
    volume: image.source.volumeIndex,
    spacingMm: image.spacing,
    orientation: axisCodes(image.affine),
    affine: image.affine,
    qformCode: image.geometry.qformCode,
    sformCode: image.geometry.sformCode,
    range: { min: finite ? min : null, max: finite ? max : null },
    nonzeroVoxels: nonzero,
    nonFiniteVoxels: nonFinite,
  };
}

function formatInfo(info: ImageInfo): string {
  const number = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/\.?0+$/, ''));
  const affine = info.affine.map((row) => row.map((v) => number(v).padStart(10)).join(' '));
  return [
    `file         ${info.file}`,
    `format       ${info.format}, ${info.datatype}${info.nVolumes > 1 ? `, volume ${info.volume} of ${info.nVolumes}` : ''}`,
    `dimensions   ${info.dims.join(' x ')}`,
    `voxel size   ${info.spacingMm.map(number).join(' x ')} mm`,
    `orientation  ${info.orientation} (qform code ${info.qformCode}, sform code ${info.sformCode})`,
    'affine       voxel to world (mm)',
    ...affine.map((row) => `             ${row}`),
    `range        ${info.range.min === null ? 'n/a' : `${number(info.range.min)} .. ${number(info.range.max!)}`}`,
    `nonzero      ${info.nonzeroVoxels} voxels${info.nonFiniteVoxels > 0 ? `, ${info.nonFiniteVoxels} NaN/infinite` : ''}`,
    '',
  ].join('\n');
}

export function infoCommand(program: Command, io: CliIo, fail: (message: string) => void): void {
  program
    .command('info')
    .description('show an image: dimensions, voxel size, datatype, orientation, affine, intensity range')
    .argument('<file>', 'NIfTI (.nii, .nii.gz), PNG or JPEG')
    .option('--volume <n>', 'volume of a 4-D NIfTI file, 0-based (default: 0, the first)', integerIn(0, 1e9))
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, options: { volume?: number; json?: boolean }) => {
      try {
        const info = await imageInfo(resolve(io.cwd, file), options.volume);
        io.stdout(options.json ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info));
      } catch (error) {
        fail((error as Error).message);
      }
    });
}
