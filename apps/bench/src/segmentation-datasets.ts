/**
 * The segmentation benchmark's datasets. A group is one row of the cross-dataset table (SRI24 T1,
 * the ten IBSR scans, the PNG slices, one phantom...) and holds one or several subjects: an image
 * (or co-registered channels) with its reference. The subjects, groups and phantoms are those of
 * reference-cases.ts. Whatever is not already a NIfTI channel plus a NIfTI label map (the PNG
 * slices, the nii2mesh FAST fractions, the phantoms) is written as one into a temporary folder, so
 * that mixseg and the Python peers read exactly the same voxels and are scored inside exactly the
 * same mask (reference > 0).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generatePhantom, type ImageType, type PhantomOptions, type Volume } from '@mixseg/imaging';
import { readImage, readNifti, writeLabelMap, writeNifti } from '@mixseg/imaging/node';
import { IBSR_SUBJECTS, nii2meshReference, PHANTOM_CASES, REFERENCE_GROUPS } from './reference-cases.ts';

/** Whole MR volumes, 2-D slices, or synthetic phantoms: grouped so in the report. */
export type DatasetFamily = 'volume' | 'slice' | 'phantom';

/**
 * Whether dipy's HMRF runs: `default` on small inputs (seconds), `opt-in` on 1 mm volumes and the
 * IBSR scans (minutes and GBs each: only with --dipy), `not-applicable` with several channels
 * (dipy's TissueClassifierHMRF takes one).
 */
export type DipyPolicy = 'default' | 'opt-in' | 'not-applicable';

/** One row of the cross-dataset table: one or several subjects scored the same way. */
export interface SegmentationGroup {
  id: string;
  name: string;
  family: DatasetFamily;
  /** The classes (0 CSF, 1 GM, 2 WM) that count when methods are compared (IBSR: GM and WM). */
  scoredClasses: number[];
  referenceKind: string;
  /** Ids of its datasets, in order. */
  subjects: string[];
  /** Repetitions per subject, when not the size rule's (IBSR: 1). */
  repetitions?: number;
}

/** One subject: an image (or set of co-registered channels) and its reference. */
export interface SegmentationDataset {
  id: string;
  name: string;
  /**
   * The {@link SegmentationGroup} it is scored in. Absent from results written before groups
   * existed: there every dataset is its own group, the PNG slices one group.
   */
  group?: string;
  family: DatasetFamily;
  /** NIfTI channel files (several: a multi-channel segmentation). */
  channels: string[];
  /** NIfTI labels: 0 outside (not scored), 1 CSF, 2 GM, 3 WM; the mask is reference > 0. */
  reference: string;
  /** What the reference is: ground truth, or another tool's output to agree with. */
  referenceKind: string;
  /** The contrast of the first channel, which orders the classes (absent in older results: t1). */
  imageType?: ImageType;
  /** SPM OldSeg CSF/GM/WM maps when they line up with the image (MNI space only). */
  atlas?: string[];
  dipy: DipyPolicy;
  /** [nx, ny, nz] and voxel size in mm. */
  dims: [number, number, number];
  spacing: [number, number, number];
  /** Phantom settings (noise as a fraction of WM, bias amplitude; artefact and noise model). */
  phantom?: { noiseLevel: number; bias: number; noise?: string; artefact?: string };
}

/** A dataset that could not be prepared, and why. */
export interface SkippedDataset {
  id: string;
  name: string;
  reason: string;
}

/** PNG slices of ../shared/data/png2d with a labels PNG (the T1, 16-bit). */
const SLICES: { quick: string[]; full: string[] } = {
  quick: ['sri24_z075'],
  full: ['sri24_z060', 'sri24_z075', 'sri24_z090', 'mni152_2mm_z036', 'mni152_2mm_z045'],
};

/** IBSR subjects of a --quick run. */
const QUICK_IBSR_SUBJECTS = IBSR_SUBJECTS.slice(0, 2);

/** Phantom cases of a --quick run. */
const QUICK_PHANTOMS = ['phantom-clean', 'phantom-bright-cluster'];

