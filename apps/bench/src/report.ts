/**
 * `pnpm bench report`: renders bench-results/report.md and its SVG charts from the JSON the
 * benchmarks wrote (bench-results/quick/ with --quick), with the machine, the date and the git
 * revision of every run at the top, a headline table, and one section per benchmark (or a note
 * that it was not run). With --readme it also replaces the headline and accuracy blocks of README.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CliOutput } from './cli-segment-types.ts';
import type { CoreEmOutput } from './core-em-types.ts';
import { markdownTable } from './markdown-table.ts';
import { type GitRevision, type MachineInfo, repoRoot, resultsDirectory } from './measure.ts';
import { cliSection } from './report-cli.ts';
import { coreEmSection } from './report-core-em.ts';
import { renderCrossDatasetTable } from './report-cross-dataset.ts';
import { type ImagingIoReportInput, imagingIoSection } from './report-imaging-io.ts';
import { segmentationSection } from './report-segmentation.ts';
import { viewerSection } from './report-viewer.ts';
import type { SegmentationOutput } from './segmentation-types.ts';
import type { HeadlineRow, ReportChart } from './types.ts';
import type { ViewerOutput } from './viewer.ts';

/** The results a report is made of; a missing one becomes a "not run" note. */
export interface ReportInputs {
  coreEm?: CoreEmOutput;
  segmentation?: SegmentationOutput;
  cli?: CliOutput;
  imagingIo?: ImagingIoReportInput;
  viewer?: ViewerOutput;
  /** Files that exist but could not be used, and why. */
  problems: string[];
}

/** A rendered report: report.md, its charts, and the headline block for the README. */
export interface RenderedReport {
  markdown: string;
  charts: ReportChart[];
  headline: string;
  /** The cross-dataset accuracy table (mixseg's defaults and the peers), for README's Accuracy section. */
  accuracy: string | undefined;
}

/** Options of {@link buildReport}. */
export interface BuildReportOptions {
  quick: boolean;
  /** When the report is rendered (ISO 8601). */
  renderedAt: string;
  /** Where the JSON files were read from, for the "not run" notes (e.g. bench-results/). */
  sourceDirectory: string;
}

export const HEADLINE_START = '<!-- bench-headline:start -->';
export const HEADLINE_END = '<!-- bench-headline:end -->';
export const ACCURACY_START = '<!-- bench-accuracy:start -->';
export const ACCURACY_END = '<!-- bench-accuracy:end -->';

const FILES = {
  coreEm: 'core-em.json',
  segmentation: 'segmentation.json',
  cli: 'cli.json',
  imagingIo: 'imaging-io.json',
  viewer: 'viewer.json',
} as const;

/** A benchmark's JSON, if it exists and was written by this version of the benchmark. */
function readResult<T>(
  directory: string,
  file: string,
  benchmark: string,
  current: (data: Record<string, unknown>) => boolean,
  problems: string[],
): T | undefined {
  const path = join(directory, file);
  if (!existsSync(path)) return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    problems.push(`${file} is not valid JSON (${(error as Error).message}): its section is left out`);
    return undefined;
  }
  if (data['benchmark'] !== benchmark || !current(data)) {
    problems.push(
      `${file} was written by an older version of the benchmark: re-run \`pnpm bench ${benchmark}\``,
    );
    return undefined;
  }
  return data as T;
}

/** Reads every benchmark's JSON from a results directory. */
export function loadReportInputs(directory: string): ReportInputs {
  const problems: string[] = [];
  const coreEm = readResult<CoreEmOutput>(
    directory,
    FILES.coreEm,
    'core-em',
    (d) =>
      Array.isArray(d['cases']) &&
      (d['cases'] as { covarianceType?: string }[]).every((c) => c.covarianceType),
    problems,
  );
  const segmentation = readResult<SegmentationOutput>(
    directory,
    FILES.segmentation,
    'segmentation',
    (d) => Array.isArray(d['datasets']),
    problems,
  );
  const cli = readResult<CliOutput>(directory, FILES.cli, 'cli', (d) => Array.isArray(d['single']), problems);
  const imagingIo = readResult<ImagingIoReportInput>(
    directory,
    FILES.imagingIo,
    'imaging-io',
    (d) => Array.isArray(d['contestants']),
    problems,
  );
  const viewer = readResult<ViewerOutput>(
    directory,
    FILES.viewer,
    'viewer',
    (d) => typeof d['timings'] === 'object' && d['timings'] !== null,
    problems,
  );
  return {
    ...(coreEm ? { coreEm } : {}),
    ...(segmentation ? { segmentation } : {}),
    ...(cli ? { cli } : {}),
    ...(imagingIo ? { imagingIo } : {}),
    ...(viewer ? { viewer } : {}),
    problems,
  };
}

