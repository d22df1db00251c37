/**
 * The report's EM core section: time per iteration and peak memory against N on log-log axes
 * (with a slope-1 guide: parallel lines grow linearly), the fitted exponent of each line, and the
 * tables under the charts.
 */
import type { CovarianceType } from '@mixseg/core';
import type { CaseRecord, CoreEmOutput, CorePath } from './core-em-types.ts';
import { markdownTable } from './markdown-table.ts';
import { formatNumber } from './measure.ts';
import {
  COVARIANCES,
  covarianceChart,
  formatCount,
  type Measure,
  memoryChart,
  PATHS,
  scalingExponent,
  sweepPoints,
  timeChartD1,
} from './report-core-em-charts.ts';
import type { HeadlineRow, ReportSection } from './types.ts';

function sweepTable(
  output: CoreEmOutput,
  nFeatures: number,
  covarianceType: CovarianceType,
  measure: Measure,
): string {
  const sizes = [...new Set(output.cases.map((c) => c.nSamples))].sort((a, b) => a - b);
  const paths: (CorePath | 'sklearn')[] = [...PATHS, 'sklearn'];
  const rows: string[][] = [];
  const largest = output.cases.filter(
    (c) => c.nFeatures === nFeatures && c.covarianceType === covarianceType && c.nSamples === sizes.at(-1),
  )[0];
  for (const path of paths) {
    const points = sweepPoints(output.cases, nFeatures, covarianceType, path, measure);
    if (points.length === 0) continue;
    const byN = new Map(points);
    const exponent = scalingExponent(points);
    const summary = largest?.contestants.find((c) => c.name === path)?.summary;
    const sklearnLargest = sweepPoints(output.cases, nFeatures, covarianceType, 'sklearn', measure).at(-1);
    const ratio =
      path === 'sklearn' || !largest
        ? ''
        : formatNumber(
            measure === 'time'
              ? (summary?.ratioToSklearn.median ?? Number.NaN)
              : measure === 'peak'
                ? (summary?.peakRatioToSklearn.median ?? Number.NaN)
                : (byN.get(sizes.at(-1)!) ?? Number.NaN) / (sklearnLargest?.[1] ?? Number.NaN),
          );
    rows.push([
      path === 'sklearn' ? 'scikit-learn' : `mixseg ${path}`,
      ...sizes.map((n) => (byN.has(n) ? formatNumber(byN.get(n)!) : '')),
      ...(measure === 'peak' ? [] : [formatNumber(exponent.slope, 2)]),
      ratio,
    ]);
  }
  const headers = [
    'path',
    ...sizes.map((n) => `N = ${formatCount(n)}`),
    ...(measure === 'peak'
      ? []
      : [`exponent p (${scalingExponent(sizes.map((n) => [n, 1] as [number, number])).over})`]),
    `mixseg / sklearn at N = ${formatCount(sizes.at(-1) ?? 0)}${measure === 'growth' ? ' (ratio of medians)' : ''}`,
  ];
  return markdownTable(headers, rows, new Set(headers.map((_, i) => i).filter((i) => i > 0)));
}

function detailTable(output: CoreEmOutput): string {
  const headers = [
    'N',
    'D',
    'covariance',
    'path',
    'reps',
    'ms / iteration',
    'set-up ms',
    'peak MiB',
    'mixseg / sklearn time',
    'mixseg / sklearn peak',
    '|dLL|',
  ];
  const rows: string[][] = [];
  for (const c of output.cases) {
    for (const contestant of c.contestants) {
      const s = contestant.summary;
      rows.push([
        formatCount(c.nSamples),
        String(c.nFeatures),
        c.covarianceType,
        contestant.name,
        String(contestant.runs.length),
        s ? formatNumber(s.medianIterationMs) : 'failed',
        s ? formatNumber(s.medianFit0Ms) : '',
        s ? formatNumber(s.peakRssKiB / 1024) : '',
        s ? formatNumber(s.ratioToSklearn.median) : '',
        s ? formatNumber(s.peakRatioToSklearn.median) : '',
        s?.logLikelihoodDifference === undefined ? '' : s.logLikelihoodDifference.toExponential(1),
      ]);
    }
    const sk = c.sklearn.summary;
    rows.push([
      formatCount(c.nSamples),
      String(c.nFeatures),
      c.covarianceType,
      'scikit-learn',
      String(c.sklearn.runs.length),
      sk ? formatNumber(sk.medianIterationMs) : c.sklearn.skipped ? 'skipped' : 'failed',
      '',
      sk ? formatNumber(sk.peakRssKiB / 1024) : '',
      '',
      '',
      '',
    ]);
  }
  return markdownTable(headers, rows, new Set([0, 1, 4, 5, 6, 7, 8, 9, 10]));
}

