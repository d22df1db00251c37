/**
 * Test fixture: a mixseg results folder, as the CLI writes it, made from small phantoms with
 * @mixseg/imaging's own segment() and writers, so that the viewer's tests do not depend on the
 * CLI. Per subject S: `S.nii.gz` (the image), `S_dseg.nii.gz`, `S_label-<ABBR>_probseg.nii.gz`,
 * `S_dseg.json`, optionally `S_desc-biasfield.nii.gz` and `S_desc-restore.nii.gz` (as the CLI's
 * --save-bias-field and --save-restored write them); once: `dseg.tsv` and `summary.tsv`.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
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
  /** Write `S_desc-biasfield.nii.gz`, the estimated field (float32, 0 outside the mask). Default false. */
  biasField?: boolean;
  /** Write `S_desc-restore.nii.gz`, the bias-corrected image (float32). Default false. */
  restored?: boolean;
  /**
   * Segment the first subject only and copy its files under every other stem: a large study
   * (1 mm, several subjects) in the time of one segmentation. Default false.
   */
  copyFirst?: boolean;
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
    const first = written[0];
    if (options.copyFirst && first) {
      await copySubject(folder, first.stem, stem);
      summaryRows.push(summaryRow(stem, first.segmentation));
      written.push({ ...first, stem });
      continue;
    }
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
    const field = segmentation.biasFields?.[0];
    if ((options.biasField || options.restored) && !field) {
      throw new Error('biasField and restored need a segmentation with bias correction');
    }
    if (options.biasField && field) {
      // as the CLI's --save-bias-field: float32, 1 = no bias, 0 outside the mask
      await writeNifti(join(folder, `${stem}_desc-biasfield.nii.gz`), {
        data: field,
        dims: image.dims,
        datatype: 'float32',
        geometry: image.geometry,
        description: 'mixseg bias field of channel 1 (1 = none)',
      });
    }
    if (options.restored && field) {
      // as the CLI's --save-restored: corrected = input / field where the field is set
      const corrected = Float32Array.from(image.data, (x, v) => (field[v]! > 0 ? x / field[v]! : x));
      await writeNifti(join(folder, `${stem}_desc-restore.nii.gz`), {
        data: corrected,
        dims: image.dims,
        datatype: 'float32',
        geometry: image.geometry,
        description: 'mixseg bias-corrected channel 1',
      });
    }
    const bias = segmentation.options.biasCorrection;
    const sidecar = {
      Software: 'mixseg 0.1.0 (test fixture)',
      Inputs: [`/data/raw/${stem}.nii.gz`],
      // the CLI records the bias options as biasCorrection (a switch) and biasFwhm (mm or null)
      Options: { ...segmentation.options, biasCorrection: bias !== false, biasFwhm: bias ? bias.fwhm : null },
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
    summaryRows.push(summaryRow(stem, segmentation));
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

function summaryRow(stem: string, segmentation: Segmentation): string[] {
  return [
    stem.replace(/_T1w$/, ''),
    'ok',
    `/data/raw/${stem}.nii.gz`,
    `${stem}_dseg.nii.gz`,
    ...segmentation.statistics.map((entry) => entry.volumeMl.toFixed(3)),
  ];
}

/** Copies every file of subject `from` (its stem's files) to the same names under stem `to`. */
async function copySubject(folder: string, from: string, to: string): Promise<void> {
  for (const name of await readdir(folder)) {
    if (!(name === `${from}.nii.gz` || name.startsWith(`${from}_`))) continue;
    const target = join(folder, `${to}${name.slice(from.length)}`);
    if (name.endsWith('.json')) {
      // the sidecar names its input: the copy names its own
      await writeFile(target, (await readFile(join(folder, name), 'utf8')).replaceAll(from, to));
    } else await copyFile(join(folder, name), target);
  }
}
