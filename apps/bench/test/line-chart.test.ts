import { describe, expect, it } from 'vitest';
import { lineChartSvg } from '../src/line-chart.ts';

/** The points attribute of every polyline, as [x, y] pixel pairs. */
function polylines(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((match) =>
    match[1]!.split(' ').map((pair) => pair.split(',').map(Number) as [number, number]),
  );
}

const sizes = [1e5, 3e5, 1e6, 3e6, 1e7];

describe('lineChartSvg', () => {
  it('draws one polyline per series with one vertex and one marker per point', () => {
    const svg = lineChartSvg({
      title: 'time',
      xLabel: 'N',
      yLabel: 'ms',
      xScale: 'log',
      yScale: 'log',
      series: [
        { name: 'mixseg direct', points: sizes.map((n) => [n, 2.8e-5 * n]) },
        { name: 'mixseg histogram', points: sizes.slice(0, 3).map((n) => [n, 0.08]) },
        { name: 'scikit-learn', points: sizes.map((n) => [n, 2.4e-4 * n]), dashed: true },
      ],
    });
    const lines = polylines(svg);
    expect(lines.map((l) => l.length)).toEqual([5, 3, 5]);
    expect(svg.match(/<circle /g)).toHaveLength(13);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });

  it('draws a linear cost as a straight line on log-log axes, parallel to a slope-1 guide', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'N',
      yLabel: 'ms',
      xScale: 'log',
      yScale: 'log',
      series: [{ name: 'linear', points: sizes.map((n) => [n, 3e-5 * n]) }],
      guides: [{ slope: 1, through: [1e7, 300], label: 'slope 1' }],
    });
    const [line] = polylines(svg);
    const slopes = line!.slice(1).map(([x, y], i) => (y - line![i]![1]) / (x - line![i]![0]));
    // Pixel coordinates are rounded to 0.01 px.
    for (const slope of slopes) expect(slope).toBeCloseTo(slopes[0]!, 3);
    const guide = /<line class="guide" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/.exec(svg)!;
    const [x1, y1, x2, y2] = guide.slice(1).map(Number) as [number, number, number, number];
    expect((y2 - y1) / (x2 - x1)).toBeCloseTo(slopes[0]!, 2);
  });

  it('sorts points by x and leaves out values a log axis cannot show', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'N',
      yLabel: 'ms',
      xScale: 'log',
      yScale: 'log',
      series: [
        {
          name: 'a',
          points: [
            [1e7, 10],
            [1e5, 0.1],
            [1e6, 0],
            [3e6, Number.NaN],
          ],
        },
      ],
    });
    const [line] = polylines(svg);
    expect(line).toHaveLength(2);
    expect(line![0]![0]).toBeLessThan(line![1]![0]);
  });

  it('lists a series without drawable points in the legend as having no data, without a polyline', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'N',
      yLabel: 'ms',
      xScale: 'log',
      yScale: 'log',
      series: [
        { name: 'measured', points: [[1e5, 1]] },
        { name: 'skipped peer', points: [] },
      ],
    });
    expect(polylines(svg)).toHaveLength(1);
    expect(svg).toContain('skipped peer (no data)');
  });

  it('escapes series names and titles', () => {
    const svg = lineChartSvg({
      title: 'a < b & c',
      xLabel: 'N',
      yLabel: 'ms',
      xScale: 'linear',
      yScale: 'linear',
      series: [{ name: '"quoted" <name>', points: [[1, 1]] }],
    });
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).toContain('&quot;quoted&quot; &lt;name&gt;');
    expect(svg).not.toContain('<name>');
  });
});