const SPM_ATLAS = ['spm12/OldSeg_csf.nii', 'spm12/OldSeg_grey.nii', 'spm12/OldSeg_white.nii'];

/** The rows' names (the group ids are reference-cases.ts's). */
const GROUP_NAMES: Record<string, string> = {
  'sri24-t1': 'SRI24 T1, 1 mm',
  'sri24-multi': 'SRI24 T1+T2+PD, 1 mm',
  'sri24-t2': 'SRI24 T2, 1 mm (imageType t2)',
  'mni152-2mm': 'MNI152 T1, 2 mm vs FAST',
  'mni152-1mm': 'MNI152 T1, 1 mm vs FAST',
  nii2mesh: 'nii2mesh T1 vs FAST',
  ibsr: 'IBSR18, real T1 scans vs manual labels',
  png: 'PNG slices (T1, 16-bit)',
};

/** Scored classes and reference kind of a reference-cases.ts group, if it is one. */
function referenceGroup(id: string): { scoredClasses: number[]; referenceKind: string } | undefined {
  const group = REFERENCE_GROUPS.find((g) => g.id === id);
  return group && { scoredClasses: [...group.scoredClasses], referenceKind: group.referenceKind };
}

interface VolumeSource {
  id: string;
  name: string;
  group: string;
  channels: string[];
  reference: string;
  imageType: ImageType;
  atlas?: string[];
  dipy: DipyPolicy;
}

function volumeSources(quick: boolean): VolumeSource[] {
  const single = (
    group: string,
    channels: string[],
    reference: string,
    dipy: DipyPolicy,
    extra: { imageType?: ImageType; atlas?: string[] } = {},
  ): VolumeSource => ({
    id: group,
    name: GROUP_NAMES[group]!,
    group,
    channels,
    reference,
    imageType: extra.imageType ?? 't1',
    dipy,
    ...(extra.atlas ? { atlas: extra.atlas } : {}),
  });
  const mni152 = (resolution: '2mm' | '1mm', dipy: DipyPolicy) =>
    single(
      `mni152-${resolution}`,
      [`mni152/MNI152_T1_${resolution}_Brain.nii.gz`],
      `mni152/MNI152_T1_${resolution}_Brain_FAST_seg.nii.gz`,
      dipy,
      { atlas: SPM_ATLAS },
    );
  const ibsr = (quick ? QUICK_IBSR_SUBJECTS : IBSR_SUBJECTS).map(
    (subject): VolumeSource => ({
      id: `ibsr-${subject}`,
      name: `IBSR_${subject}`,
      group: 'ibsr',
      channels: [`ibsr/IBSR_${subject}.nii.gz`],
      reference: `ibsr/IBSR_${subject}_seg.nii.gz`,
      imageType: 't1',
      dipy: 'opt-in',
    }),
  );
  if (quick) return [mni152('2mm', 'default'), ...ibsr];
  return [
    single('sri24-t1', ['sri24/spgr.nii.gz'], 'sri24/tissues.nii.gz', 'opt-in'),
    single(
      'sri24-multi',
      ['sri24/spgr.nii.gz', 'sri24/late.nii.gz', 'sri24/erly.nii.gz'],
      'sri24/tissues.nii.gz',
      'not-applicable',
    ),
    single('sri24-t2', ['sri24/late.nii.gz'], 'sri24/tissues.nii.gz', 'opt-in', { imageType: 't2' }),
    mni152('2mm', 'default'),
    mni152('1mm', 'opt-in'),
    ...ibsr,
  ];
}

/** Options of {@link prepareDatasets}. */
export interface PrepareOptions {
  quick: boolean;
  /** ../shared/data */
  dataDirectory: string;
  /** A temporary folder for the derived NIfTI files. */
  workDirectory: string;
}

async function writeChannel(path: string, volume: Volume, datatype: 'int16' | 'float32'): Promise<void> {
  await writeNifti(path, { data: volume.data, dims: volume.dims, datatype, geometry: volume.geometry });
}

