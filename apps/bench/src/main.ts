/**
 * `pnpm bench [filter...] [--quick] [--dipy] [--variants] [--core-ref=<rev>]`: runs the benchmarks
 * whose name contains one of the filters (all of them without a filter), then renders
 * bench-results/report.md. `pnpm bench report [--quick] [--readme]` only re-renders the report
 * from the JSON already there. `--quick` is a fast smoke run on small data, kept apart in
 * bench-results/quick/.
 */
import { runCliSegment } from './cli-segment.ts';
import { runCoreEm } from './core-em.ts';
import { runDefaultsSearch } from './defaults-search.ts';
import { runImagingIo } from './imaging-io.ts';
import { runPartialVolume } from './partial-volume.ts';
import { writeReport } from './report.ts';
import { runSegmentation } from './segmentation.ts';
import { runViewer } from './viewer.ts';

interface BenchOptions {
  quick: boolean;
  /** Also run dipy's HMRF on the 1 mm volumes (minutes and GBs per volume). */
  dipy: boolean;
  /** Segmentation: also the tuning variants of the priors. */
  variants: boolean;
  /** Benchmark @mixseg/core at this git revision instead of the working tree. */
  coreRef: string | undefined;
}

interface Benchmark {
  name: string;
  description: string;
  /** Rough duration of a full run on 2 cores, for the usage text. */
  minutes: string;
  /** Runs only when named (not part of a plain `pnpm bench`). */
  explicit?: boolean;
  run: (options: BenchOptions) => Promise<unknown>;
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'core-em',
    description:
      'EM time per iteration and peak memory vs N (1e5..1e7), D = 1 and 3, every covariance type and path, vs scikit-learn',
    minutes: '~9',
    run: (options) => runCoreEm(options),
  },
  {
    name: 'imaging-io',
    description: 'NIfTI read, label and probability map write time vs nibabel (SRI24 SPGR)',
    minutes: '~0.5',
    run: (options) => runImagingIo(options),
  },
  {
    name: 'segmentation',
    description:
      'Dice per class, time, peak memory per prior on every shared pair and phantoms, vs scikit-learn and dipy',
    minutes: '~10',
    run: (options) => runSegmentation(options),
  },
  {
    name: 'partial-volume',
    description:
      "partial-volume fraction maps vs FSL FAST's (MNI152, nii2mesh) and the phantoms' true fractions",
    minutes: '~1',
    run: (options) => runPartialVolume(options),
  },
  {
    name: 'defaults',
    description:
      "segment()'s defaults chosen by leave-one-dataset-out over a grid of priors, betas, class weights and shrinkage",
    minutes: '~35',
    explicit: true,
    run: (options) => runDefaultsSearch(options),
  },
  {
    name: 'cli',
    description:
      'mixseg segment end to end on a 2 mm and a 1 mm volume, batch with --jobs 1 and 2, vs the peers',
    minutes: '~5',
    run: (options) => runCliSegment(options),
  },
  {
    name: 'viewer',
    description:
      'viewer build, then its browser timing test: URL to first drawn subject, j to the next, on a 1 mm study of 4',
    minutes: '~2',
    run: (options) => runViewer(options),
  },
];

const FLAGS = new Set(['--quick', '--dipy', '--variants', '--readme']);

function usage(): string {
  return [
    'usage: pnpm bench [filter...] [--quick] [--dipy] [--variants] [--core-ref=<git revision>]',
    '       pnpm bench report [--quick] [--readme]',
    '  filter             run only the benchmarks whose name contains it; the report is rendered at the end',
    '  report             only render bench-results/report.md (and SVG charts) from the JSON already there',
    '  --quick            smoke run on small data, single runs (about 5 minutes); results, report and charts',
    '                     go to bench-results/quick/ and never replace a full run',
    "  --dipy             also run dipy's HMRF on the 1 mm volumes (about 3 minutes and 2.5 GB each); it runs",
    '                     on the phantoms, slices and the 2 mm volume anyway',
    '  --variants         segmentation: also the tuning variants (mrf diag, FAST-like beta 0.1 / shrinkage 0.05)',
    '  --readme           report: also replace the headline block of README.md (full results only)',
    '  --core-ref=<rev>   benchmark @mixseg/core as committed at <rev> (default: the working tree,',
    '                     copied once at the start so that edits during the run do not leak in)',
    'benchmarks (full run on 2 cores, about 27 minutes in all without --dipy):',
    ...BENCHMARKS.map(
      (b) =>
        `  ${b.name.padEnd(14)} ${b.minutes.padStart(4)} min  ${b.description}${b.explicit ? ' (only when named)' : ''}`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const raw = process.argv.slice(2).filter((arg) => arg !== '--');
  if (raw.includes('--help') || raw.includes('-h')) {
    console.log(usage());
    return;
  }
  // Accept both --core-ref=<rev> and --core-ref <rev>.
  let coreRef: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const arg = raw[i]!;
    if (arg.startsWith('--core-ref=')) coreRef = arg.slice('--core-ref='.length);
    else if (arg === '--core-ref') coreRef = raw[++i];
    else args.push(arg);
  }
  if (coreRef !== undefined && coreRef.length === 0) {
    console.error(`--core-ref needs a git revision\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const unknownFlags = args.filter((arg) => arg.startsWith('-') && !FLAGS.has(arg));
  if (unknownFlags.length > 0) {
    console.error(`unknown option(s): ${unknownFlags.join(' ')}\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const quick = args.includes('--quick');
  const filters = args.filter((arg) => !arg.startsWith('-')).map((arg) => arg.toLowerCase());
  if (filters.includes('report')) {
    if (filters.length > 1) {
      console.error(`report takes no benchmark names\n${usage()}`);
      process.exitCode = 2;
      return;
    }
    writeReport({ quick, readme: args.includes('--readme') });
    return;
  }
  if (args.includes('--readme')) {
    console.error(`--readme goes with report: pnpm bench report --readme\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const options: BenchOptions = {
    quick,
    coreRef,
    dipy: args.includes('--dipy'),
    variants: args.includes('--variants'),
  };
  const selected =
    filters.length === 0
      ? BENCHMARKS.filter((b) => !b.explicit)
      : BENCHMARKS.filter((b) => filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${filters.join(', ')}\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  for (const benchmark of selected) {
    const begun = performance.now();
    console.log(`=== ${benchmark.name}${quick ? ' (quick)' : ''} ===`);
    await benchmark.run(options);
    console.log(`=== ${benchmark.name}: ${((performance.now() - begun) / 60000).toFixed(1)} min ===\n`);
  }
  console.log('=== report ===');
  writeReport({ quick });
  console.log(`all done in ${((performance.now() - started) / 60000).toFixed(1)} min`);
}

await main();
