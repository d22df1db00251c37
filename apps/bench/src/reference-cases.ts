/**
 * Every image with a reference segmentation, loaded into memory for in-process runs of segment():
 * the shared MR data (SRI24 T1, T2 and T1+T2+PD, MNI152 2 mm and 1 mm against FSL FAST, nii2mesh
 * against FAST's fractions with the spheres removed, the ten IBSR scans, the PNG slices) and
 * synthetic phantoms (a clean one, one per artefact of robust estimation, Rician noise, coarse
 * voxels, strong noise and bias). Each case is scored inside its reference mask (reference > 0).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  generatePhantom,
  type ImageType,
  largestComponent,
  type PhantomOptions,
  type Volume,
} from '@mixseg/imaging';
import { readImage, readNifti } from '@mixseg/imaging/node';

/** A dataset: one or several subjects scored the same way. */
export interface ReferenceGroup {
  id: string;
  name: string;
  /** Which classes (0 CSF, 1 GM, 2 WM) count in the group's score (IBSR: GM and WM). */
  scoredClasses: number[];
  referenceKind: string;
}

/** One subject of a group. */
export interface ReferenceCase {
  id: string;
  group: string;
  channels: Volume[];
  imageType: ImageType;
  /** 0 outside the mask (not scored), 1 CSF, 2 GM, 3 WM. */
  reference: Uint8Array;
  /** Reference partial-volume fractions (nVoxels x 3, CSF/GM/WM), where there are some. */
  fractions?: Float32Array;
}

export const IBSR_SUBJECTS = ['01', '03', '04', '05', '06', '07', '08', '09', '16', '18'];
const SLICES = ['sri24_z060', 'sri24_z075', 'sri24_z090', 'mni152_2mm_z036', 'mni152_2mm_z045'];

export const REFERENCE_GROUPS: ReferenceGroup[] = [
  { id: 'sri24-t1', name: 'SRI24 T1', scoredClasses: [0, 1, 2], referenceKind: 'SRI24 atlas tissue map' },
  {
    id: 'sri24-multi',
    name: 'SRI24 T1+T2+PD',
    scoredClasses: [0, 1, 2],
    referenceKind: 'SRI24 atlas tissue map',
  },
  {
    id: 'sri24-t2',
    name: 'SRI24 T2 (imageType t2)',
    scoredClasses: [0, 1, 2],
    referenceKind: 'SRI24 atlas tissue map',
  },
  {
    id: 'mni152-2mm',
    name: 'MNI152 2 mm vs FAST',
    scoredClasses: [0, 1, 2],
    referenceKind: 'FSL FAST (agreement)',
  },
  {
    id: 'mni152-1mm',
    name: 'MNI152 1 mm vs FAST',
    scoredClasses: [0, 1, 2],
    referenceKind: 'FSL FAST (agreement)',
  },
  {
    id: 'nii2mesh',
    name: 'nii2mesh vs FAST',
    scoredClasses: [0, 1, 2],
    referenceKind: 'FSL FAST fractions, argmax',
  },
  { id: 'ibsr', name: 'IBSR (10 real scans)', scoredClasses: [1, 2], referenceKind: 'manual labels' },
  {
    id: 'png',
    name: 'PNG slices (5)',
    scoredClasses: [0, 1, 2],
    referenceKind: 'SRI24 map / FAST, per slice',
  },
  { id: 'phantoms', name: 'phantoms (artefacts)', scoredClasses: [0, 1, 2], referenceKind: 'ground truth' },
];

/** The phantom cases: id and options (noise 5 %, bias 20 %, one artefact or variation each). */
export const PHANTOM_CASES: { id: string; options: PhantomOptions }[] = (
  [
    { id: 'phantom-clean', options: {} },
    { id: 'phantom-zeros', options: { artefact: 'zeros' } },
    { id: 'phantom-extreme-voxel', options: { artefact: 'extreme-voxel' } },
    { id: 'phantom-bright-cluster', options: { artefact: 'bright-cluster' } },
    { id: 'phantom-clipped-maximum', options: { artefact: 'clipped-maximum' } },
    { id: 'phantom-rician', options: { noise: 'rician' } },
    { id: 'phantom-coarse', options: { dims: [48, 48, 36], spacing: [3, 3, 3] } },
    { id: 'phantom-noise9-bias40', options: { noiseLevel: 0.09, bias: 0.4 } },
  ] as { id: string; options: PhantomOptions }[]
).map(({ id, options }) => ({ id, options: { noiseLevel: 0.05, bias: 0.2, seed: 0, ...options } }));

const positive = (volume: Volume) => Uint8Array.from(volume.data, (v) => Math.max(v, 0));

/**
 * Loads the cases of the given groups (all by default); cases whose files are missing are skipped
 * and named in `missing`.
 */
