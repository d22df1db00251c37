/**
 * One mixseg segmentation in a fresh process (so that its peak RSS is its own): reads the
 * channels, segments inside the reference mask (reference > 0), scores the labels against the
 * reference and prints Dice, read and segment times and peak RSS as one JSON line. Writing the
 * outputs is left to the end-to-end (cli) benchmark, so that this process does the same work as
 * the Python peers (read, fit, label).
 * usage: worker-segmentation.ts '<SegmentationWorkerConfig as JSON>'
 */
import { type ImageType, readNifti, type SegmentOptions, segment } from '@mixseg/imaging/node';
import { procStatus } from './measure.ts';
import { diceScores } from './reference-cases.ts';

/** What the parent asks for. */
export interface SegmentationWorkerConfig {
  /** The configuration's options (the defaults: none). */
  options: SegmentOptions;
  /** The first channel's contrast: passed to segment() when it is not t1 (its default). */
  imageType: ImageType;
  reference: string;
  atlas: string[] | null;
  channels: string[];
}

/** What the worker (and segment_peers.py) reports. */
export interface SegmentationOutcome {
  /** Dice of CSF, GM, WM (labels 1, 2, 3) inside reference > 0. */
  dice: number[];
  /** Reading the channels (and atlas), seconds. */
  readSeconds: number;
  /** Mask, fit, spatial prior and labels: the work compared across tools, seconds. */
  segmentSeconds: number;
  /** read + segment. */
  seconds: number;
  /** mixseg's own stage times (seconds), when it reports them. */
  timings?: Record<string, number>;
  iterations?: { mixture: number; spatial: number };
  /** VmHWM at the end, MiB (null off Linux). */
  peakMiB: number | null;
}

const config = JSON.parse(process.argv[2]!) as SegmentationWorkerConfig;
const started = performance.now();
const channels = await Promise.all(config.channels.map((p) => readNifti(p)));
const reference = await readNifti(config.reference);
const atlas = config.atlas ? await Promise.all(config.atlas.map((p) => readNifti(p))) : undefined;
const readSeconds = (performance.now() - started) / 1000;
const segmentStarted = performance.now();
const mask = { ...reference, data: reference.data.map((v) => (v > 0 ? 1 : 0)) };
const result = segment(channels, {
  mask,
  ...(atlas ? { atlas } : {}),
  ...(config.imageType !== 't1' ? { imageType: config.imageType } : {}),
  ...config.options,
});
const segmentSeconds = (performance.now() - segmentStarted) / 1000;
const outcome: SegmentationOutcome = {
  dice: diceScores(
    result.labels,
    Uint8Array.from(reference.data, (v) => Math.max(v, 0)),
  ),
  readSeconds,
  segmentSeconds,
  seconds: readSeconds + segmentSeconds,
  timings: { ...result.timings },
  iterations: { mixture: result.mixture.nIter, spatial: result.spatial?.nIter ?? 0 },
  peakMiB: (procStatus()?.vmHwmKiB ?? Number.NaN) / 1024,
};
console.log(JSON.stringify(outcome));
