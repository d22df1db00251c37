/**
 * The real MR data with references in ../shared/data, for the accuracy tests (skipped, saying why,
 * when the folder is absent): each case's channels, image type and reference labels (0 outside the
 * mask, which is also the mask segmented).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNifti } from '../src/io/nifti-file.ts';
import { readImage } from '../src/io/raster-reader.ts';
import { largestComponent } from '../src/segmentation/largest-component.ts';
import type { ImageType } from '../src/segmentation/segment-options.ts';
import type { Volume } from '../src/types.ts';

const sharedData = new URL('../../../../shared/data/', import.meta.url);
export const hasSharedData = existsSync(sharedData);
export const sharedDataPath = fileURLToPath(sharedData);
const path = (name: string) => fileURLToPath(new URL(name, sharedData));

export interface ReferenceCase {
  channels: Volume[];
  imageType: ImageType;
  reference: Uint8Array;
}

async function volumeCase(
  channels: string[],
  reference: string,
  imageType: ImageType = 't1',
): Promise<ReferenceCase> {
  const volumes = await Promise.all(channels.map((c) => readNifti(path(c))));
  const labels = await readNifti(path(reference));
  return { channels: volumes, imageType, reference: Uint8Array.from(labels.data, (v) => Math.max(v, 0)) };
}

export const CASES = {
  sri24T1: () => volumeCase(['sri24/spgr.nii.gz'], 'sri24/tissues.nii.gz'),
  sri24Multi: () =>
    volumeCase(['sri24/spgr.nii.gz', 'sri24/late.nii.gz', 'sri24/erly.nii.gz'], 'sri24/tissues.nii.gz'),
  sri24T2: () => volumeCase(['sri24/late.nii.gz'], 'sri24/tissues.nii.gz', 't2'),
  mni152Two: () =>
    volumeCase(['mni152/MNI152_T1_2mm_Brain.nii.gz'], 'mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz'),
  mni152One: () =>
    volumeCase(['mni152/MNI152_T1_1mm_Brain.nii.gz'], 'mni152/MNI152_T1_1mm_Brain_FAST_seg.nii.gz'),
  ibsr: (subject: string) => volumeCase([`ibsr/IBSR_${subject}.nii.gz`], `ibsr/IBSR_${subject}_seg.nii.gz`),
  /** the brain without nii2mesh's two synthetic spheres; the reference is the argmax of FAST's fractions */
  nii2mesh: async (): Promise<ReferenceCase> => {
    const [image, grey, white] = await Promise.all(
      ['bet', 'pve_1', 'pve_2'].map((f) => readNifti(path(`nii2mesh/${f}.nii.gz`))),
    );
    const brain = largestComponent(image!.data, image!.dims);
    const reference = new Uint8Array(brain.length);
    for (let v = 0; v < brain.length; v++) {
      if (!brain[v]) continue;
      const gm = grey!.data[v]!;
      const wm = white!.data[v]!;
      const csf = 1 - gm - wm;
      reference[v] = csf >= gm && csf >= wm ? 1 : gm >= wm ? 2 : 3;
    }
    return { channels: [image!], imageType: 't1', reference };
  },
  slice: async (stem: string): Promise<ReferenceCase> => {
    const image = await readImage(path(`png2d/${stem}_t1_16bit.png`));
    const labels = await readImage(path(`png2d/${stem}_labels.png`));
    return { channels: [image], imageType: 't1', reference: Uint8Array.from(labels.data) };
  },
};

export const IBSR_SUBJECTS = ['01', '03', '04', '05', '06', '07', '08', '09', '16', '18'];
export const SLICES = ['sri24_z060', 'sri24_z075', 'sri24_z090', 'mni152_2mm_z036', 'mni152_2mm_z045'];

/** The reference mask as a volume (any nonzero voxel is inside). */
export function maskOf(c: ReferenceCase): Volume {
  return { ...c.channels[0]!, data: Float32Array.from(c.reference, (v) => (v > 0 ? 1 : 0)) };
}

/** Dice of CSF, GM, WM (labels 1, 2, 3) inside reference > 0. */
export function dice(labels: ArrayLike<number>, reference: Uint8Array): number[] {
  const a = [0, 0, 0, 0];
  const b = [0, 0, 0, 0];
  const both = [0, 0, 0, 0];
  for (let i = 0; i < reference.length; i++) {
    const truth = reference[i]!;
    if (truth === 0 || truth > 3) continue;
    const label = labels[i]!;
    if (label >= 1 && label <= 3) a[label]!++;
    b[truth]!++;
    if (label === truth) both[truth]!++;
  }
  return [1, 2, 3].map((k) => (2 * both[k]!) / (a[k]! + b[k]!));
}

export const mean = (values: number[]) => values.reduce((x, y) => x + y, 0) / values.length;
