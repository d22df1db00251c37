/** The report's NIfTI I/O section: reading and writing times of @mixseg/imaging and nibabel. */
import type { ContestantSummary } from './imaging-io-types.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber } from './measure.ts';
import type { ReportSection } from './types.ts';

/** What the report reads from bench-results/imaging-io.json. */
export interface ImagingIoReportInput {
  benchmark: 'imaging-io';
  repetitions: number;
  totalSeconds: number;
  input: { path: string; dims: number[] };
  gzip: { mixsegLevel: number | null; nibabelDefaultCompressLevel?: number | null };
  contestants: {
    id: string;
    label: string;
    error?: string;
    summary?: Pick<
      ContestantSummary,
      | 'coldReadMs'
      | 'medianWarmReadMs'
      | 'medianWriteLabelsMs'
      | 'medianWriteProbabilitiesMs'
      | 'medianWritePerClassMs'
      | 'peakRssKiB'
    >;
  }[];
}

type Summary = NonNullable<ImagingIoReportInput['contestants'][number]['summary']>;

/** The NIfTI I/O section, or a note that it was not run. */
export function imagingIoSection(output: ImagingIoReportInput | undefined, source: string): ReportSection {
  const heading = '## NIfTI reading and writing';
  if (!output) {
    return {
      markdown: `${heading}\n\nNot run: \`${source}\` is missing (\`pnpm bench imaging-io\` writes it).\n`,
      charts: [],
      headline: [],
    };
  }
  const mixseg = output.contestants.find((c) => c.id === 'mixseg');
  const others = output.contestants.filter((c) => c.id !== 'mixseg');
  const operations: [string, (s: Summary) => number][] = [
    ['read, first call (cold)', (s) => s.coldReadMs],
    ['read, warm', (s) => s.medianWarmReadMs],
    ['write label map (uint8 .nii.gz)', (s) => s.medianWriteLabelsMs],
    ['write probabilities, one 4-D .nii.gz', (s) => s.medianWriteProbabilitiesMs],
    ['write probabilities, 3 x 3-D .nii.gz', (s) => s.medianWritePerClassMs],
    ['peak RSS (MiB)', (s) => s.peakRssKiB / 1024],
  ];
  const headers = ['operation', 'mixseg', ...others.flatMap((o) => [o.label, `mixseg / ${o.label}`])];
  const rows = operations.map(([name, pick]) => {
    const mine = mixseg?.summary ? pick(mixseg.summary) : Number.NaN;
    return [
      name,
      formatNumber(mine),
      ...others.flatMap((o) => {
        const theirs = o.summary ? pick(o.summary) : Number.NaN;
        return [formatNumber(theirs), formatNumber(mine / theirs)];
      }),
    ];
  });
  const lines = [
    heading,
    '',
    `${output.input.path.replace(/.*shared\/data/, '../shared/data')} (${output.input.dims.join(' x ')}), ` +
      `times in ms, medians of ${output.repetitions} repetitions in one process per tool (so the ratios are ` +
      `ratios of medians). gzip: mixseg level ${output.gzip.mixsegLevel ?? '?'}, nibabel level ` +
      `${output.gzip.nibabelDefaultCompressLevel ?? '?'} by default (nibabel@${output.gzip.mixsegLevel ?? '?'}: at mixseg's level).`,
    '',
    markdownTable(headers, rows, new Set(headers.map((_, i) => i).filter((i) => i > 0))),
    '',
    ...output.contestants.filter((c) => c.error).map((c) => `- ${c.label} failed: ${c.error}`),
  ];
  return { markdown: lines.join('\n'), charts: [], headline: [] };
}
