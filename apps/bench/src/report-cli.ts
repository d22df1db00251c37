/**
 * The report's end-to-end section: `mixseg segment` against the peers doing the same job (read,
 * fit, write labels and probability maps) on a 2 mm and a 1 mm volume, and batch throughput with
 * one and two jobs.
 */
import { groupedBarChartSvg } from './bar-chart.ts';
import type { CliOutput, EndToEndTool } from './cli-segment-types.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber } from './measure.ts';
import { paletteColour } from './svg-style.ts';
import type { HeadlineRow, ReportChart, ReportSection } from './types.ts';

const TOOLS: EndToEndTool[] = ['mixseg', 'sklearn', 'dipy'];
const TOOL_NAMES: Record<EndToEndTool, string> = {
  mixseg: 'mixseg segment (defaults)',
  sklearn: 'scikit-learn GaussianMixture',
  dipy: 'dipy HMRF',
};
const TOOL_COLOURS: Record<EndToEndTool, string> = {
  mixseg: paletteColour(4),
  sklearn: paletteColour(1),
  dipy: paletteColour(2),
};

function singleChart(output: CliOutput): ReportChart {
  const tools = TOOLS.filter((t) => output.single.some((s) => s.tool === t));
  return {
    file: 'cli-single.svg',
    svg: groupedBarChartSvg({
      title: 'One volume, end to end (read, segment, write)',
      yLabel: 'wall seconds (log scale)',
      logarithmic: true,
      seriesNames: tools.map((t) => TOOL_NAMES[t]),
      colours: tools.map((t) => TOOL_COLOURS[t]),
      groups: output.inputs.map((input) => ({
        label: input.id === '2mm' ? '2 mm (MNI152)' : '1 mm (SRI24)',
        values: tools.map((t) => {
          const found = output.single.find((s) => s.input === input.id && s.tool === t);
          return found && Number.isFinite(found.medianSeconds) ? found.medianSeconds : undefined;
        }),
      })),
    }),
  };
}

function batchChart(output: CliOutput): ReportChart {
  const tools = TOOLS.filter((t) => output.batch.results.some((b) => b.tool === t));
  return {
    file: 'cli-batch.svg',
    svg: groupedBarChartSvg({
      title: `Batch of ${output.batch.size} x ${output.batch.input} volumes: throughput`,
      yLabel: 'volumes per minute',
      seriesNames: tools.map((t) => TOOL_NAMES[t]),
      colours: tools.map((t) => TOOL_COLOURS[t]),
      groups: [1, 2].map((jobs) => ({
        label: `--jobs ${jobs}`,
        values: tools.map(
          (t) => output.batch.results.find((b) => b.tool === t && b.jobs === jobs)?.volumesPerMinute,
        ),
      })),
    }),
  };
}

function headline(output: CliOutput): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  for (const input of output.inputs) {
    const of = (tool: EndToEndTool) => output.single.find((s) => s.input === input.id && s.tool === tool);
    const cell = (tool: EndToEndTool): string => {
      const s = of(tool);
      if (!s || !Number.isFinite(s.medianSeconds)) return tool === 'dipy' ? 'not run' : 'n/a';
      return `${formatNumber(s.medianSeconds)} s, ${formatNumber(s.medianPeakRssMiB)} MiB`;
    };
    const ratio = output.ratios.find((r) => r.input === input.id && r.peer === 'sklearn');
    rows.push({
      measure: `mixseg segment, end to end, ${input.id === '2mm' ? '2 mm MNI152' : '1 mm SRI24'} (wall, peak RSS)`,
      mixseg: cell('mixseg'),
      sklearn: cell('sklearn'),
      dipy: cell('dipy'),
      ratio: ratio ? formatNumber(ratio.time.median) : '',
    });
  }
  const batch = (tool: EndToEndTool, jobs: number) =>
    output.batch.results.find((b) => b.tool === tool && b.jobs === jobs)?.volumesPerMinute;
  rows.push({
    measure: `Batch of ${output.batch.size} x ${output.batch.input}, --jobs 2 (volumes / min; speed-up over --jobs 1)`,
    mixseg: `${formatNumber(batch('mixseg', 2) ?? Number.NaN)} (${formatNumber(output.batch.speedUps.mixseg ?? Number.NaN)}x)`,
    sklearn:
      batch('sklearn', 2) === undefined
        ? 'n/a'
        : `${formatNumber(batch('sklearn', 2)!)} (${formatNumber(output.batch.speedUps.sklearn ?? Number.NaN)}x)`,
    dipy: '',
    ratio: formatNumber(output.batch.ratios.find((r) => r.jobs === 2)?.time ?? Number.NaN),
  });
  return rows;
}

