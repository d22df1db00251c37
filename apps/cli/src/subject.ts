/**
 * One subject, start to finish: read its channels (and mask), segment (or apply a saved model),
 * write every output atomically with the sidecar last, and return its summary row. Runs in a worker
 * thread or, with --jobs 1, in the main thread. A failure is a row, never a thrown error, so one
 * bad input never stops a batch. Earlier outputs are replaced as a unit: their sidecar goes first
 * (an interrupted run then leaves an incomplete subject, which the next run redoes), the files it
 * listed that this run does not write go after, and the new sidecar, listing what was written with
 * sizes, comes last.
 */

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { serializeGaussianMixture, serializePartialVolumeMixture } from '@mixseg/core';
import {
  applyModel,
  correctedIntensities,
  type Segmentation,
  type SegmentOptions,
  segment,
  segmentOptionsOf,
  type Volume,
  writeFileAtomic,
  writeLabelMap,
  writeNifti,
  writeProbabilityMaps,
} from '@mixseg/imaging/node';
import type { Subject } from './inputs.ts';
import { sourcesOf } from './layout.ts';
import {
  classTable,
  isTemporaryOutputOf,
  type SubjectLayout,
  type SubjectOutputs,
  type SummaryRow,
  subjectOutputs,
} from './outputs.ts';
import { writePreview } from './preview.ts';
import { readVolumeFile } from './read-volume.ts';
import type { OutputEntry } from './resume.ts';
import { classesOf, maskFileOf, recordedOptions, type SegmentSettings } from './settings.ts';
import { SOFTWARE } from './version.ts';

export interface SubjectTask {
  subject: Subject;
  settings: SegmentSettings;
  layout: SubjectLayout;
  /** The files an earlier complete run of this subject listed (its sidecar included): replaced. */
  replacing: string[] | undefined;
}

/** Progress of the subject being segmented. */
export interface SubjectProgress {
  stage: 'mixture' | 'spatial';
  iteration: number;
}

/** The outputs of a task. */
export function taskOutputs(task: Pick<SubjectTask, 'subject' | 'settings' | 'layout'>): SubjectOutputs {
  const { subject, settings, layout } = task;
  return subjectOutputs(
    settings.outDir,
    layout,
    classTable(classesOf(settings)),
    settings,
    subject.channels.length,
  );
}

/** Removes temporary files an interrupted run left for this subject's outputs. */
export async function removeStaleTemporaries(folder: string, stem: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => isTemporaryOutputOf(name, stem))
      .map((name) => rm(join(folder, name), { force: true })),
  );
}

/** The subject's inputs as the summary lists them: channels, then the mask. */
export function subjectInputs(subject: Subject): string[] {
  return [...subject.channels, ...(subject.mask ? [subject.mask] : [])];
}

/**
 * The atlas maps, read once per thread: every subject of a batch takes the same maps, and segment()
 * resamples them onto each subject's grid without changing them. Keyed by path, size and
 * modification time, so a file replaced between two runs in one process is read again.
 */
const atlasCache = new Map<string, { version: string; volume: Promise<Volume> }>();

async function readAtlas(paths: readonly string[]): Promise<Volume[]> {
  return Promise.all(
    paths.map(async (path) => {
      const { size, mtimeMs } = await stat(path).catch(() => ({ size: -1, mtimeMs: -1 }));
      const version = `${size}:${mtimeMs}`;
      const cached = atlasCache.get(path);
      if (cached?.version === version) return cached.volume;
      const volume = readVolumeFile(path);
      // a failed read is not kept: the next subject tries again (and reports it again)
      volume.catch(() => atlasCache.delete(path));
      atlasCache.set(path, { version, volume });
      return volume;
    }),
  );
}