function headline(output: CoreEmOutput): HeadlineRow[] {
  const largest = Math.max(...output.cases.map((c) => c.nSamples));
  const at = (nFeatures: number) =>
    output.cases.find(
      (c) => c.nSamples === largest && c.nFeatures === nFeatures && c.covarianceType === 'full',
    );
  const rows: HeadlineRow[] = [];
  const n = formatCount(largest);
  const d1 = at(1);
  const d3 = at(3);
  const sklearnMs = (c: CaseRecord | undefined) =>
    c?.sklearn.summary ? `${formatNumber(c.sklearn.summary.medianIterationMs)} ms` : 'n/a';
  const row = (measure: string, c: CaseRecord | undefined, path: CorePath, note = ''): void => {
    const s = c?.contestants.find((x) => x.name === path)?.summary;
    rows.push({
      measure,
      mixseg: s ? `${formatNumber(s.medianIterationMs)} ms${note}` : 'n/a',
      sklearn: sklearnMs(c),
      dipy: '',
      ratio: s ? formatNumber(s.ratioToSklearn.median) : '',
    });
  };
  row(`EM iteration, N = ${n}, D = 1, per voxel (tabulated)`, d1, 'tabulated');
  row(`EM iteration, N = ${n}, D = 1, per voxel with a spatial prior`, d1, 'tabulated+prior');
  row(`EM iteration, N = ${n}, D = 1, weighted histogram`, d1, 'histogram', ' (+ one O(N) binning)');
  row(`EM iteration, N = ${n}, D = 3, full covariance`, d3, 'direct');
  const direct = d1?.contestants.find((x) => x.name === 'direct')?.summary;
  if (d1) {
    rows.push({
      measure: `Peak RSS of the fit, N = ${n}, D = 1 (direct)`,
      mixseg: direct ? `${formatNumber(direct.peakRssKiB / 1024)} MiB` : 'n/a',
      sklearn: d1.sklearn.summary ? `${formatNumber(d1.sklearn.summary.peakRssKiB / 1024)} MiB` : 'n/a',
      dipy: '',
      ratio: direct ? formatNumber(direct.peakRatioToSklearn.median) : '',
    });
  }
  const mine = scalingExponent(sweepPoints(output.cases, 1, 'full', 'direct', 'time'));
  const theirs = scalingExponent(sweepPoints(output.cases, 1, 'full', 'sklearn', 'time'));
  rows.push({
    measure: `Time per iteration grows as N^p (D = 1, per voxel, ${mine.over})`,
    mixseg: `p = ${formatNumber(mine.slope, 2)}`,
    sklearn: `p = ${formatNumber(theirs.slope, 2)}`,
    dipy: '',
    ratio: '',
  });
  return rows;
}

