/**
 * One subject, start to finish: read its channels (and mask), segment (or apply a saved model),
 * write every output atomically with the sidecar last, and return its summary row. Runs in a worker
 * thread or, with --jobs 1, in the main thread. A failure is a row, never a thrown error, so one
 * bad input never stops a batch.
 */

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeGaussianMixture, serializePartialVolumeMixture } from '@mixseg/core';
import {
  applyModel,
  type Segmentation,
  type SegmentOptions,
  segment,
  type Volume,
  writeFileAtomic,
  writeLabelMap,
  writeNifti,
  writeProbabilityMaps,
} from '@mixseg/imaging/node';
import type { Subject } from './inputs.ts';
import { classTable, isTemporaryOutputOf, type SummaryRow, subjectOutputs } from './outputs.ts';
import { writePreview } from './preview.ts';
import { readVolumeFile } from './read-volume.ts';
import { recordedOptions, type SegmentSettings } from './settings.ts';
import { SOFTWARE } from './version.ts';

export interface SubjectTask {
  subject: Subject;
  settings: SegmentSettings;
}

/** Progress of the subject being segmented. */
export interface SubjectProgress {
  stage: 'mixture' | 'spatial';
  iteration: number;
}

/** Removes temporary files an interrupted run left for this subject's outputs. */
export async function removeStaleTemporaries(outDir: string, stem: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => isTemporaryOutputOf(name, stem))
      .map((name) => rm(join(outDir, name), { force: true })),
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
  return {
    nClasses: settings.classes,
    imageType: settings.imageType,
    partialVolume: settings.partialVolume,
    robust: settings.robust,
    prior: settings.prior,
    ...(settings.beta === undefined ? {} : { beta: settings.beta }),
    classWeightPower: settings.classWeightPower,
    ...(atlas === undefined ? {} : { atlas }),
    ...(settings.atlasWeight === undefined ? {} : { atlasWeight: settings.atlasWeight }),
    biasCorrection: settings.biasCorrection && { fwhm: settings.biasFwhm! },
    covarianceType: settings.covariance,
    ...(settings.covarianceShrinkage === undefined
      ? {}
      : { covarianceShrinkage: settings.covarianceShrinkage }),
    nInit: settings.restarts,
    seed: settings.seed,
    maxIter: settings.maxIter,
    tol: settings.tol,
    labelTol: settings.labelTol,
    preparation: settings.preparation,
    mask: mask ?? (typeof settings.mask === 'string' ? settings.mask : 'nonzero'),
    probabilities: settings.probabilities,
    classNames: classTable(settings.classes).map((c) => c.abbreviation),
    onIteration: ({ stage, iteration }) => onProgress({ stage, iteration }),
  };
}

/** The sidecar `<stem>_dseg.json`. */
export function sidecarJson(
  subject: Subject,
  settings: SegmentSettings,
  result: Segmentation,
  timings: Record<string, number>,
): Record<string, unknown> {
  const classes = classTable(result.model.nComponents);
  const final = result.spatial ?? result.mixture;
  return {
    Software: SOFTWARE,
    Inputs: subject.channels,
    Options: {
      ...recordedOptions(settings),
      // as the library resolved them (the prior's default beta, say)
      beta: result.options.beta,
      mask: subject.mask ?? result.options.mask,
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
    Timings: timings,
    Seed: settings.seed,
  };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * Segments one subject and writes its outputs: the label map, the probability maps, the model and
 * preview when asked, and the sidecar last (so its presence means the subject is complete).
 */
export async function runSubject(
  task: SubjectTask,
  onProgress: (progress: SubjectProgress) => void = () => {},
): Promise<SummaryRow> {
  const { subject, settings } = task;
  const started = performance.now();
  const seconds = (from: number) => (performance.now() - from) / 1000;
  const K = settings.classes;
  const classes = classTable(K);
  const outputs = subjectOutputs(settings.outDir, subject.stem, classes, settings, subject.channels.length);
  const failedRow = (error: string): SummaryRow => ({
    subject: subject.stem,
    status: 'failed',
    inputs: subjectInputs(subject),
    dseg: null,
    volumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, null])),
    partialVolumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, null])),
    iterations: null,
    converged: null,
    seconds: seconds(started),
    error,
  });
  let step = 'reading';
  try {
    await mkdir(settings.outDir, { recursive: true });
    await removeStaleTemporaries(settings.outDir, subject.stem);
    const channels: Volume[] = [];
    for (const path of subject.channels) channels.push(await readVolumeFile(path));
    const maskPath = subject.mask ?? (typeof settings.mask === 'string' ? undefined : settings.mask.file);
    const mask = maskPath === undefined ? undefined : await readVolumeFile(maskPath);
    const atlas = settings.atlas === undefined ? undefined : await readAtlas(settings.atlas);
    const readTime = seconds(started);

    step = 'segmenting';
    const options = segmentOptions(settings, mask, atlas, onProgress);
    const result = settings.model
      ? applyModel(channels, settings.model.mixture, options)
      : segment(channels, options);

    step = 'writing';
    const writeStarted = performance.now();
    const reference = channels[0]!;
    // The files are written at once: their gzip runs on libuv's thread pool, in parallel. Each is
    // atomic; the first failure is reported after all have settled.
    const writes: Promise<void>[] = [writeLabelMap(outputs.dseg, result.labels, reference)];
    if (result.probabilities && outputs.probseg.length > 0) {
      writes.push(writeProbabilityMaps(outputs.probseg, result.probabilities, K, reference));
    }
    if (result.fractions && outputs.pve.length > 0) {
      writes.push(writeProbabilityMaps(outputs.pve, result.fractions, K, reference));
    }
    if (outputs.model) {
      const text = result.partialVolume
        ? serializePartialVolumeMixture(result.partialVolume)
        : serializeGaussianMixture(result.model);
      // the units the model is in: --model applies it the same way
      const saved = {
        ...JSON.parse(text),
        IntensityTransform: {
          biasCorrection: settings.biasCorrection,
          biasFwhm: settings.biasFwhm ?? null,
          preparation: settings.preparation,
        },
      };
      writes.push(writeFileAtomic(outputs.model, `${JSON.stringify(saved, null, 2)}\n`));
    }
    if (outputs.preview) writes.push(writePreview(outputs.preview, reference, result, classes));
    for (const [c, path] of outputs.biasField.entries()) {
      const field = result.biasFields?.[c];
      if (!field) throw new Error('no bias field was estimated'); // --save-bias-field needs correction on
      writes.push(
        writeNifti(path, {
          data: field,
          dims: reference.dims,
          datatype: 'float32',
          geometry: reference.geometry,
          description: `mixseg bias field of channel ${c + 1} (1 = none)`,
        }),
      );
    }
    const failure = (await Promise.allSettled(writes)).find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
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
      `${JSON.stringify(sidecarJson(subject, settings, result, timings), null, 2)}\n`,
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