function segmentOptions(
  settings: SegmentSettings,
  mask: Volume | undefined,
  atlas: Volume[] | undefined,
  onProgress: (progress: SubjectProgress) => void,
): SegmentOptions {
  return segmentOptionsOf(settings.record, {
    ...(mask ? { mask } : {}),
    ...(atlas ? { atlas } : {}),
    probabilities: settings.probabilities,
    classNames: classTable(classesOf(settings)).map((c) => c.abbreviation),
    onIteration: ({ stage, iteration }) => onProgress({ stage, iteration }),
  });
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The sidecar `<stem>_dseg.json`. */
export function sidecarJson(
  task: Pick<SubjectTask, 'subject' | 'settings' | 'layout'>,
  result: Segmentation,
  timings: Record<string, number>,
  outputs: OutputEntry[],
): Record<string, unknown> {
  const { subject, settings, layout } = task;
  const classes = classTable(result.model.nComponents);
  const final = result.spatial ?? result.mixture;
  const folder = join(settings.outDir, layout.folder);
  return {
    Software: SOFTWARE,
    Description:
      `${classes.map((c) => c.abbreviation).join(', ')} labels of a tissue segmentation by mixseg ` +
      `(${result.partialVolume ? 'partial-volume' : 'Gaussian'} mixture, ${result.options.prior} spatial prior)`,
    Sources: sourcesOf(layout, subjectInputs(subject), folder),
    SpatialReference: 'orig',
    Options: {
      ...recordedOptions(settings),
      // the library's own, for the record
      classNames: result.options.classNames,
      neighbourhood: result.options.neighbourhood,
      potts: result.options.potts,
    },
    ImageType: result.options.imageType,
    Model: JSON.parse(serializeGaussianMixture(result.model)),
    PartialVolumeModel: result.partialVolume
      ? JSON.parse(serializePartialVolumeMixture(result.partialVolume))
      : null,
    Robust: result.robust
      ? {
          ExcludedVoxels: result.robust.excluded,
          OutlierVoxels: result.robust.outliers,
          Channels: result.robust.channels.map((c) => ({
            Spikes: c.spikes.map((spike) => ({
              Value: spike.value,
              Voxels: spike.voxels,
              Share: spike.share,
            })),
            WinsorisedBelow: c.winsorisedLow,
            WinsorisedAbove: c.winsorisedHigh,
            Fences: [finiteOrNull(c.low), finiteOrNull(c.high)],
            Median: c.median,
            RobustScale: c.robustScale,
          })),
        }
      : null,
    LogLikelihood: {
      Mixture: result.mixture.logLikelihoodTrace,
      Spatial: result.spatial?.logLikelihoodTrace ?? [],
    },
    Iterations: { Mixture: result.mixture.nIter, Spatial: result.spatial?.nIter ?? 0 },
    Converged: final.converged,
    StopReason: final.stopReason,
    Warnings: [
      ...new Set([...result.warnings, ...result.mixture.warnings, ...(result.spatial?.warnings ?? [])]),
    ],
    NonFiniteVoxels: result.nonFinite,
    Classes: result.statistics.map((statistics, k) => ({
      Index: statistics.label,
      Name: classes[k]!.name,
      Abbreviation: classes[k]!.abbreviation,
      Voxels: statistics.voxels,
      VolumeMl: statistics.volumeMl,
      PartialVolumeMl: statistics.partialVolumeMl,
      MeanIntensity: statistics.meanIntensity,
    })),
    Outputs: outputs,
    Timings: timings,
    Seed: settings.record['seed'],
  };
}

/** Writes every output but the sidecar; returns the files written. */
async function writeOutputs(
  task: SubjectTask,
  outputs: SubjectOutputs,
  channels: Volume[],
  result: Segmentation,
): Promise<string[]> {
  const { settings } = task;
  const K = classesOf(settings);
  const classes = classTable(K);
  const reference = channels[0]!;
  const written: string[] = [outputs.dseg];
  // The files are written at once: their gzip runs on libuv's thread pool, in parallel. Each is
  // atomic; the first failure is reported after all have settled.
  const writes: Promise<void>[] = [writeLabelMap(outputs.dseg, result.labels, reference)];
  if (result.probabilities && outputs.probseg.length > 0) {
    writes.push(writeProbabilityMaps(outputs.probseg, result.probabilities, K, reference));
    written.push(...outputs.probseg);
  }
  if (result.fractions && outputs.pve.length > 0) {
    writes.push(writeProbabilityMaps(outputs.pve, result.fractions, K, reference));
    written.push(...outputs.pve);
  }
  if (outputs.model) {
    const text = result.partialVolume
      ? serializePartialVolumeMixture(result.partialVolume)
      : serializeGaussianMixture(result.model);
    // the units the model is in: --model applies it the same way
    const saved = {
      ...JSON.parse(text),
      IntensityTransform: {
        biasCorrection: settings.record['biasCorrection'],
        biasFwhm: settings.record['biasFwhm'],
        preparation: settings.record['preparation'],
      },
    };
    writes.push(writeFileAtomic(outputs.model, `${JSON.stringify(saved, null, 2)}\n`));
    written.push(outputs.model);
  }
  if (outputs.preview) {
    writes.push(writePreview(outputs.preview, reference, result, classes, { subject: task.subject.stem }));
    written.push(outputs.preview);
  }
  const fieldOf = (c: number) => {
    // several channels share the first channel's field
    const field = result.biasFields?.[c] ?? result.biasFields?.[0];
    if (!field) throw new Error('no bias field was estimated'); // needs bias correction, checked on the command line
    return field;
  };
  for (const [c, path] of outputs.biasField.entries()) {
    writes.push(
      writeNifti(path, {
        data: fieldOf(c),
        dims: reference.dims,
        datatype: 'float32',
        geometry: reference.geometry,
        description: `mixseg bias field of channel ${c + 1} (1 = none)`,
      }),
    );
    written.push(path);
  }
  for (const [c, path] of outputs.restored.entries()) {
    const channel = channels[c]!;
    // float32 whatever the input's type: the corrected intensities are not integers
    const corrected = correctedIntensities(channel.data, fieldOf(c));
    writes.push(
      writeNifti(path, {
        data: corrected,
        dims: channel.dims,
        datatype: 'float32',
        geometry: channel.geometry,
        description: `mixseg bias-corrected channel ${c + 1}`,
      }),
    );
    written.push(path);
  }
  const failure = (await Promise.allSettled(writes)).find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return written;
}

/**
 * Segments one subject and writes its outputs: the label map, the probability and fraction maps,
 * the model, bias field, corrected image and preview when asked, and the sidecar last (so its
 * presence means the subject is complete).
 */
export async function runSubject(
  task: SubjectTask,
  onProgress: (progress: SubjectProgress) => void = () => {},
): Promise<SummaryRow> {
  const { subject, settings } = task;
  const started = performance.now();
  const seconds = (from: number) => (performance.now() - from) / 1000;
  const classes = classTable(classesOf(settings));
  const outputs = taskOutputs(task);
  const none = Object.fromEntries(classes.map((c) => [c.abbreviation, null]));
  const failedRow = (error: string): SummaryRow => ({
    subject: subject.stem,
    status: 'failed',
    inputs: subjectInputs(subject),
    dseg: null,
    volumesMl: none,
    partialVolumesMl: none,
    iterations: null,
    converged: null,
    seconds: seconds(started),
    error,
  });
  let step = 'reading';
  try {
    const folder = dirname(outputs.sidecar);
    await mkdir(folder, { recursive: true });
    await removeStaleTemporaries(folder, task.layout.stem);
    const channels: Volume[] = [];
    for (const path of subject.channels) channels.push(await readVolumeFile(path));
    const maskPath = subject.mask ?? maskFileOf(settings);
    const mask = maskPath === undefined ? undefined : await readVolumeFile(maskPath);
    const atlasFiles = settings.record['atlas'] as string[] | null;
    const atlas = atlasFiles === null ? undefined : await readAtlas(atlasFiles);
    const readTime = seconds(started);

    step = 'segmenting';
    const options = segmentOptions(settings, mask, atlas, onProgress);
    const result = settings.model
      ? applyModel(channels, settings.model.mixture, options)
      : segment(channels, options);

    step = 'writing';
    const writeStarted = performance.now();
    // the earlier results are replaced as a unit: without their sidecar the subject is incomplete
    if (task.replacing) await rm(outputs.sidecar, { force: true });
    const written = await writeOutputs(task, outputs, channels, result);
    if (task.replacing) {
      const kept = new Set([...written, outputs.sidecar]);
      await Promise.all(
        task.replacing.filter((path) => !kept.has(path)).map((path) => rm(path, { force: true })),
      );
    }
    const listed: OutputEntry[] = [];
    for (const path of written) listed.push({ Path: relative(folder, path), Bytes: (await stat(path)).size });
    const timings = {
      Read: readTime,
      Features: result.timings.features,
      Mixture: result.timings.mixture,
      Spatial: result.timings.spatial,
      Outputs: result.timings.outputs,
      Write: seconds(writeStarted),
      Total: seconds(started),
    };
    await writeFileAtomic(
      outputs.sidecar,
      `${JSON.stringify(sidecarJson(task, result, timings, listed), null, 2)}\n`,
    );
    const final = result.spatial ?? result.mixture;
    return {
      subject: subject.stem,
      status: 'done',
      inputs: subjectInputs(subject),
      dseg: outputs.dseg,
      volumesMl: Object.fromEntries(result.statistics.map((s, k) => [classes[k]!.abbreviation, s.volumeMl])),
      partialVolumesMl: Object.fromEntries(
        result.statistics.map((s, k) => [classes[k]!.abbreviation, s.partialVolumeMl]),
      ),
      warnings: result.warnings,
      iterations: result.mixture.nIter + (result.spatial?.nIter ?? 0),
      converged: final.converged,
      seconds: seconds(started),
      error: null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // ImageFileError messages start with the file; others get the subject's first input
    const named = error instanceof Error && error.name === 'ImageFileError';
    return failedRow(named ? message : `${subject.channels[0]}: ${step}: ${message}`);
  }
}
