/**
 * `pnpm bench [filter...] [--quick]`: runs the benchmarks whose name contains one of the filters
 * (all of them without a filter). `--quick` is a fast smoke run on small data.
 */
import { runCliSegment } from './cli-segment.ts';
import { runCoreEm } from './core-em.ts';
import { runImagingIo } from './imaging-io.ts';
import { runSegmentation } from './segmentation.ts';

interface BenchOptions {
  quick: boolean;
  /** Also run dipy's HMRF (minutes per volume). */
  dipy: boolean;
  /** Benchmark @mixseg/core at this git revision instead of the working tree. */
  coreRef: string | undefined;
}

interface Benchmark {
  name: string;
  description: string;
  run: (options: BenchOptions) => Promise<unknown>;
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'core-em',
    description: '@mixseg/core EM iteration time and peak memory vs scikit-learn (K = 3, full)',
    run: (options) => runCoreEm(options),
  },
  {
    name: 'imaging-io',
    description: '@mixseg/imaging NIfTI read, label and probability map write time vs nibabel (SRI24 SPGR)',
    run: (options) => runImagingIo(options),
  },
  {
    name: 'segmentation',
    description:
      'whole segmentations: Dice, time, peak memory per prior vs scikit-learn (and dipy with --dipy)',
    run: (options) => runSegmentation(options),
  },
  {
    name: 'cli',
    description: 'mixseg segment wall time and peak memory on SRI24, batch of 8 with --jobs 1 vs 2',
    run: (options) => runCliSegment(options),
  },
];

function usage(): string {
  return [
    'usage: pnpm bench [filter...] [--quick] [--core-ref=<git revision>]',
    '  filter             run only the benchmarks whose name contains it',
    '  --quick            smoke run: small data (core-em: N = 1e5), 1 repetition (imaging-io, segmentation,',
    '                     cli; cli batch of 2)',
    "  --dipy             segmentation: also run dipy's HMRF (about 3 minutes and 2.5 GB per SRI24 volume)",
    '  --core-ref=<rev>   benchmark @mixseg/core as committed at <rev> (default: the working tree,',
    '                     copied once at the start so that edits during the run do not leak in)',
    'benchmarks:',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(10)} ${b.description}`),
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
  const unknownFlags = args.filter((arg) => arg.startsWith('-') && arg !== '--quick' && arg !== '--dipy');
  if (unknownFlags.length > 0) {
    console.error(`unknown option(s): ${unknownFlags.join(' ')}\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  const quick = args.includes('--quick');
  const dipy = args.includes('--dipy');
  const filters = args.filter((arg) => !arg.startsWith('-')).map((arg) => arg.toLowerCase());
  const selected =
    filters.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${filters.join(', ')}\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  for (const benchmark of selected) {
    console.log(`=== ${benchmark.name}${quick ? ' (quick)' : ''} ===`);
    await benchmark.run({ quick, coreRef, dipy });
  }
}

await main();