function describeMachine(machine: MachineInfo): string {
  return `${machine.cores} cores (${machine.cpuModel}), ${machine.totalMemoryGiB} GiB, Node ${machine.node}, ${machine.platform} ${machine.arch}`;
}

function describeGit(git: GitRevision | undefined): string {
  if (!git?.commit) return 'unknown';
  return `${git.shortCommit}${git.branch && git.branch !== 'HEAD' ? ` (${git.branch})` : ''}${git.uncommitted.length > 0 ? ', with uncommitted changes' : ''}`;
}

function headlineTable(rows: HeadlineRow[]): string {
  return markdownTable(
    ['measure', 'mixseg', 'scikit-learn', 'dipy', 'mixseg / scikit-learn'],
    rows.map((r) => [r.measure, r.mixseg, r.sklearn, r.dipy, r.ratio]),
    new Set([4]),
  );
}

/** Renders the report from loaded results. Pure: no files are read or written. */
export function buildReport(inputs: ReportInputs, options: BuildReportOptions): RenderedReport {
  const source = (file: string) => `${options.sourceDirectory}${file}`;
  const sections = [
    coreEmSection(inputs.coreEm, source(FILES.coreEm)),
    segmentationSection(inputs.segmentation, source(FILES.segmentation)),
    cliSection(inputs.cli, source(FILES.cli)),
    imagingIoSection(inputs.imagingIo, source(FILES.imagingIo)),
    viewerSection(inputs.viewer, source(FILES.viewer)),
  ];
  const runs: [string, { machine?: MachineInfo; git?: GitRevision } | undefined][] = [
    ['core-em', inputs.coreEm],
    ['segmentation', inputs.segmentation],
    ['cli', inputs.cli],
    ['imaging-io', inputs.imagingIo as { machine?: MachineInfo; git?: GitRevision } | undefined],
    ['viewer', inputs.viewer],
  ];
  // The headline's runs: the viewer has no row there (its section has its own figures).
  const ran = runs.filter(([name, output]) => output?.machine && name !== 'viewer');
  const dipyAll = inputs.segmentation?.peers.dipy.requested || inputs.cli?.peers.dipyRequested;
  const command = `pnpm bench${options.quick ? ' --quick' : ''}${dipyAll ? ' --dipy' : ''}`;
  const headlineRows = sections.flatMap((s) => s.headline);
  const machines = [...new Set(ran.map(([, output]) => describeMachine(output!.machine!)))];
  const headlineBlock = [
    headlineRows.length > 0 ? headlineTable(headlineRows) : '_No benchmark results yet: run `pnpm bench`._',
    '',
    `Measured on ${machines.join('; ') || 'an unknown machine'}, ` +
      `${ran.map(([name, output]) => `${name} ${output!.machine!.date.slice(0, 10)} at ${describeGit(output!.git)}`).join(', ') || 'no run'}. ` +
      'Ratios below 1: mixseg is faster or smaller.' +
      (inputs.segmentation
        ? ' Dice: mean of CSF, GM, WM; mixseg with its defaults (ppf), and in brackets its best prior when that is another.'
        : ''),
  ].join('\n');
  const lines = [
    `# mixseg benchmarks${options.quick ? ' (quick smoke run: small data, single runs, not for quoting)' : ''}`,
    '',
    `Rendered ${options.renderedAt} by \`pnpm bench report${options.quick ? ' --quick' : ''}\` from \`${options.sourceDirectory}*.json\`.`,
    `Reproduce: \`pnpm install\`, then \`${command}\` runs every benchmark and renders this page ` +
      `(\`pnpm bench report${options.quick ? ' --quick' : ''}\` re-renders it from the JSON alone; \`pnpm bench --help\` lists the options).`,
    '',
    markdownTable(
      ['benchmark', 'run at', 'git revision', 'machine'],
      runs.map(([name, output]) =>
        output?.machine
          ? [
              name,
              output.machine.date.replace('T', ' ').slice(0, 16),
              describeGit(output.git),
              describeMachine(output.machine),
            ]
          : [name, 'not run', '', ''],
      ),
    ),
    '',
    ...(inputs.problems.length > 0 ? [...inputs.problems.map((p) => `- **${p}**`), ''] : []),
    '## Headline',
    '',
    headlineBlock,
    '',
    ...sections.map((s) => s.markdown),
  ];
  const segmentation = inputs.segmentation;
  return {
    markdown: `${lines.join('\n').trimEnd()}\n`,
    charts: sections.flatMap((s) => s.charts),
    headline: headlineBlock,
    accuracy: segmentation
      ? [
          renderCrossDatasetTable(segmentation),
          '',
          `Dice on the reference's voxels; mean over the subjects, the worst subject in brackets; in bold the best of ` +
            `the three. s, MiB: segment seconds and peak RSS per volume (medians). From \`pnpm bench segmentation` +
            `${segmentation.peers.dipy.requested ? ' --dipy' : ''}\`, ${segmentation.machine.date.slice(0, 10)} at ` +
            `${describeGit(segmentation.git)}.`,
        ].join('\n')
      : undefined,
  };
}

