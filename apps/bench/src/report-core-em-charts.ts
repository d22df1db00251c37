/**
 * The EM core section's charts: time per iteration and peak memory against N on log-log axes (with
 * a slope-1 guide: parallel lines grow linearly), and the sweep's values and fitted exponents the
 * tables share.
 */
import type { CovarianceType } from '@mixseg/core';
import type { CaseRecord, CorePath } from './core-em-types.ts';
import { type LineSeries, lineChartSvg } from './line-chart.ts';
import { logLogSlope } from './log-log-slope.ts';
import { paletteColour } from './svg-style.ts';
import type { ReportChart } from './types.ts';

const PATH_COLOURS: Record<CorePath | 'sklearn', string> = {
  direct: paletteColour(0),
  tabulated: paletteColour(3),
  'tabulated+prior': paletteColour(6),
  histogram: paletteColour(4),
  sklearn: paletteColour(1),
};

const COVARIANCE_COLOURS: Record<CovarianceType, string> = {
  full: paletteColour(0),
  tied: paletteColour(3),
  diag: paletteColour(4),
  spherical: paletteColour(6),
};

/** The core's paths and the covariance types, in the order of the charts and tables. */
export const PATHS: CorePath[] = ['direct', 'tabulated', 'tabulated+prior', 'histogram'];
export const COVARIANCES: CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];
/** The exponent is fitted over N >= this (fixed per-process overheads bend the lines below). */
const SLOPE_FROM_N = 1e6;

/** `1e7`, `3e6`: N as the tables print it. */
export function formatCount(n: number): string {
  return n.toExponential().replace('+', '');
}

/** Time per iteration (ms), peak RSS (MiB), or peak RSS above the RSS before the data was read (MiB). */
export type Measure = 'time' | 'peak' | 'growth';

function value(c: CaseRecord, path: CorePath | 'sklearn', measure: Measure): number | undefined {
  const s = path === 'sklearn' ? c.sklearn.summary : c.contestants.find((x) => x.name === path)?.summary;
  if (!s) return undefined;
  return measure === 'time'
    ? s.medianIterationMs
    : measure === 'peak'
      ? s.peakRssKiB / 1024
      : s.growthBytes / 2 ** 20;
}