/** The end-to-end section, or a note that it was not run. */
export function cliSection(output: CliOutput | undefined, source: string): ReportSection {
  const heading = '## End to end: `mixseg segment` and the same job by the peers';
  if (!output) {
    return {
      markdown: `${heading}\n\nNot run: \`${source}\` is missing (\`pnpm bench cli\` writes it).\n`,
      charts: [],
      headline: [],
    };
  }
  const charts = [singleChart(output), batchChart(output)];
  const inputName = (id: string) => output.inputs.find((i) => i.id === id)?.name ?? id;
  const single = markdownTable(
    ['input', 'tool', 'wall s', 'peak RSS MiB', 'CPU %', 'runs', 'mixseg / tool time', 'mixseg / tool peak'],
    output.single.map((s) => {
      const ratio = output.ratios.find((r) => r.input === s.input && r.peer === s.tool);
      return [
        inputName(s.input),
        TOOL_NAMES[s.tool],
        formatNumber(s.medianSeconds),
        formatNumber(s.medianPeakRssMiB, 4),
        formatNumber(s.medianCpuPercent, 3),
        String(s.runs.filter((r) => !r.error).length),
        ratio ? formatNumber(ratio.time.median) : '',
        ratio ? formatNumber(ratio.peak.median) : '',
      ];
    }),
    new Set([2, 3, 4, 5, 6, 7]),
  );
  const batch = markdownTable(
    [
      'tool',
      'jobs',
      'wall s',
      'peak RSS MiB',
      'CPU %',
      'volumes / min',
      'speed-up over --jobs 1',
      'mixseg / sklearn time',
    ],
    output.batch.results.map((b) => [
      TOOL_NAMES[b.tool],
      String(b.jobs),
      b.run.error ? 'failed' : formatNumber(b.run.seconds),
      formatNumber(b.run.peakRssMiB ?? Number.NaN, 4),
      b.run.cpuSeconds === undefined ? 'n/a' : formatNumber((100 * b.run.cpuSeconds) / b.run.seconds, 3),
      formatNumber(b.volumesPerMinute),
      b.jobs === 1 ? '1' : formatNumber(output.batch.speedUps[b.tool] ?? Number.NaN),
      b.tool === 'mixseg'
        ? formatNumber(output.batch.ratios.find((r) => r.jobs === b.jobs)?.time ?? Number.NaN)
        : '',
    ]),
    new Set([1, 2, 3, 4, 5, 6, 7]),
  );
  const lines = [
    heading,
    '',
    `Whole processes from spawn to exit (start-up, reading, fitting, writing the label map and 3 probability maps), ` +
      `one volume: ${output.repetitions === 1 ? 'single runs' : `medians of ${output.repetitions} runs (dipy: one run)`}, ratios mixseg / peer paired within a repetition; batches: one run each. ` +
      `Run took ${formatNumber(output.totalSeconds / 60, 2)} min.`,
    '',
    `![One volume, end to end](${charts[0]!.file})`,
    '',
    single,
    '',
    `![Batch throughput](${charts[1]!.file})`,
    '',
    batch,
    '',
    ...(output.notes.length > 0 ? ['Notes from the run:', '', ...output.notes.map((n) => `- ${n}`), ''] : []),
    'Method:',
    '',
    ...Object.entries(output.methodology).map(([key, text]) => `- ${key}: ${text}`),
    '',
  ];
  return { markdown: lines.join('\n'), charts, headline: headline(output) };
}
