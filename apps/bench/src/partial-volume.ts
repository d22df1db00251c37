/**
 * `pnpm bench partial-volume`: mixseg's partial-volume fraction maps against FSL FAST's
 * (`MNI152_T1_*_Brain_FAST_pve_0/1/2`, nii2mesh's `pve_1/2`) and against the phantoms' true
 * fractions: per class, the mean absolute difference and the correlation over the mask, and the
 * partial-volume-weighted volumes (mL) next to the reference's. The posterior probabilities are
 * scored the same way, to show what the fractions add. segment() runs with its defaults, inside the
 * same mask as the Dice benchmarks (reference > 0).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generatePhantom, segment, type Volume } from '@mixseg/imaging';
import { readNifti } from '@mixseg/imaging/node';
import { formatTable, gitRevision, machineInfo, repoRoot, resultsPath, writeJson } from './measure.ts';
import { nii2meshReference, PHANTOM_CASES } from './reference-cases.ts';

/** Agreement of one class's maps. */
export interface FractionAgreement {
  /** mean |a - b| over the mask */
  meanAbsoluteDifference: number;
  /** Pearson correlation over the mask */
  correlation: number;
  /** sum of a and of b over the mask x voxel volume, mL */
  volumeMl: number;
  referenceVolumeMl: number;
}

export interface PartialVolumeCase {
  id: string;
  name: string;
  reference: string;
  voxels: number;
  /** Per class (CSF, GM, WM): the fraction maps, and the probability maps, against the reference. */
  fractions: FractionAgreement[];
  probabilities: FractionAgreement[];
  seconds: number;
}

export interface PartialVolumeOutput {
  benchmark: 'partial-volume';
  mode: 'quick' | 'full';
  machine: ReturnType<typeof machineInfo>;
  git: ReturnType<typeof gitRevision>;
  cases: PartialVolumeCase[];
  skipped: { id: string; reason: string }[];
}

/** Mean absolute difference, correlation and sums of two maps (nVoxels x 3, voxel-major) over a mask. */
export function agreement(
  maps: ArrayLike<number>,
  reference: ArrayLike<number>,
  mask: ArrayLike<number>,
  k: number,
  voxelMl: number,
): FractionAgreement {
  let n = 0;
  let sumA = 0;
  let sumB = 0;
  let sumAA = 0;
  let sumBB = 0;
  let sumAB = 0;
  let absolute = 0;
  for (let v = 0; v < mask.length; v++) {
    if (!mask[v]) continue;
    const a = maps[3 * v + k]!;
    const b = reference[3 * v + k]!;
    n++;
    sumA += a;
    sumB += b;
    sumAA += a * a;
    sumBB += b * b;
    sumAB += a * b;
    absolute += Math.abs(a - b);
  }
  const covariance = sumAB / n - (sumA / n) * (sumB / n);
  const varianceA = sumAA / n - (sumA / n) ** 2;
  const varianceB = sumBB / n - (sumB / n) ** 2;
  return {
    meanAbsoluteDifference: absolute / n,
    correlation: covariance / Math.sqrt(varianceA * varianceB),
    volumeMl: sumA * voxelMl,
    referenceVolumeMl: sumB * voxelMl,
  };
}

interface Source {
  id: string;
  name: string;
  reference: string;
  load: () => Promise<{ image: Volume; mask: Uint8Array; fractions: Float32Array } | string>;
}

