/**
 * The segmentation benchmark's datasets: every pair in ../shared/data with a reference (whole
 * volumes, and 2-D PNG slices with their label PNGs), plus synthetic phantoms at several noise and
 * bias levels, which have ground truth. Whatever is not already a NIfTI channel plus a NIfTI label
 * map (the PNG slices, the nii2mesh FAST fractions, the phantoms) is written as one into a
 * temporary folder, so that mixseg and the Python peers read exactly the same voxels and are
 * scored inside exactly the same mask (reference > 0).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generatePhantom, type Volume } from '@mixseg/imaging';
import { readImage, readNifti, writeLabelMap, writeNifti } from '@mixseg/imaging/node';
import { largestComponent } from './largest-component.ts';

/** Whole MR volumes, 2-D slices, or synthetic phantoms: grouped so in the report. */
export type DatasetFamily = 'volume' | 'slice' | 'phantom';

/**
 * Whether dipy's HMRF runs: `default` on small inputs (seconds), `opt-in` on 1 mm volumes (about
 * 3 minutes and 2.5 GB each: only with --dipy), `not-applicable` with several channels (dipy's
 * TissueClassifierHMRF takes one).
 */
export type DipyPolicy = 'default' | 'opt-in' | 'not-applicable';

/** One image (or set of co-registered channels) and its reference, ready for every contestant. */
export interface SegmentationDataset {
  id: string;
  name: string;
  family: DatasetFamily;
  /** NIfTI channel files (several: a multi-channel segmentation). */
  channels: string[];
  /** NIfTI labels: 0 outside (not scored), 1 CSF, 2 GM, 3 WM; the mask is reference > 0. */
  reference: string;
  /** What the reference is: ground truth, or another tool's output to agree with. */
  referenceKind: string;
  /** SPM OldSeg CSF/GM/WM maps when they line up with the image (MNI space only). */
  atlas?: string[];
  dipy: DipyPolicy;
  /** [nx, ny, nz] and voxel size in mm. */
  dims: [number, number, number];
  spacing: [number, number, number];
  /** Phantom settings, for the report's grouping. */
  phantom?: { noiseLevel: number; bias: number };
}

/** A dataset that could not be prepared, and why. */
export interface SkippedDataset {
  id: string;
  name: string;
  reason: string;
}

/** Noise (fraction of the WM intensity) and bias amplitude of the phantoms. */
export const PHANTOM_LEVELS: {
  quick: { noiseLevel: number; bias: number }[];
  full: { noiseLevel: number; bias: number }[];
} = {
  quick: [
    { noiseLevel: 0.03, bias: 0 },
    { noiseLevel: 0.09, bias: 0.4 },
  ],
  full: [
    { noiseLevel: 0.03, bias: 0 },
    { noiseLevel: 0.06, bias: 0 },
    { noiseLevel: 0.09, bias: 0 },
    { noiseLevel: 0.03, bias: 0.4 },
    { noiseLevel: 0.06, bias: 0.4 },
    { noiseLevel: 0.09, bias: 0.4 },
  ],
};

/** PNG slices of ../shared/data/png2d with a labels PNG (the T1, 16-bit). */
const SLICES: { quick: string[]; full: string[] } = {
  quick: ['sri24_z075', 'mni152_2mm_z045'],
  full: ['sri24_z060', 'sri24_z075', 'sri24_z090', 'mni152_2mm_z036', 'mni152_2mm_z045'],
};

const SPM_ATLAS = ['spm12/OldSeg_csf.nii', 'spm12/OldSeg_grey.nii', 'spm12/OldSeg_white.nii'];

interface VolumeSource {
  id: string;
  name: string;
  channels: string[];
  reference: string;
  referenceKind: string;
  atlas?: string[];
  dipy: DipyPolicy;
  quick: boolean;
}

const VOLUMES: VolumeSource[] = [
  {
    id: 'sri24-t1',
    name: 'SRI24 T1, 1 mm',
    channels: ['sri24/spgr.nii.gz'],
    reference: 'sri24/tissues.nii.gz',
    referenceKind: 'SRI24 atlas tissue map',
    dipy: 'opt-in',
    quick: false,
  },
  {
    id: 'sri24-t1-t2-pd',
    name: 'SRI24 T1+T2+PD, 1 mm',
    channels: ['sri24/spgr.nii.gz', 'sri24/late.nii.gz', 'sri24/erly.nii.gz'],
    reference: 'sri24/tissues.nii.gz',
    referenceKind: 'SRI24 atlas tissue map',
    dipy: 'not-applicable',
    quick: false,
  },
  {
    id: 'mni152-2mm',
    name: 'MNI152 T1, 2 mm',
    channels: ['mni152/MNI152_T1_2mm_Brain.nii.gz'],
    reference: 'mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz',
    referenceKind: 'FSL FAST (agreement, not truth)',
    atlas: SPM_ATLAS,
    dipy: 'default',
    quick: true,
  },
  {
    id: 'mni152-1mm',
    name: 'MNI152 T1, 1 mm',
    channels: ['mni152/MNI152_T1_1mm_Brain.nii.gz'],
    reference: 'mni152/MNI152_T1_1mm_Brain_FAST_seg.nii.gz',
    referenceKind: 'FSL FAST (agreement, not truth)',
    atlas: SPM_ATLAS,
    dipy: 'opt-in',
    quick: false,
  },
];

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

