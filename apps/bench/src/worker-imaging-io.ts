/**
 * Child process of the imaging I/O benchmark: @mixseg/imaging reads the input volume and writes
 * the label and probability maps, in a process of its own so that its peak resident set size is
 * its own.
 *
 * Usage: node --import tsx src/worker-imaging-io.ts '<ImagingWorkerConfig as JSON>'
 *
 * Order of work: baseline RSS -> 1 + repetitions reads of the input (the first is the cold one) ->
 * RSS -> read the raw labels and probabilities -> repetitions x (label map, 4-D probabilities,
 * per-class probabilities), each timed on its own -> peak RSS (VmHWM) -> one JSON line.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readNifti, writeLabelMap, writeProbabilityMaps } from '@mixseg/imaging/node';
import type { ImagingWorkerConfig, IoResult } from './imaging-io-types.ts';
import { median, procStatus } from './measure.ts';

/** Fills `target` with the whole content of `path`, which must be exactly as long. */
function readRawFile(path: string, target: Uint8Array): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== target.byteLength) {
      throw new RangeError(`${path} holds ${size} bytes, expected ${target.byteLength}`);
    }
    let offset = 0;
    while (offset < target.byteLength) {
      const read = readSync(fd, target, offset, Math.min(target.byteLength - offset, 1 << 26), offset);
      if (read <= 0) throw new Error(`unexpected end of ${path} at byte ${offset}`);
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const argument = process.argv[2];
  if (!argument) throw new Error('usage: worker-imaging-io.ts <config JSON>');
  const config = JSON.parse(argument) as ImagingWorkerConfig;
  const { outputs, repetitions, nClasses } = config;

  const rssBeforeBytes = process.memoryUsage().rss;
  const vmHwmBeforeKiB = procStatus()?.vmHwmKiB ?? Number.NaN;

  const readMs: number[] = [];
  let volume = await timed(readMs, () => readNifti(config.input));
  for (let r = 0; r < repetitions; r++) volume = await timed(readMs, () => readNifti(config.input));
  let sum = 0;
  let nonzero = 0;
  for (let i = 0; i < volume.data.length; i++) {
    const v = volume.data[i]!;
    sum += v;
    if (v !== 0) nonzero++;
  }
  const rssAfterReadsBytes = process.memoryUsage().rss;
  const vmHwmAfterReadsKiB = procStatus()?.vmHwmKiB ?? Number.NaN;

  const [nx, ny, nz] = volume.dims;
  if (volume.dims.some((n, axis) => n !== config.dims[axis])) {
    throw new Error(
      `${config.input}: read as ${volume.dims.join(' x ')}, expected ${config.dims.join(' x ')}`,
    );
  }
  const nVoxels = nx * ny * nz;
  const labels = new Uint8Array(nVoxels);
  readRawFile(config.labelsFile, labels);
  const probabilities = new Float32Array(nVoxels * nClasses);
  readRawFile(config.probabilitiesFile, new Uint8Array(probabilities.buffer));

  const writeLabelsMs: number[] = [];
  const writeProbabilitiesMs: number[] = [];
  const writePerClassMs: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    await timed(writeLabelsMs, () => writeLabelMap(outputs.labels, labels, volume));
    await timed(writeProbabilitiesMs, () =>
      writeProbabilityMaps(outputs.probabilities, probabilities, nClasses, volume),
    );
    await timed(writePerClassMs, () =>
      writeProbabilityMaps(outputs.perClass, probabilities, nClasses, volume),
    );
  }

  const peak = procStatus();
  const result: IoResult = {
    readMs,
    coldReadMs: readMs[0]!,
    medianWarmReadMs: median(readMs.slice(1)),
    readChecksum: {
      sum,
      nonzero,
      shape: [...volume.dims],
      dtype: volume.data instanceof Float32Array ? 'float32' : 'float64',
    },
    writeLabelsMs,
    writeProbabilitiesMs,
    writePerClassMs,
    rssBeforeBytes,
    vmHwmBeforeKiB,
    rssAfterReadsBytes,
    vmHwmAfterReadsKiB,
    peakRssKiB: peak?.vmHwmKiB ?? process.resourceUsage().maxRSS,
    peakSource: peak ? 'VmHWM' : 'getrusage',
  };
  console.log(JSON.stringify(result));
}

/** Awaits `work`, appends its wall time (ms) to `times` and returns its value. */
async function timed<T>(times: number[], work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  times.push(performance.now() - started);
  return value;
}

await main();
