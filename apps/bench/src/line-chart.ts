/**
 * Line charts as hand-written SVG: one polyline (with a marker per point) per series, linear or
 * log axes, a legend beside the plot, and optional power-law guides (on log-log axes a cost
 * proportional to N^p is a straight line of slope p, so a dashed slope-1 line shows at a glance
 * whether a cost grows linearly).
 */
import { type AxisScale, axisTicks, formatTick, linearAxis, logAxis } from './chart-scale.ts';
import { coordinate, escapeXml, FONT, paletteColour } from './svg-style.ts';

/** One line of a chart. */
export interface LineSeries {
  name: string;
  /** [x, y] pairs; drawn in x order. Points a log axis cannot show (<= 0, NaN) are left out. */
  points: [number, number][];
  /** Default: the palette colour of the series' index. */
  colour?: string;
  dashed?: boolean;
}

/** A dashed reference line y = c x^slope through one point. */
export interface PowerGuide {
  slope: number;
  through: [number, number];
  label: string;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  xScale: 'linear' | 'log';
  yScale: 'linear' | 'log';
  guides?: PowerGuide[];
  /** Pixels; defaults 760 x 420. */
  width?: number;
  height?: number;
}

const MARGIN = { top: 36, right: 230, bottom: 52, left: 70 };

/** The points of a series that the axes can show, sorted by x. */
export function drawablePoints(
  series: LineSeries,
  xScale: 'linear' | 'log',
  yScale: 'linear' | 'log',
): [number, number][] {
  const ok = (value: number, kind: 'linear' | 'log'): boolean =>
    Number.isFinite(value) && (kind === 'linear' || value > 0);
  return series.points.filter(([x, y]) => ok(x, xScale) && ok(y, yScale)).sort((a, b) => a[0] - b[0]);
}

function scaleFor(kind: 'linear' | 'log', values: number[], range: [number, number]): AxisScale {
  return kind === 'log' ? logAxis(values, range) : linearAxis(values, range);
}

/**
 * Renders a line chart. Every series with at least one drawable point gets one `<polyline>`
 * (its points in x order) and one `<circle>` per point; series with none are listed in the legend
 * as "(no data)".
 */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const plot = {
    left: MARGIN.left,
    right: width - MARGIN.right,
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
  };
  const drawable = options.series.map((s) => drawablePoints(s, options.xScale, options.yScale));
  const xs = drawable.flat().map(([x]) => x);
  const ys = drawable.flat().map(([, y]) => y);
  const x = scaleFor(options.xScale, xs, [plot.left, plot.right]);
  const y = scaleFor(options.yScale, ys, [plot.bottom, plot.top]);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${plot.left}" y="20" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<clipPath id="plot-area"><rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}"/></clipPath>`,
  );
  // Grid and tick labels.
  for (const tick of axisTicks(x)) {
    const px = coordinate(x(tick));
    parts.push(
      `<line class="grid" x1="${px}" y1="${plot.top}" x2="${px}" y2="${plot.bottom}" stroke="#e5e5e5"/>`,
      `<text x="${px}" y="${plot.bottom + 16}" text-anchor="middle">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  for (const tick of axisTicks(y)) {
    const py = coordinate(y(tick));
    parts.push(
      `<line class="grid" x1="${plot.left}" y1="${py}" x2="${plot.right}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${plot.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  parts.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#888888"/>`,
    `<text x="${(plot.left + plot.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  // Guides, clipped to the plot area.
  const legend: string[] = [];
  let legendRow = 0;
  const legendY = (): number => plot.top + 8 + 18 * legendRow++;
  for (const guide of options.guides ?? []) {
    if (options.xScale !== 'log' || options.yScale !== 'log') continue;
    const [gx, gy] = guide.through;
    if (!(gx > 0 && gy > 0)) continue;
    const at = (value: number): number => gy * (value / gx) ** guide.slope;
    const [x0, x1] = x.domain() as [number, number];
    parts.push(
      `<line class="guide" x1="${coordinate(x(x0))}" y1="${coordinate(y(at(x0)))}" x2="${coordinate(x(x1))}" y2="${coordinate(y(at(x1)))}" stroke="#999999" stroke-dasharray="2 4" clip-path="url(#plot-area)"/>`,
    );
    const ly = legendY();
    legend.push(
      `<line x1="${plot.right + 12}" y1="${ly}" x2="${plot.right + 36}" y2="${ly}" stroke="#999999" stroke-dasharray="2 4"/>`,
      `<text x="${plot.right + 42}" y="${ly}" dominant-baseline="middle">${escapeXml(guide.label)}</text>`,
    );
  }
  options.series.forEach((series, index) => {
    const colour = series.colour ?? paletteColour(index);
    const points = drawable[index]!;
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    if (points.length > 0) {
      const list = points.map(([px, py]) => `${coordinate(x(px))},${coordinate(y(py))}`).join(' ');
      parts.push(
        `<polyline class="series" data-series="${escapeXml(series.name)}" points="${list}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`,
      );
      for (const [px, py] of points) {
        parts.push(
          `<circle cx="${coordinate(x(px))}" cy="${coordinate(y(py))}" r="3" fill="${colour}"><title>${escapeXml(`${series.name}: ${formatTick(px)}, ${formatTick(Number(py.toPrecision(3)))}`)}</title></circle>`,
        );
      }
    }
    const ly = legendY();
    legend.push(
      `<line x1="${plot.right + 12}" y1="${ly}" x2="${plot.right + 36}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${plot.right + 42}" y="${ly}" dominant-baseline="middle">${escapeXml(series.name)}${points.length === 0 ? ' (no data)' : ''}</text>`,
    );
  });
  parts.push(...legend, '</svg>');
  return `${parts.join('\n')}\n`;
}