/** [N, value] of one path across the sweep, for one D and covariance type. */
export function sweepPoints(
  cases: readonly CaseRecord[],
  nFeatures: number,
  covarianceType: CovarianceType,
  path: CorePath | 'sklearn',
  measure: Measure,
): [number, number][] {
  const points: [number, number][] = [];
  for (const c of cases) {
    if (c.nFeatures !== nFeatures || c.covarianceType !== covarianceType) continue;
    const v = value(c, path, measure);
    if (v !== undefined && Number.isFinite(v)) points.push([c.nSamples, v]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

/** The fitted exponent over N >= 10^6, or over every N when fewer than two are that large. */
export function scalingExponent(points: [number, number][]): { slope: number; over: string } {
  const large = points.filter(([n]) => n >= SLOPE_FROM_N);
  if (large.length >= 2) return { slope: logLogSlope(large), over: `N >= ${formatCount(SLOPE_FROM_N)}` };
  return { slope: logLogSlope(points), over: 'all N' };
}

function guideThrough(series: LineSeries[]): { slope: number; through: [number, number]; label: string }[] {
  const first = series.find((s) => s.points.length > 0);
  if (!first) return [];
  const last = first.points.at(-1)!;
  return [{ slope: 1, through: last, label: 'slope 1 (cost linear in N)' }];
}

/** D = 1, full covariance: time per iteration of every path and of scikit-learn against N. */
export function timeChartD1(cases: CaseRecord[]): ReportChart {
  const series: LineSeries[] = [
    ...PATHS.map((path) => ({
      name: `mixseg ${path}`,
      points: sweepPoints(cases, 1, 'full', path, 'time'),
      colour: PATH_COLOURS[path],
    })),
    {
      name: 'scikit-learn',
      points: sweepPoints(cases, 1, 'full', 'sklearn', 'time'),
      colour: PATH_COLOURS.sklearn,
    },
  ];
  return {
    file: 'core-em-time-d1.svg',
    svg: lineChartSvg({
      title: 'EM time per iteration, D = 1, full covariance, K = 3',
      xLabel: 'N (samples)',
      yLabel: 'ms per iteration',
      xScale: 'log',
      yScale: 'log',
      series,
      guides: guideThrough(series),
    }),
  };
}

/** One D: time per iteration of the direct path and of scikit-learn, per covariance type, against N. */
export function covarianceChart(cases: CaseRecord[], nFeatures: number): ReportChart {
  const series: LineSeries[] = [
    ...COVARIANCES.map((covarianceType) => ({
      name: `mixseg direct, ${covarianceType}`,
      points: sweepPoints(cases, nFeatures, covarianceType, 'direct', 'time'),
      colour: COVARIANCE_COLOURS[covarianceType],
    })),
    ...COVARIANCES.map((covarianceType) => ({
      name: `scikit-learn, ${covarianceType}`,
      points: sweepPoints(cases, nFeatures, covarianceType, 'sklearn', 'time'),
      colour: COVARIANCE_COLOURS[covarianceType],
      dashed: true,
    })),
  ];
  return {
    file: `core-em-time-d${nFeatures}-covariance.svg`,
    svg: lineChartSvg({
      title: `EM time per iteration, D = ${nFeatures}, every covariance type (per-voxel path)`,
      xLabel: 'N (samples)',
      yLabel: 'ms per iteration',
      xScale: 'log',
      yScale: 'log',
      series,
      guides: guideThrough(series),
    }),
  };
}

/** Full covariance: peak RSS (or its growth over the RSS before the data) of the paths and of scikit-learn against N. */
export function memoryChart(cases: CaseRecord[], pick: 'peak' | 'growth'): ReportChart {
  const series: LineSeries[] = [
    {
      name: 'mixseg D1 direct',
      points: sweepPoints(cases, 1, 'full', 'direct', pick),
      colour: PATH_COLOURS.direct,
    },
    {
      name: 'mixseg D1 tabulated+prior',
      points: sweepPoints(cases, 1, 'full', 'tabulated+prior', pick),
      colour: PATH_COLOURS['tabulated+prior'],
    },
    {
      name: 'mixseg D1 histogram',
      points: sweepPoints(cases, 1, 'full', 'histogram', pick),
      colour: PATH_COLOURS.histogram,
    },
    {
      name: 'mixseg D3 direct',
      points: sweepPoints(cases, 3, 'full', 'direct', pick),
      colour: paletteColour(8),
    },
    {
      name: 'scikit-learn D1',
      points: sweepPoints(cases, 1, 'full', 'sklearn', pick),
      colour: PATH_COLOURS.sklearn,
      dashed: true,
    },
    {
      name: 'scikit-learn D3',
      points: sweepPoints(cases, 3, 'full', 'sklearn', pick),
      colour: paletteColour(2),
      dashed: true,
    },
  ];
  return pick === 'peak'
    ? {
        file: 'core-em-memory.svg',
        svg: lineChartSvg({
          title: 'Peak RSS of the fitting process, full covariance',
          xLabel: 'N (samples)',
          yLabel: 'peak RSS (MiB)',
          xScale: 'log',
          yScale: 'log',
          series,
        }),
      }
    : {
        file: 'core-em-memory-growth.svg',
        svg: lineChartSvg({
          title: 'Memory the data and the fit add (peak RSS - RSS before reading)',
          xLabel: 'N (samples)',
          yLabel: 'MiB',
          xScale: 'log',
          yScale: 'log',
          series,
          guides: guideThrough(series.slice(-2)),
        }),
      };
}