function sources(data: string, quick: boolean): Source[] {
  const fast = (resolution: '1mm' | '2mm'): Source => ({
    id: `mni152-${resolution}`,
    name: `MNI152 ${resolution.replace('mm', ' mm')}`,
    reference: 'FSL FAST _pve_0/1/2',
    load: async () => {
      const stem = join(data, 'mni152', `MNI152_T1_${resolution}_Brain`);
      const files = [
        `${stem}.nii.gz`,
        `${stem}_FAST_seg.nii.gz`,
        ...[0, 1, 2].map((k) => `${stem}_FAST_pve_${k}.nii.gz`),
      ];
      const absent = files.filter((f) => !existsSync(f));
      if (absent.length > 0) return `missing ${absent.join(', ')}`;
      const [image, seg, ...pve] = await Promise.all(files.map((f) => readNifti(f)));
      const mask = Uint8Array.from(seg!.data, (v) => (v > 0 ? 1 : 0));
      const fractions = new Float32Array(mask.length * 3);
      for (let v = 0; v < mask.length; v++)
        for (let k = 0; k < 3; k++) fractions[3 * v + k] = pve[k]!.data[v]!;
      return { image: image!, mask, fractions };
    },
  });
  const list: Source[] = [fast('2mm')];
  if (!quick) {
    list.push(fast('1mm'), {
      id: 'nii2mesh',
      name: 'nii2mesh (spheres removed)',
      reference: 'FSL FAST pve_1/2, CSF = 1 - GM - WM',
      load: async () => {
        const files = ['bet', 'pve_1', 'pve_2'].map((f) => join(data, 'nii2mesh', `${f}.nii.gz`));
        const absent = files.filter((f) => !existsSync(f));
        if (absent.length > 0) return `missing ${absent.join(', ')}`;
        const [image, grey, white] = await Promise.all(files.map((f) => readNifti(f)));
        const { reference, fractions } = nii2meshReference(image!, grey!, white!);
        return { image: image!, mask: Uint8Array.from(reference, (v) => (v > 0 ? 1 : 0)), fractions };
      },
    });
  }
  for (const id of quick ? ['phantom-clean'] : ['phantom-clean', 'phantom-coarse']) {
    const phantom = PHANTOM_CASES.find((p) => p.id === id)!;
    list.push({
      id,
      name: id.replace('phantom-', 'phantom, '),
      reference: 'true fractions (supersampled anatomy)',
      load: async () => {
        const generated = generatePhantom(phantom.options);
        return { image: generated.image, mask: generated.mask, fractions: generated.fractions };
      },
    });
  }
  return list;
}

/** Runs the comparison, prints the table, writes bench-results/[quick/]partial-volume.json. */
export async function runPartialVolume(options: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const data = join(repoRoot, '..', 'shared', 'data');
  const cases: PartialVolumeCase[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const source of sources(data, options.quick)) {
    const loaded = await source.load();
    if (typeof loaded === 'string') {
      skipped.push({ id: source.id, reason: loaded });
      log(`NOTE: ${source.name} skipped: ${loaded}`);
      continue;
    }
    const { image, mask, fractions } = loaded;
    const started = performance.now();
    const result = segment([image], { mask: { ...image, data: Float32Array.from(mask) } });
    const seconds = (performance.now() - started) / 1000;
    const [sx, sy, sz] = image.spacing;
    const voxelMl = (sx * sy * sz) / 1000;
    const voxels = mask.reduce((a, b) => a + b, 0);
    cases.push({
      id: source.id,
      name: source.name,
      reference: source.reference,
      voxels,
      fractions: [0, 1, 2].map((k) => agreement(result.fractions!, fractions, mask, k, voxelMl)),
      probabilities: [0, 1, 2].map((k) => agreement(result.probabilities!, fractions, mask, k, voxelMl)),
      seconds,
    });
  }
  const f = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  const rows = cases.flatMap((c) =>
    ['CSF', 'GM', 'WM'].map((name, k) => [
      c.name,
      name,
      f(c.fractions[k]!.meanAbsoluteDifference),
      f(c.fractions[k]!.correlation),
      f(c.probabilities[k]!.meanAbsoluteDifference),
      f(c.probabilities[k]!.correlation),
      f(c.fractions[k]!.volumeMl, 1),
      f(c.fractions[k]!.referenceVolumeMl, 1),
    ]),
  );
  log(
    formatTable(
      [
        'data',
        'class',
        'fractions MAD',
        'fractions r',
        'probabilities MAD',
        'probabilities r',
        'PV volume mL',
        'reference mL',
      ],
      rows,
      new Set([2, 3, 4, 5, 6, 7]),
    ),
  );
  const output: PartialVolumeOutput = {
    benchmark: 'partial-volume',
    mode: options.quick ? 'quick' : 'full',
    machine: machineInfo(),
    git: gitRevision(),
    cases,
    skipped,
  };
  const file = writeJson(resultsPath('partial-volume', options.quick), output);
  log(`wrote ${file}`);
  return file;
}