/**
 * `text` with the block between two markers replaced.
 *
 * @throws Error when the markers are missing or out of order
 */
export function replaceBlock(text: string, startMarker: string, endMarker: string, block: string): string {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${startMarker} ... ${endMarker} block to replace`);
  }
  return `${text.slice(0, start + startMarker.length)}\n${block}\n${text.slice(end)}`;
}

/**
 * README.md with the block between {@link HEADLINE_START} and {@link HEADLINE_END} replaced.
 *
 * @throws Error when the markers are missing or out of order
 */
export function replaceHeadline(readme: string, headline: string): string {
  return replaceBlock(readme, HEADLINE_START, HEADLINE_END, headline);
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  quick: boolean;
  /** Also replace the headline block of README.md. */
  readme?: boolean;
  log?: (line: string) => void;
}

/** Renders bench-results/[quick/]report.md and its charts (old charts are removed first). */
export function writeReport(options: WriteReportOptions): string {
  const log = options.log ?? ((line: string) => console.log(line));
  const directory = resultsDirectory(options.quick);
  mkdirSync(directory, { recursive: true });
  const inputs = loadReportInputs(directory);
  const report = buildReport(inputs, {
    quick: options.quick,
    renderedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    sourceDirectory: `${relative(repoRoot, directory)}/`,
  });
  for (const name of readdirSync(directory)) {
    if (name.endsWith('.svg')) rmSync(join(directory, name));
  }
  for (const chart of report.charts) writeFileSync(join(directory, chart.file), chart.svg);
  const path = join(directory, 'report.md');
  writeFileSync(path, report.markdown);
  for (const problem of inputs.problems) log(`NOTE: ${problem}`);
  log(`wrote ${relative(repoRoot, path)} and ${report.charts.length} chart(s)`);
  if (options.readme) {
    if (options.quick)
      throw new Error('--readme takes the numbers of a full run: run `pnpm bench report --readme`');
    const readmePath = join(repoRoot, 'README.md');
    let readme = replaceHeadline(readFileSync(readmePath, 'utf8'), report.headline);
    if (report.accuracy) readme = replaceBlock(readme, ACCURACY_START, ACCURACY_END, report.accuracy);
    writeFileSync(readmePath, readme);
    log(`updated the headline${report.accuracy ? ' and accuracy blocks' : ' block'} of README.md`);
  }
  return path;
}
