import { describe, expect, it } from 'vitest';
import { groupedBarChartSvg } from '../src/bar-chart.ts';

function bars(svg: string): { y: number; height: number; fill: string }[] {
  return [
    ...svg.matchAll(
      /<rect class="bar" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="([^"]+)"/g,
    ),
  ].map((m) => ({ y: Number(m[1]), height: Number(m[2]), fill: m[3]! }));
}

describe('groupedBarChartSvg', () => {
  it('draws one bar per value, each series in its colour, heights proportional to the values', () => {
    const svg = groupedBarChartSvg({
      title: 'Dice',
      yLabel: 'Dice',
      seriesNames: ['mixseg', 'scikit-learn'],
      colours: ['#111111', '#222222'],
      yDomain: [0, 1],
      groups: [
        { label: 'CSF', values: [0.9, 0.45] },
        { label: 'GM', values: [0.8, 0.6] },
        { label: 'WM', values: [1, 0.3] },
      ],
    });
    const drawn = bars(svg);
    expect(drawn).toHaveLength(6);
    expect(drawn.map((b) => b.fill)).toEqual([
      '#111111',
      '#222222',
      '#111111',
      '#222222',
      '#111111',
      '#222222',
    ]);
    expect(drawn[0]!.height / drawn[1]!.height).toBeCloseTo(2, 2);
    expect(drawn[4]!.height / drawn[5]!.height).toBeCloseTo(1 / 0.3, 2);
  });

  it('marks a missing value as n/a instead of drawing a zero-height bar', () => {
    const svg = groupedBarChartSvg({
      title: 'time',
      yLabel: 's',
      seriesNames: ['mixseg', 'dipy'],
      groups: [
        { label: '2 mm', values: [3.6, 10.2] },
        { label: '1 mm', values: [11.8, undefined] },
      ],
    });
    expect(bars(svg)).toHaveLength(3);
    expect(svg.match(/class="missing"/g)).toHaveLength(1);
  });

  it('draws bars on a logarithmic axis: equal ratios, equal height differences', () => {
    const svg = groupedBarChartSvg({
      title: 'seconds',
      yLabel: 'seconds',
      seriesNames: ['a', 'b', 'c'],
      logarithmic: true,
      groups: [{ label: 'one', values: [1, 10, 100] }],
    });
    const [a, b, c] = bars(svg);
    expect(b!.height - a!.height).toBeGreaterThan(10);
    expect(c!.height - b!.height).toBeCloseTo(b!.height - a!.height, 1);
    // the axis runs over whole powers of ten around the values, bars rising from its lower end
    expect(a!.y + a!.height).toBeCloseTo(c!.y + c!.height, 6);
  });
});