/** The EM core section, or a note that it was not run. */
export function coreEmSection(output: CoreEmOutput | undefined, source: string): ReportSection {
  const heading = '## EM core: time per iteration and memory against N';
  if (!output) {
    return {
      markdown: `${heading}\n\nNot run: \`${source}\` is missing (\`pnpm bench core-em\` writes it).\n`,
      charts: [],
      headline: [],
    };
  }
  const charts = [
    timeChartD1(output.cases),
    covarianceChart(output.cases, 1),
    covarianceChart(output.cases, 3),
    memoryChart(output.cases, 'peak'),
    memoryChart(output.cases, 'growth'),
  ];
  const sizes = [...new Set(output.cases.map((c) => c.nSamples))].sort((a, b) => a - b);
  const repetitions = output.plans
    .map((p) => `${p.repetitions} at N = ${formatCount(p.nSamples)} (${p.maxIter} iterations)`)
    .join(', ');
  const lines = [
    heading,
    '',
    `K = 3 Gaussians fitted to the same data by @mixseg/core and scikit-learn ${output.sklearn.version ?? '(not installed)'}, ` +
      `from the same warm start, for the same number of iterations, N = ${sizes.map(formatCount).join(', ')}. ` +
      `Each contestant runs in a process of its own per repetition (${repetitions}); ` +
      'ratios are mixseg / scikit-learn within a repetition, then the median (below 1: mixseg is faster or smaller). ' +
      `Run took ${formatNumber(output.totalSeconds / 60, 2)} min.`,
    '',
    ...(output.sklearn.available
      ? []
      : [`**scikit-learn skipped:** ${output.sklearn.note ?? 'not installed'}`, '']),
    `![EM time per iteration, D = 1](${charts[0]!.file})`,
    '',
    'Time per iteration (ms), D = 1, full covariance; the exponent p of a power law fitted to each line (p = 1: linear in N):',
    '',
    sweepTable(output, 1, 'full', 'time'),
    '',
    `![EM time per iteration, D = 1, covariance types](${charts[1]!.file})`,
    '',
    `![EM time per iteration, D = 3, covariance types](${charts[2]!.file})`,
    '',
    'Time per iteration (ms), D = 3, per covariance type (direct path; tabulation and the histogram need one integer feature):',
    '',
    markdownTable(
      [
        'covariance',
        ...sizes.map((n) => `N = ${formatCount(n)}`),
        'exponent p',
        'scikit-learn at largest N',
        'mixseg / sklearn',
      ],
      COVARIANCES.map((covarianceType) => {
        const points = new Map(sweepPoints(output.cases, 3, covarianceType, 'direct', 'time'));
        const sk = sweepPoints(output.cases, 3, covarianceType, 'sklearn', 'time').at(-1);
        const largest = output.cases.find(
          (c) => c.nFeatures === 3 && c.covarianceType === covarianceType && c.nSamples === sizes.at(-1),
        );
        return [
          covarianceType,
          ...sizes.map((n) => (points.has(n) ? formatNumber(points.get(n)!) : '')),
          formatNumber(scalingExponent([...points.entries()]).slope, 2),
          sk ? formatNumber(sk[1]) : 'n/a',
          formatNumber(largest?.contestants[0]?.summary?.ratioToSklearn.median ?? Number.NaN),
        ];
      }),
      new Set([1, 2, 3, 4, 5, 6, 7, 8]),
    ),
    '',
    `![Peak RSS against N](${charts[3]!.file})`,
    '',
    'Peak RSS of the whole process (MiB; Node or Python baseline included), D = 1, full covariance:',
    '',
    sweepTable(output, 1, 'full', 'peak'),
    '',
    `![Memory added by the data and the fit](${charts[4]!.file})`,
    '',
    'What the data and the fit add above the process baseline (MiB, peak RSS - RSS before reading; the float32 ' +
      'input is 4 N D bytes, scikit-learn holds it as float64), D = 1, full covariance:',
    '',
    sweepTable(output, 1, 'full', 'growth'),
    '',
    '<details><summary>Every case (medians over repetitions)</summary>',
    '',
    detailTable(output),
    '',
    'set-up ms: the fit with 0 iterations (validation, data summary or histogram binning, one E-step). ' +
      '|dLL|: |mixseg mean log-likelihood - scikit-learn lower_bound_| after the same iterations (a correctness check).',
    '',
    '</details>',
    '',
    'Notes:',
    '',
    ...Object.entries(output.methodology).map(([key, text]) => `- ${key}: ${text}`),
    `- targets (reported, not asserted): ${output.targets.filter((t) => t.pass === true).length} pass, ` +
      `${output.targets.filter((t) => t.pass === false).length} fail, ${output.targets.filter((t) => t.pass === undefined).length} not evaluated (details in the JSON)`,
    '',
  ];
  return { markdown: lines.join('\n'), charts, headline: headline(output) };
}
