/**
 * Axis scales for the report's SVG charts, from d3-scale: a data interval (domain) mapped onto
 * pixels (range), linearly or logarithmically (base 10). What d3 does not decide for us is which
 * ticks a log axis labels (every decade, plus 2 and 5 within a decade when the axis spans little)
 * and how a tick is written (1e5, not 100k).
 */
import { type ScaleLinear, type ScaleLogarithmic, scaleLinear, scaleLog } from 'd3-scale';

/** A d3 scale of either kind: call it to map a value, `.domain()` and `.range()` read it back. */
export type AxisScale = ScaleLinear<number, number> | ScaleLogarithmic<number, number>;

/**
 * The tick count d3 aims at on a linear axis, a hint: it steps by 1, 2 or 5 times a power of ten,
 * so [0, 1] gets six ticks 0.2 apart and [0, 30] four ticks 10 apart.
 */
const LINEAR_TICK_COUNT = 4;

/**
 * A linear axis: the given domain, or one from 0 (or the smallest negative value) to a nice value
 * at or above the largest of `values` (`[0, 1]` when there is nothing to show).
 */
export function linearAxis(
  values: readonly number[],
  range: [number, number],
  domain?: [number, number],
): ScaleLinear<number, number> {
  const scale = scaleLinear().range(range);
  if (domain !== undefined) return scale.domain(domain);
  const finite = values.filter((v) => Number.isFinite(v));
  const low = Math.min(0, ...finite);
  const high = Math.max(0, ...finite);
  if (high <= low) return scale.domain([low, low + 1]);
  return scale.domain([low, high]).nice(LINEAR_TICK_COUNT);
}

/**
 * A base-10 log axis: the given domain, or from the power of ten at or below the smallest
 * positive value to the one at or above the largest (a single decade when they coincide). Values
 * a log axis cannot show (<= 0, NaN) are left out; with none, the axis is [1, 10].
 */
export function logAxis(
  values: readonly number[],
  range: [number, number],
  domain?: [number, number],
): ScaleLogarithmic<number, number> {
  const scale = scaleLog().range(range);
  if (domain !== undefined) return scale.domain(domain);
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return scale.domain([1, 10]);
  const [low, high] = scale
    .domain([Math.min(...positive), Math.max(...positive)])
    .nice()
    .domain() as [number, number];
  return high > low ? scale : scale.domain([low, low * 10]);
}

/**
 * The tick values of an axis, ascending: about five on a linear axis; on a log axis every power
 * of ten inside the domain, and when that gives fewer than three, also 2 and 5 times each.
 */
export function axisTicks(scale: AxisScale): number[] {
  if (!isLog(scale)) return scale.ticks(LINEAR_TICK_COUNT);
  // Asked for more ticks than the axis has decades, d3 gives 1..9 times each power of ten.
  const [low, high] = scale.domain() as [number, number];
  const all = scale.ticks(Math.floor(Math.log10(high / low)) + 1);
  const mantissa = (t: number): number => Math.round(t / 10 ** Math.floor(Math.log10(t) + 1e-9));
  const decades = all.filter((t) => mantissa(t) === 1);
  return decades.length >= 3 ? decades : all.filter((t) => [1, 2, 5].includes(mantissa(t)));
}

/** Whether an axis is logarithmic (only d3's log scales have a base). */
export function isLog(scale: AxisScale): scale is ScaleLogarithmic<number, number> {
  return 'base' in scale;
}

/** A tick label: plain numbers from 0.001 to 99 999, powers of ten as 1e5, others as 2e-4. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  return value.toExponential().replace('+', '').replace(/\.0+e/, 'e');
}