export async function loadReferenceCases(
  dataDirectory: string,
  groups: string[] = REFERENCE_GROUPS.map((g) => g.id),
  filter: (id: string) => boolean = () => true,
): Promise<{ cases: ReferenceCase[]; missing: string[] }> {
  const cases: ReferenceCase[] = [];
  const missing: string[] = [];
  const path = (name: string) => join(dataDirectory, name);
  const want = (group: string, id: string) => groups.includes(group) && filter(id);
  const volumeCase = async (
    id: string,
    group: string,
    channels: string[],
    reference: string,
    imageType: ImageType = 't1',
  ) => {
    if (!want(group, id)) return;
    const absent = [...channels, reference].filter((f) => !existsSync(path(f)));
    if (absent.length > 0) {
      missing.push(`${id}: ${absent.join(', ')}`);
      return;
    }
    cases.push({
      id,
      group,
      channels: await Promise.all(channels.map((c) => readNifti(path(c)))),
      imageType,
      reference: positive(await readNifti(path(reference))),
    });
  };
  await volumeCase('sri24-t1', 'sri24-t1', ['sri24/spgr.nii.gz'], 'sri24/tissues.nii.gz');
  await volumeCase(
    'sri24-multi',
    'sri24-multi',
    ['sri24/spgr.nii.gz', 'sri24/late.nii.gz', 'sri24/erly.nii.gz'],
    'sri24/tissues.nii.gz',
  );
  await volumeCase('sri24-t2', 'sri24-t2', ['sri24/late.nii.gz'], 'sri24/tissues.nii.gz', 't2');
  await volumeCase(
    'mni152-2mm',
    'mni152-2mm',
    ['mni152/MNI152_T1_2mm_Brain.nii.gz'],
    'mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz',
  );
  await volumeCase(
    'mni152-1mm',
    'mni152-1mm',
    ['mni152/MNI152_T1_1mm_Brain.nii.gz'],
    'mni152/MNI152_T1_1mm_Brain_FAST_seg.nii.gz',
  );
  if (want('nii2mesh', 'nii2mesh')) {
    const files = ['nii2mesh/bet.nii.gz', 'nii2mesh/pve_1.nii.gz', 'nii2mesh/pve_2.nii.gz'];
    const absent = files.filter((f) => !existsSync(path(f)));
    if (absent.length > 0) missing.push(`nii2mesh: ${absent.join(', ')}`);
    else {
      const [image, grey, white] = await Promise.all(files.map((f) => readNifti(path(f))));
      cases.push({
        id: 'nii2mesh',
        group: 'nii2mesh',
        channels: [image!],
        imageType: 't1',
        ...nii2meshReference(image!, grey!, white!),
      });
    }
  }
  for (const subject of IBSR_SUBJECTS) {
    await volumeCase(
      `ibsr-${subject}`,
      'ibsr',
      [`ibsr/IBSR_${subject}.nii.gz`],
      `ibsr/IBSR_${subject}_seg.nii.gz`,
    );
  }
  for (const stem of SLICES) {
    const id = `png-${stem}`;
    if (!want('png', id)) continue;
    const files = [`png2d/${stem}_t1_16bit.png`, `png2d/${stem}_labels.png`];
    const absent = files.filter((f) => !existsSync(path(f)));
    if (absent.length > 0) {
      missing.push(`${id}: ${absent.join(', ')}`);
      continue;
    }
    const [image, labels] = await Promise.all(files.map((f) => readImage(path(f))));
    cases.push({
      id,
      group: 'png',
      channels: [image!],
      imageType: 't1',
      reference: Uint8Array.from(labels!.data),
    });
  }
  for (const phantom of PHANTOM_CASES) {
    if (!want('phantoms', phantom.id)) continue;
    const generated = generatePhantom(phantom.options);
    cases.push({
      id: phantom.id,
      group: 'phantoms',
      channels: [generated.image],
      imageType: 't1',
      reference: generated.labels,
      fractions: generated.fractions,
    });
  }
  return { cases, missing };
}

/**
 * nii2mesh: the brain is the largest 6-connected component of bet > 0 (the two synthetic spheres
 * beside it are separate components); the reference is the argmax of FAST's fractions, CSF taken as
 * 1 - GM - WM (FAST's pve_0 is not shipped), and the fractions themselves.
 */
export function nii2meshReference(
  image: Volume,
  grey: Volume,
  white: Volume,
): { reference: Uint8Array; fractions: Float32Array } {
  const brain = largestComponent(image.data, image.dims);
  const reference = new Uint8Array(brain.length);
  const fractions = new Float32Array(brain.length * 3);
  for (let i = 0; i < brain.length; i++) {
    if (brain[i] === 0) continue;
    const gm = grey.data[i]!;
    const wm = white.data[i]!;
    const csf = Math.max(0, 1 - gm - wm);
    reference[i] = csf >= gm && csf >= wm ? 1 : gm >= wm ? 2 : 3;
    fractions[3 * i] = csf;
    fractions[3 * i + 1] = gm;
    fractions[3 * i + 2] = wm;
  }
  return { reference, fractions };
}

/** Dice of CSF, GM, WM (labels 1, 2, 3) inside reference > 0. */
export function diceScores(labels: ArrayLike<number>, reference: Uint8Array): number[] {
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
  return [1, 2, 3].map((k) => (a[k]! + b[k]! === 0 ? 1 : (2 * both[k]!) / (a[k]! + b[k]!)));
}

/** The reference mask of a case as a volume (any nonzero voxel is inside). */
export function referenceMask(c: ReferenceCase): Volume {
  return { ...c.channels[0]!, data: Float32Array.from(c.reference, (v) => (v > 0 ? 1 : 0)) };
}