/** nii2mesh against the argmax of FAST's fractions, the spheres removed (see nii2meshReference). */
async function prepareNii2mesh(dataDirectory: string, workDirectory: string): Promise<SegmentationDataset> {
  const [image, grey, white] = await Promise.all(
    ['bet', 'pve_1', 'pve_2'].map((name) => readNifti(join(dataDirectory, `nii2mesh/${name}.nii.gz`))),
  );
  const { reference: labels } = nii2meshReference(image!, grey!, white!);
  const reference = join(workDirectory, 'nii2mesh_reference.nii.gz');
  await writeLabelMap(reference, labels, image!);
  return {
    id: 'nii2mesh',
    name: GROUP_NAMES['nii2mesh']!,
    group: 'nii2mesh',
    family: 'volume',
    channels: [join(dataDirectory, 'nii2mesh/bet.nii.gz')],
    reference,
    referenceKind: referenceGroup('nii2mesh')?.referenceKind ?? 'FSL FAST fractions, argmax',
    imageType: 't1',
    dipy: 'opt-in',
    dims: image!.dims,
    spacing: image!.spacing,
  };
}

async function prepareSlice(
  stem: string,
  dataDirectory: string,
  workDirectory: string,
): Promise<SegmentationDataset> {
  const image = await readImage(join(dataDirectory, 'png2d', `${stem}_t1_16bit.png`));
  const labelImage = await readImage(join(dataDirectory, 'png2d', `${stem}_labels.png`));
  const channel = join(workDirectory, `${stem}_t1.nii.gz`);
  const reference = join(workDirectory, `${stem}_labels.nii.gz`);
  await writeChannel(channel, image, 'float32');
  await writeLabelMap(reference, Uint8Array.from(labelImage.data), image);
  const [source, ...rest] = stem.split('_');
  return {
    id: `png2d-${stem}`,
    name: `${source === 'sri24' ? 'SRI24' : 'MNI152 2 mm'} slice ${rest.at(-1)}, T1 PNG`,
    group: 'png',
    family: 'slice',
    channels: [channel],
    reference,
    referenceKind:
      source === 'sri24' ? 'SRI24 atlas tissue map (slice)' : 'FSL FAST (slice; agreement, not truth)',
    imageType: 't1',
    dipy: 'default',
    dims: image.dims,
    spacing: image.spacing,
  };
}

/**
 * What sets a phantom case apart from the clean one (noise 5 %, bias 20 %): its artefact, its
 * noise model, its voxel size or its noise and bias.
 */
export function describePhantom(options: PhantomOptions): string {
  const parts: string[] = [];
  if (options.artefact && options.artefact !== 'none') parts.push(options.artefact.replaceAll('-', ' '));
  if (options.noise && options.noise !== 'gaussian')
    parts.push(`${options.noise[0]!.toUpperCase()}${options.noise.slice(1)} noise`);
  if (options.spacing) parts.push(`${options.spacing.join(' x ')} mm voxels`);
  const noise = Math.round((options.noiseLevel ?? 0.03) * 100);
  const bias = Math.round((options.bias ?? 0) * 100);
  if (noise !== 5 || bias !== 20) parts.push(`noise ${noise} %, bias ${bias} %`);
  return parts.length > 0 ? parts.join(', ') : 'clean';
}

async function preparePhantom(
  id: string,
  options: PhantomOptions,
  workDirectory: string,
): Promise<SegmentationDataset> {
  const phantom = generatePhantom(options);
  const channel = join(workDirectory, `${id}.nii.gz`);
  const reference = join(workDirectory, `${id}_labels.nii.gz`);
  await writeChannel(channel, phantom.image, 'int16');
  await writeLabelMap(reference, phantom.labels, phantom.image);
  const { noiseLevel, bias, noise, artefact } = phantom.options;
  return {
    id,
    name: `phantom, ${describePhantom(options)}`,
    group: id,
    family: 'phantom',
    channels: [channel],
    reference,
    referenceKind: 'ground truth (generatePhantom labels)',
    imageType: 't1',
    dipy: 'default',
    dims: phantom.image.dims,
    spacing: phantom.image.spacing,
    phantom: { noiseLevel, bias, noise, artefact },
  };
}

