/**
 * One mixseg segmentation in a fresh process (so that its peak RSS is its own): reads the
 * channels, segments inside the reference mask, writes the label map and probability maps to a
 * temporary folder (the full job), and prints Dice, stage times and peak RSS as one JSON line.
 * usage: worker-segmentation.ts <options json> <reference> <atlas list or "-"> <channel>...
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareLabelMaps,
  readNifti,
  type SegmentOptions,
  segment,
  writeLabelMap,
  writeProbabilityMaps,
} from '@mixseg/imaging/node';
import { procStatus } from './measure.ts';

const [optionsJson, referencePath, atlasList, ...channelPaths] = process.argv.slice(2);
const started = performance.now();
const channels = await Promise.all(channelPaths.map((p) => readNifti(p)));
const reference = await readNifti(referencePath!);
const atlas =
  atlasList && atlasList !== '-'
    ? await Promise.all(atlasList.split(',').map((p) => readNifti(p)))
    : undefined;
const mask = { ...reference, data: reference.data.map((v) => (v > 0 ? 1 : 0)) };
const options: SegmentOptions = JSON.parse(optionsJson!);
const result = segment(channels, { mask, ...(atlas ? { atlas } : {}), ...options });
const out = mkdtempSync(join(tmpdir(), 'mixseg-bench-'));
const writeStarted = performance.now();
await writeLabelMap(join(out, 'dseg.nii.gz'), result.labels, channels[0]!);
if (result.probabilities) {
  await writeProbabilityMaps(join(out, 'probseg.nii.gz'), result.probabilities, 3, channels[0]!);
}
const writeSeconds = (performance.now() - writeStarted) / 1000;
rmSync(out, { recursive: true, force: true });
const [sx, sy, sz] = reference.spacing;
const comparison = compareLabelMaps(result.labels, reference.data, {
  voxelVolumeMl: (sx * sy * sz) / 1000,
  classes: [1, 2, 3],
});
console.log(
  JSON.stringify({
    dice: comparison.classes.map((c) => c.dice),
    seconds: (performance.now() - started) / 1000,
    timings: { ...result.timings, write: writeSeconds },
    iterations: { mixture: result.mixture.nIter, spatial: result.spatial?.nIter ?? 0 },
    peakMiB: (procStatus()?.vmHwmKiB ?? Number.NaN) / 1024,
  }),
);
