/** `mixseg compare <labels> <reference>`: Dice per class and volume differences against a reference. */

import { resolve } from 'node:path';
import {
  type Comparison,
  compareLabelMaps,
  describeGrid,
  labelMapProblem,
  sameGrid,
  voxelVolumeMl,
} from '@mixseg/imaging/node';
import type { Command } from 'commander';
import type { CliIo } from '../cli-io.ts';
import { classTable } from '../outputs.ts';
import { readVolumeFile } from '../read-volume.ts';

function formatComparison(comparison: Comparison): string {
  const header = ['class', 'dice', 'volume mL', 'reference mL', 'difference mL', 'difference %'];
  const rows = comparison.classes.map((c) => [
    c.name ? `${c.label} ${c.name}` : String(c.label),
    c.dice.toFixed(4),
    c.volumeMl.toFixed(2),
    c.referenceVolumeMl.toFixed(2),
    (c.volumeDifferenceMl >= 0 ? '+' : '') + c.volumeDifferenceMl.toFixed(2),
    c.volumeDifferencePercent === null
      ? 'n/a'
      : (c.volumeDifferencePercent >= 0 ? '+' : '') + c.volumeDifferencePercent.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    ...rows.map(line),
    `mean Dice ${comparison.meanDice.toFixed(4)}; ${comparison.unlabelledInReference} of ${comparison.referenceVoxels} reference voxels unlabelled`,
    '',
  ].join('\n');
}

export function compareCommand(program: Command, io: CliIo, fail: (message: string) => void): void {
  program
    .command('compare')
    .description('Dice overlap per class and volume differences of a label map against a reference')
    .argument('<labels>', 'label map to assess (e.g. sub-01_T1w_dseg.nii.gz)')
    .argument('<reference>', 'ground truth on the same grid (e.g. a phantom _desc-truth_dseg file)')
    .option('--json', 'print JSON instead of a table')
    .action(async (labelsPath: string, referencePath: string, options: { json?: boolean }) => {
      try {
        const labels = await readVolumeFile(resolve(io.cwd, labelsPath));
        const reference = await readVolumeFile(resolve(io.cwd, referencePath));
        if (!sameGrid(labels, reference)) {
          throw new Error(
            `${labelsPath}: grid ${describeGrid(labels)} differs from the reference ${referencePath}, ${describeGrid(reference)}`,
          );
        }
        // an intensity image given by mistake would be compared one "class" per intensity
        for (const [role, path, volume] of [
          ['labels', labelsPath, labels],
          ['reference', referencePath, reference],
        ] as const) {
          const problem = labelMapProblem(volume.data);
          if (problem !== undefined) {
            throw new Error(
              `${role} ${path} does not look like a label map: ${problem} (expected small non-negative integers)`,
            );
          }
        }
        // labels 1..3 are CSF, GM, WM in mixseg's outputs and phantoms
        let maxLabel = 0;
        for (const value of reference.data) if (value > maxLabel) maxLabel = value;
        const names =
          maxLabel === 3
            ? Object.fromEntries(classTable(3).map((c) => [c.index, c.abbreviation]))
            : undefined;
        const comparison = compareLabelMaps(labels.data, reference.data, {
          voxelVolumeMl: voxelVolumeMl(reference),
          ...(names ? { names } : {}),
        });
        io.stdout(
          options.json
            ? `${JSON.stringify({ labels: labelsPath, reference: referencePath, ...comparison }, null, 2)}\n`
            : formatComparison(comparison),
        );
      } catch (error) {
        fail((error as Error).message);
      }
    });
}
