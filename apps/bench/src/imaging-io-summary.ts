/**
 * The imaging I/O benchmark's summaries: a contestant's record from its child's answer (medians,
 * output files) and the plain-text tables of times, sizes and memory.
 */
import { N_CLASSES, outputFiles } from './imaging-io-data.ts';
import type {
  ContestantRecord,
  ContestantSummary,
  IoResult,
  NibabelResult,
  OutputFiles,
} from './imaging-io-types.ts';
import { type ChildOutcome, formatNumber, formatTable, mebibytes, median } from './measure.ts';

function summarise(result: IoResult): ContestantSummary {
  return {
    coldReadMs: result.coldReadMs,
    medianWarmReadMs: median(result.readMs.slice(1)),
    medianWriteLabelsMs: median(result.writeLabelsMs),
    medianWriteProbabilitiesMs: median(result.writeProbabilitiesMs),
    medianWritePerClassMs: median(result.writePerClassMs),
    peakRssKiB: result.peakRssKiB,
    peakAfterReadsKiB: result.vmHwmAfterReadsKiB,
    rssBeforeBytes: result.rssBeforeBytes,
  };
}

/** A contestant's record from its child's outcome: its timings, output files and medians, or why it failed. */
export function record(
  base: Pick<ContestantRecord, 'id' | 'label' | 'gzipLevel' | 'outputs'>,
  outcome: ChildOutcome<IoResult | NibabelResult>,
): ContestantRecord {
  const result = outcome.result as (IoResult & NibabelResult) | undefined;
  const failed = outcome.error !== undefined || result === undefined || result.available === false;
  const contestant: ContestantRecord = { ...base, wallMs: outcome.wallMs };
  if (failed) {
    contestant.error = outcome.error ?? result?.error ?? 'no result';
    contestant.stderr = outcome.stderr.slice(-4000);
    return contestant;
  }
  const {
    available: _available,
    error: _error,
    nibabelVersion,
    numpyVersion,
    python,
    indexedGzip,
    defaultCompressLevel,
    compressLevel,
    ...timings
  } = result;
  if (base.id !== 'mixseg') {
    contestant.nibabel = {
      available: true,
      nibabelVersion,
      numpyVersion,
      python,
      indexedGzip,
      defaultCompressLevel,
    };
    contestant.gzipLevel = compressLevel;
  }
  contestant.result = timings as IoResult;
  contestant.files = outputFiles(base.outputs);
  contestant.summary = summarise(contestant.result);
  return contestant;
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? formatNumber(a / b)
    : 'n/a';
const ms = (value: number | undefined): string => (value === undefined ? 'n/a' : formatNumber(value));

/** Read and write times, mixseg beside each other contestant with their ratio. */
export function timeTable(contestants: ContestantRecord[], repetitions: number): string {
  const mixseg = contestants.find((c) => c.id === 'mixseg');
  const others = contestants.filter((c) => c.id !== 'mixseg');
  const headers = ['operation', 'mixseg ms'];
  for (const other of others) headers.push(`${other.label} ms`, `ratio vs ${other.label}`);
  const rows: [string, (s: ContestantSummary) => number][] = [
    ['read spgr.nii.gz, cold (1st call)', (s) => s.coldReadMs],
    [`read spgr.nii.gz, warm (median of ${repetitions})`, (s) => s.medianWarmReadMs],
    ['write label map (uint8, .nii.gz)', (s) => s.medianWriteLabelsMs],
    ['write probabilities, one 4-D float32 .nii.gz', (s) => s.medianWriteProbabilitiesMs],
    [`write probabilities, ${N_CLASSES} x 3-D float32 .nii.gz`, (s) => s.medianWritePerClassMs],
  ];
  const table = rows.map(([name, pick]) => {
    const mine = mixseg?.summary ? pick(mixseg.summary) : undefined;
    const cells = [name, ms(mine)];
    for (const other of others) {
      const theirs = other.summary ? pick(other.summary) : undefined;
      cells.push(ms(theirs), ratio(mine, theirs));
    }
    return cells;
  });
  return formatTable(headers, table, new Set(headers.map((_, i) => i).filter((i) => i > 0)));
}

/** The bytes of every output, per contestant and gzip level. */
export function sizeTable(contestants: ContestantRecord[]): string {
  const headers = ['output', ...contestants.map((c) => `${c.label} bytes (gzip ${c.gzipLevel ?? '?'})`)];
  const rows: [string, (f: OutputFiles) => number][] = [
    ['label map', (f) => f.labels.bytes],
    ['probabilities 4-D', (f) => f.probabilities.bytes],
    [`probabilities, ${N_CLASSES} files (total)`, (f) => f.perClassBytes],
  ];
  const table = rows.map(([name, pick]) => [
    name,
    ...contestants.map((c) => (c.files ? String(pick(c.files)) : 'n/a')),
  ]);
  return formatTable(headers, table, new Set(headers.map((_, i) => i).filter((i) => i > 0)));
}

/** RSS at the start, after the reads and at the peak, per contestant process. */
export function memoryTable(contestants: ContestantRecord[]): string {
  const headers = ['process', 'RSS at start MiB', 'peak after reads MiB', 'peak MiB'];
  const rows = contestants.map((c) => {
    const s = c.summary;
    if (!s) return [c.label, 'FAILED', '', ''];
    return [
      c.label,
      formatNumber(mebibytes(s.rssBeforeBytes)),
      formatNumber(s.peakAfterReadsKiB / 1024),
      formatNumber(s.peakRssKiB / 1024),
    ];
  });
  return formatTable(headers, rows, new Set([1, 2, 3]));
}
