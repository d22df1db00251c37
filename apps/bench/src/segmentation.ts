/**
 * `pnpm bench segmentation`: accuracy (Dice per class against the reference), wall time and peak
 * memory of whole segmentations (read, fit, spatial prior, write the label and probability maps)
 * on every pair in ../shared/data with ground truth, for each prior, next to scikit-learn's plain
 * GaussianMixture and dipy's HMRF on the same voxels. dipy takes ~3 minutes and 2.5 GB per
 * SRI24 volume, so it runs only with `--dipy`. Peers that are not installed are skipped with a note.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  benchRoot,
  formatNumber,
  formatTable,
  machineInfo,
  median,
  repoRoot,
  runJsonChild,
  writeJson,
} from './measure.ts';

interface Outcome {
  dice: number[];
  seconds: number;
  peakMiB: number | null;
  timings?: Record<string, number>;
  iterations?: { mixture: number; spatial: number };
}

interface Dataset {
  name: string;
  reference: string;
  channels: string[];
  atlas?: string[];
}

const DATA = join(repoRoot, '..', 'shared', 'data');
const PYTHON = '/usr/bin/python3';
const WORKER = join(benchRoot, 'src', 'worker-segmentation.ts');
const PEERS_SCRIPT = join(benchRoot, 'python', 'segment_peers.py');

const DATASETS: Dataset[] = [
  { name: 'SRI24 T1', reference: 'sri24/tissues.nii.gz', channels: ['sri24/spgr.nii.gz'] },
  {
    name: 'SRI24 T1+T2+PD',
    reference: 'sri24/tissues.nii.gz',
    channels: ['sri24/spgr.nii.gz', 'sri24/late.nii.gz', 'sri24/erly.nii.gz'],
  },
  {
    name: 'MNI152 2 mm vs FAST',
    reference: 'mni152/MNI152_T1_2mm_Brain_FAST_seg.nii.gz',
    channels: ['mni152/MNI152_T1_2mm_Brain.nii.gz'],
    atlas: ['spm12/OldSeg_csf.nii', 'spm12/OldSeg_grey.nii', 'spm12/OldSeg_white.nii'],
  },
];

const CONFIGURATIONS: { name: string; options: Record<string, unknown>; atlas?: boolean }[] = [
  { name: 'none', options: { prior: 'none' } },
  { name: 'ppf (default)', options: {} },
  { name: 'mrf', options: { prior: 'mrf' } },
  { name: 'mrf, diag', options: { prior: 'mrf', covarianceType: 'diag' } },
  {
    name: 'FAST-like: mrf 0.1, shrinkage 0.05',
    options: { prior: 'mrf', beta: 0.1, covarianceShrinkage: 0.05 },
  },
  { name: 'atlas (ppf + SPM maps)', options: { prior: 'atlas' }, atlas: true },
  { name: 'FAST-like + atlas', options: { prior: 'mrf', beta: 0.1, covarianceShrinkage: 0.05 }, atlas: true },
];

export async function runSegmentation(options: { quick: boolean; dipy: boolean }): Promise<unknown> {
  if (!existsSync(DATA)) {
    console.log(`segmentation: ${DATA} is absent; nothing to measure`);
    return { skipped: 'no ../shared/data' };
  }
  const repetitions = options.quick ? 1 : 3;
  const rows: string[][] = [];
  const records: Record<string, unknown>[] = [];
  const notes: string[] = [];
  const path = (p: string) => join(DATA, p);
  for (const dataset of DATASETS) {
    const contestants: { name: string; run: () => Promise<Outcome | string> }[] = [];
    for (const configuration of CONFIGURATIONS) {
      if (configuration.atlas && !dataset.atlas) continue;
      contestants.push({
        name: `mixseg ${configuration.name}`,
        run: async () => {
          const child = await runJsonChild<Outcome>(process.execPath, [
            '--import',
            'tsx',
            WORKER,
            JSON.stringify(configuration.options),
            path(dataset.reference),
            configuration.atlas && dataset.atlas ? dataset.atlas.map(path).join(',') : '-',
            ...dataset.channels.map(path),
          ]);
          return child.result ?? `failed: ${child.error} ${child.stderr.slice(-300)}`;
        },
      });
    }
    // dipy's HMRF takes one channel
    const peers = ['sklearn', ...(options.dipy && dataset.channels.length === 1 ? ['dipy'] : [])];
    for (const peer of peers) {
      contestants.push({
        name: peer === 'sklearn' ? 'scikit-learn GaussianMixture (full)' : 'dipy HMRF (beta 0.1)',
        run: async () => {
          const child = await runJsonChild<Outcome>(
            PYTHON,
            [PEERS_SCRIPT, peer, path(dataset.reference), ...dataset.channels.map(path)],
            { cwd: join(benchRoot, 'python'), timeoutMs: 20 * 60 * 1000 },
          );
          return child.result ?? `skipped: ${child.error} ${child.stderr.trim().split('\n').at(-1) ?? ''}`;
        },
      });
    }
    for (const contestant of contestants) {
      const outcomes: Outcome[] = [];
      let failure: string | undefined;
      const runs = contestant.name.startsWith('dipy') ? 1 : repetitions;
      for (let r = 0; r < runs; r++) {
        const outcome = await contestant.run();
        if (typeof outcome === 'string') {
          failure = outcome;
          break;
        }
        outcomes.push(outcome);
      }
      if (failure || outcomes.length === 0) {
        notes.push(`${dataset.name}, ${contestant.name}: ${failure}`);
        continue;
      }
      const dice = outcomes[0]!.dice;
      const seconds = median(outcomes.map((o) => o.seconds));
      const peak = median(outcomes.map((o) => o.peakMiB ?? Number.NaN));
      rows.push([
        dataset.name,
        contestant.name,
        ...dice.map((d) => d.toFixed(3)),
        (dice.reduce((a, b) => a + b, 0) / 3).toFixed(3),
        formatNumber(seconds),
        formatNumber(peak),
      ]);
      records.push({
        dataset: dataset.name,
        contestant: contestant.name,
        dice,
        seconds,
        peakMiB: peak,
        runs: outcomes,
      });
      console.log(rows.at(-1)!.join(' | '));
    }
  }
  console.log(
    `\n${formatTable(
      ['data', 'method', 'CSF', 'GM', 'WM', 'mean', 'seconds', 'peak MiB'],
      rows,
      new Set([2, 3, 4, 5, 6, 7]),
    )}`,
  );
  for (const note of notes) console.log(`note: ${note}`);
  const file = writeJson(join(repoRoot, 'bench-results', 'segmentation.json'), {
    machine: machineInfo(),
    repetitions,
    methodology:
      'Each row is a fresh process: read the channels, segment inside the reference mask (reference > 0), ' +
      'write the label map and 4-D probability maps (gzip) for mixseg; peers fit and predict only. Dice ' +
      'per class against the reference on the same voxels; seconds and peak RSS (VmHWM) are medians.',
    results: records,
    notes,
  });
  console.log(`wrote ${file}`);
  return records;
}