/** The groups of a list of datasets, in the datasets' order (a dataset without one is its own). */
export function groupDatasets(datasets: readonly SegmentationDataset[]): SegmentationGroup[] {
  const groups: SegmentationGroup[] = [];
  for (const dataset of datasets) {
    const id = dataset.group ?? dataset.id;
    const existing = groups.find((g) => g.id === id);
    if (existing) {
      existing.subjects.push(dataset.id);
      continue;
    }
    const reference = referenceGroup(dataset.family === 'phantom' ? 'phantoms' : id);
    groups.push({
      id,
      name: GROUP_NAMES[id] ?? dataset.name,
      family: dataset.family,
      scoredClasses: reference?.scoredClasses ?? [0, 1, 2],
      referenceKind:
        dataset.family === 'phantom'
          ? dataset.referenceKind
          : (reference?.referenceKind ?? dataset.referenceKind),
      subjects: [dataset.id],
      ...(id === 'ibsr' ? { repetitions: 1 } : {}),
    });
  }
  return groups;
}

/**
 * Prepares every dataset of a run (a subset with `quick`: MNI152 2 mm, two IBSR scans, one PNG
 * slice, the clean and bright-cluster phantoms), and their groups. Missing shared data skips those
 * datasets with a reason, never the run: the phantoms need no files.
 */
export async function prepareDatasets(
  options: PrepareOptions,
): Promise<{ groups: SegmentationGroup[]; datasets: SegmentationDataset[]; skipped: SkippedDataset[] }> {
  const { quick, dataDirectory, workDirectory } = options;
  const datasets: SegmentationDataset[] = [];
  const skipped: SkippedDataset[] = [];
  const missing = (paths: string[]): string[] => paths.filter((p) => !existsSync(join(dataDirectory, p)));
  const sources = volumeSources(quick);
  const add = async (source: VolumeSource): Promise<void> => {
    const absent = missing([...source.channels, source.reference, ...(source.atlas ?? [])]);
    if (absent.length > 0) {
      skipped.push({ id: source.id, name: source.name, reason: `missing ${absent.join(', ')}` });
      return;
    }
    const first = await readNifti(join(dataDirectory, source.channels[0]!));
    datasets.push({
      id: source.id,
      name: source.name,
      group: source.group,
      family: 'volume',
      channels: source.channels.map((p) => join(dataDirectory, p)),
      reference: join(dataDirectory, source.reference),
      referenceKind: referenceGroup(source.group)?.referenceKind ?? 'reference labels',
      imageType: source.imageType,
      ...(source.atlas ? { atlas: source.atlas.map((p) => join(dataDirectory, p)) } : {}),
      dipy: source.dipy,
      dims: first.dims,
      spacing: first.spacing,
    });
  };
  // The single volumes, nii2mesh, then the IBSR scans: the order of the table's rows.
  for (const source of sources.filter((s) => s.group !== 'ibsr')) await add(source);
  if (!quick) {
    const absent = missing(['nii2mesh/bet.nii.gz', 'nii2mesh/pve_1.nii.gz', 'nii2mesh/pve_2.nii.gz']);
    if (absent.length > 0) {
      skipped.push({
        id: 'nii2mesh',
        name: GROUP_NAMES['nii2mesh']!,
        reason: `missing ${absent.join(', ')}`,
      });
    } else {
      datasets.push(await prepareNii2mesh(dataDirectory, workDirectory));
    }
  }
  for (const source of sources.filter((s) => s.group === 'ibsr')) await add(source);
  for (const stem of quick ? SLICES.quick : SLICES.full) {
    const absent = missing([`png2d/${stem}_t1_16bit.png`, `png2d/${stem}_labels.png`]);
    if (absent.length > 0) {
      skipped.push({ id: `png2d-${stem}`, name: stem, reason: `missing ${absent.join(', ')}` });
      continue;
    }
    datasets.push(await prepareSlice(stem, dataDirectory, workDirectory));
  }
  for (const phantom of PHANTOM_CASES) {
    if (quick && !QUICK_PHANTOMS.includes(phantom.id)) continue;
    datasets.push(await preparePhantom(phantom.id, phantom.options, workDirectory));
  }
  return { groups: groupDatasets(datasets), datasets, skipped };
}