/**
 * nii2mesh: the brain is the largest 6-connected component of bet > 0 (the two synthetic spheres
 * beside it are separate components); the reference is the argmax of FAST's fractions, CSF taken
 * as 1 - GM - WM (FAST's pve_0 is not shipped).
 */
async function prepareNii2mesh(dataDirectory: string, workDirectory: string): Promise<SegmentationDataset> {
  const image = await readNifti(join(dataDirectory, 'nii2mesh/bet.nii.gz'));
  const grey = await readNifti(join(dataDirectory, 'nii2mesh/pve_1.nii.gz'));
  const white = await readNifti(join(dataDirectory, 'nii2mesh/pve_2.nii.gz'));
  const brain = largestComponent(image.data, image.dims);
  const labels = new Uint8Array(brain.length);
  for (let i = 0; i < brain.length; i++) {
    if (brain[i] === 0) continue;
    const gm = grey.data[i]!;
    const wm = white.data[i]!;
    const csf = 1 - gm - wm;
    labels[i] = csf >= gm && csf >= wm ? 1 : gm >= wm ? 2 : 3;
  }
  const reference = join(workDirectory, 'nii2mesh_reference.nii.gz');
  await writeLabelMap(reference, labels, image);
  return {
    id: 'nii2mesh',
    name: 'nii2mesh T1 (bet), spheres removed',
    family: 'volume',
    channels: [join(dataDirectory, 'nii2mesh/bet.nii.gz')],
    reference,
    referenceKind: 'FSL FAST fractions, argmax (agreement, not truth)',
    dipy: 'opt-in',
    dims: image.dims,
    spacing: image.spacing,
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
    family: 'slice',
    channels: [channel],
    reference,
    referenceKind:
      source === 'sri24' ? 'SRI24 atlas tissue map (slice)' : 'FSL FAST (slice; agreement, not truth)',
    dipy: 'default',
    dims: image.dims,
    spacing: image.spacing,
  };
}

async function preparePhantom(
  level: { noiseLevel: number; bias: number },
  workDirectory: string,
): Promise<SegmentationDataset> {
  const phantom = generatePhantom({ noiseLevel: level.noiseLevel, bias: level.bias, seed: 0 });
  const tag = `noise${Math.round(level.noiseLevel * 100)}-bias${Math.round(level.bias * 100)}`;
  const channel = join(workDirectory, `phantom-${tag}.nii.gz`);
  const reference = join(workDirectory, `phantom-${tag}_labels.nii.gz`);
  await writeChannel(channel, phantom.image, 'int16');
  await writeLabelMap(reference, phantom.labels, phantom.image);
  return {
    id: `phantom-${tag}`,
    name: `phantom, noise ${Math.round(level.noiseLevel * 100)} %, bias ${Math.round(level.bias * 100)} %`,
    family: 'phantom',
    channels: [channel],
    reference,
    referenceKind: 'ground truth (generatePhantom labels)',
    dipy: 'default',
    dims: phantom.image.dims,
    spacing: phantom.image.spacing,
    phantom: level,
  };
}

/**
 * Prepares every dataset of a run (a subset with `quick`). Missing shared data skips those
 * datasets with a reason, never the run: the phantoms need no files.
 */
export async function prepareDatasets(
  options: PrepareOptions,
): Promise<{ datasets: SegmentationDataset[]; skipped: SkippedDataset[] }> {
  const { quick, dataDirectory, workDirectory } = options;
  const datasets: SegmentationDataset[] = [];
  const skipped: SkippedDataset[] = [];
  const missing = (paths: string[]): string[] => paths.filter((p) => !existsSync(join(dataDirectory, p)));
  for (const source of VOLUMES) {
    if (quick && !source.quick) continue;
    const absent = missing([...source.channels, source.reference, ...(source.atlas ?? [])]);
    if (absent.length > 0) {
      skipped.push({ id: source.id, name: source.name, reason: `missing ${absent.join(', ')}` });
      continue;
    }
    const first = await readNifti(join(dataDirectory, source.channels[0]!));
    datasets.push({
      id: source.id,
      name: source.name,
      family: 'volume',
      channels: source.channels.map((p) => join(dataDirectory, p)),
      reference: join(dataDirectory, source.reference),
      referenceKind: source.referenceKind,
      ...(source.atlas ? { atlas: source.atlas.map((p) => join(dataDirectory, p)) } : {}),
      dipy: source.dipy,
      dims: first.dims,
      spacing: first.spacing,
    });
  }
  if (!quick) {
    const files = ['nii2mesh/bet.nii.gz', 'nii2mesh/pve_1.nii.gz', 'nii2mesh/pve_2.nii.gz'];
    const absent = missing(files);
    if (absent.length > 0) {
      skipped.push({ id: 'nii2mesh', name: 'nii2mesh T1 (bet)', reason: `missing ${absent.join(', ')}` });
    } else {
      datasets.push(await prepareNii2mesh(dataDirectory, workDirectory));
    }
  }
  for (const stem of quick ? SLICES.quick : SLICES.full) {
    const absent = missing([`png2d/${stem}_t1_16bit.png`, `png2d/${stem}_labels.png`]);
    if (absent.length > 0) {
      skipped.push({ id: `png2d-${stem}`, name: stem, reason: `missing ${absent.join(', ')}` });
      continue;
    }
    datasets.push(await prepareSlice(stem, dataDirectory, workDirectory));
  }
  for (const level of quick ? PHANTOM_LEVELS.quick : PHANTOM_LEVELS.full) {
    datasets.push(await preparePhantom(level, workDirectory));
  }
  return { datasets, skipped };
}
