/**
 * Grouped bar charts as hand-written SVG: one group per category (a tissue class, a dataset, an
 * input), one bar per series (a method) in each group, a linear axis from zero (or a logarithmic
 * one, for times that span orders of magnitude), and a legend.
 * Missing values leave a gap marked "n/a", never a zero-height bar that reads as a measurement.
 */
import { axisTicks, formatTick, linearAxis, logAxis } from './chart-scale.ts';
import { coordinate, escapeXml, FONT, paletteColour } from './svg-style.ts';

/** One category: a value per series, in the order of {@link BarChartOptions.seriesNames}. */
export interface BarGroup {
  label: string;
  values: (number | undefined)[];
}

/** Options of {@link groupedBarChartSvg}. */
export interface BarChartOptions {
  title: string;
  yLabel: string;
  seriesNames: string[];
  groups: BarGroup[];
  /**
   * Default: from 0 to a nice value above the largest (logarithmic: from a power of ten a decade
   * below the smallest to one at or above the largest).
   */
  yDomain?: [number, number];
  /** A base-10 logarithmic axis, the bars rising from its lower end. Default false. */
  logarithmic?: boolean;
  /** Colour per series; default the palette. */
  colours?: string[];
  /** Pixels; defaults 760 x 380. */
  width?: number;
  height?: number;
}

const MARGIN = { top: 36, right: 260, bottom: 56, left: 64 };

/**
 * Renders a grouped bar chart: one `<rect class="bar">` per finite value, one "n/a" mark per
 * missing one.
 */
export function groupedBarChartSvg(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 380;
  const plot = {
    left: MARGIN.left,
    right: width - MARGIN.right,
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
  };
  const values = options.groups
    .flatMap((g) => g.values)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  // on a log axis the bars rise from a decade below the smallest value's, so that none is a sliver
  const logarithmicDomain = (): [number, number] => {
    const [low, high] = logAxis(values, [0, 1]).domain() as [number, number];
    return [low / 10, high];
  };
  const range: [number, number] = [plot.bottom, plot.top];
  const y = options.logarithmic
    ? logAxis(values, range, options.yDomain ?? logarithmicDomain())
    : linearAxis(values, range, options.yDomain);
  const [yLow, yHigh] = y.domain() as [number, number];
  const nSeries = Math.max(1, options.seriesNames.length);
  const groupWidth = (plot.right - plot.left) / Math.max(1, options.groups.length);
  const barWidth = (groupWidth * 0.8) / nSeries;
  const colour = (index: number): string => options.colours?.[index] ?? paletteColour(index);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${plot.left}" y="20" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (const tick of axisTicks(y)) {
    const py = coordinate(y(tick));
    parts.push(
      `<line class="grid" x1="${plot.left}" y1="${py}" x2="${plot.right}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${plot.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  const base = options.logarithmic ? plot.bottom : y(Math.max(0, yLow));
  options.groups.forEach((group, g) => {
    const left = plot.left + g * groupWidth + groupWidth * 0.1;
    group.values.forEach((value, s) => {
      const bx = left + s * barWidth;
      if (value === undefined || !Number.isFinite(value)) {
        parts.push(
          `<text class="missing" x="${coordinate(bx + barWidth / 2)}" y="${coordinate(base - 4)}" text-anchor="middle" font-size="9" fill="#888888">n/a</text>`,
        );
        return;
      }
      const top = y(Math.min(Math.max(value, yLow), yHigh));
      parts.push(
        `<rect class="bar" x="${coordinate(bx)}" y="${coordinate(Math.min(top, base))}" width="${coordinate(barWidth * 0.92)}" height="${coordinate(Math.abs(base - top))}" fill="${colour(s)}"><title>${escapeXml(`${options.seriesNames[s] ?? ''}, ${group.label}: ${Number(value.toPrecision(4))}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${coordinate(plot.left + (g + 0.5) * groupWidth)}" y="${plot.bottom + 16}" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  parts.push(
    `<line x1="${plot.left}" y1="${coordinate(base)}" x2="${plot.right}" y2="${coordinate(base)}" stroke="#888888"/>`,
    `<text transform="translate(16 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  options.seriesNames.forEach((name, s) => {
    const ly = plot.top + 8 + 18 * s;
    parts.push(
      `<rect x="${plot.right + 12}" y="${ly - 6}" width="14" height="12" fill="${colour(s)}"/>`,
      `<text x="${plot.right + 32}" y="${ly}" dominant-baseline="middle">${escapeXml(name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
