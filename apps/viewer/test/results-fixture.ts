/**
 * Test fixture: a mixseg results folder, as the CLI writes it, made from small phantoms with
 * @mixseg/imaging's own segment() and writers, so that the viewer's tests do not depend on the
 * CLI. Per subject S: `S.nii.gz` (the image), `S_dseg.nii.gz`, `S_label-<ABBR>_probseg.nii.gz`,
 * `S_dseg.json`; once: `dseg.tsv` and `summary.tsv`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeGaussianMixture, serializePartialVolumeMixture } from '@mixseg/core';
import {
  classProbabilityImage,
  generatePhantom,
  type PhantomOptions,
  type Segmentation,
  type SegmentOptions,
  segment,
  type Volume,
  writeLabelMap,
  writeNifti,
} from '@mixseg/imaging/node';

/** The label table the fixture writes (saturated colours, easy to find in screenshots). */
export const FIXTURE_LABELS = [
  { index: 1, name: 'Cerebrospinal fluid', abbreviation: 'CSF', colour: '#2f80ed' },
  { index: 2, name: 'Gray matter', abbreviation: 'GM', colour: '#27ae60' },
  { index: 3, name: 'White matter', abbreviation: 'WM', colour: '#eb5757' },
];

export interface FixtureOptions {
  subjects?: string[];
  phantom?: PhantomOptions;
  segment?: SegmentOptions;
  /** Write summary.tsv. Default true. */
  summary?: boolean;
}

export interface FixtureSubject {
  stem: string;
  image: Volume;
  segmentation: Segmentation;
}

/** The phantom the fixtures use by default: concentric shells, small and quick to segment. */
export const FIXTURE_PHANTOM: PhantomOptions = { dims: [48, 48, 36], spacing: [2, 2, 2], shape: 'shells' };

/** Writes a results folder into `folder` (created) and returns what it wrote. */
export async function writeResultsFolder(
  folder: string,
  options: FixtureOptions = {},
): Promise<FixtureSubject[]> {
  await mkdir(folder, { recursive: true });
  const stems = options.subjects ?? ['sub-01_T1w'];
  const written: FixtureSubject[] = [];
  const summaryRows: string[][] = [];
  for (const [n, stem] of stems.entries()) {
    const { image } = generatePhantom({ ...FIXTURE_PHANTOM, seed: n + 1, ...options.phantom });
    const segmentOptions: SegmentOptions = { seed: 0, ...options.segment };
    const started = performance.now();
    const segmentation = segment([image], segmentOptions);
    const seconds = (performance.now() - started) / 1000;
    const K = segmentation.options.nClasses;
    const abbreviations = segmentation.options.classNames;
    await writeNifti(join(folder, `${stem}.nii.gz`), {
      data: image.data,
      dims: image.dims,
      datatype: 'int16',
      geometry: image.geometry,
    });
    await writeLabelMap(join(folder, `${stem}_dseg.nii.gz`), segmentation.labels, image);
    for (let k = 0; k < K; k++) {
      await writeNifti(
        join(folder, `${stem}_label-${abbreviations[k]}_probseg.nii.gz`),
        classProbabilityImage(segmentation.probabilities!, K, k, image),
      );
    }
    const sidecar = {
      Software: 'mixseg 0.1.0 (test fixture)',
      Inputs: [`/data/raw/${stem}.nii.gz`],
      Options: segmentation.options,
      Model: JSON.parse(serializeGaussianMixture(segmentation.model)),
      PartialVolumeModel: segmentation.partialVolume
        ? JSON.parse(serializePartialVolumeMixture(segmentation.partialVolume))
        : null,
      LogLikelihood: {
        Mixture: segmentation.mixture.logLikelihoodTrace,
        Spatial: segmentation.spatial?.logLikelihoodTrace ?? [],
      },
      Iterations: { Mixture: segmentation.mixture.nIter, Spatial: segmentation.spatial?.nIter ?? 0 },
      Converged: (segmentation.spatial ?? segmentation.mixture).converged,
      StopReason: (segmentation.spatial ?? segmentation.mixture).stopReason,
      Classes: segmentation.statistics.map((entry) => ({
        Index: entry.label,
        Name: FIXTURE_LABELS[entry.label - 1]?.name ?? entry.name,
        Abbreviation: entry.name,
        Voxels: entry.voxels,
        VolumeMl: entry.volumeMl,
        MeanIntensity: entry.meanIntensity,
      })),
      Timings: { ...segmentation.timings, Total: seconds },
    };
    await writeFile(join(folder, `${stem}_dseg.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
    summaryRows.push([
      stem.replace(/_T1w$/, ''),
      'ok',
      `/data/raw/${stem}.nii.gz`,
      `${stem}_dseg.nii.gz`,
      ...segmentation.statistics.map((entry) => entry.volumeMl.toFixed(3)),
    ]);
    written.push({ stem, image, segmentation });
  }
  const table = FIXTURE_LABELS.map((entry) =>
    [entry.index, entry.name, entry.abbreviation, entry.colour].join('\t'),
  );
  await writeFile(join(folder, 'dseg.tsv'), `index\tname\tabbreviation\tcolor\n${table.join('\n')}\n`);
  if (options.summary ?? true) {
    const abbreviations = written[0]!.segmentation.options.classNames;
    const header = ['subject', 'status', 'inputs', 'dseg', ...abbreviations.map((name) => `${name}_ml`)];
    const lines = [header, ...summaryRows].map((row) => row.join('\t'));
    await writeFile(join(folder, 'summary.tsv'), `${lines.join('\n')}\n`);
  }
  return written;
}
