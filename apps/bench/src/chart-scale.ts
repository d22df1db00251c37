/**
 * Axis scales for the report's SVG charts: a data interval (domain) mapped onto pixels (range),
 * linearly or logarithmically (base 10), with tick values a reader expects (1, 2, 5 x 10^k on
 * linear axes; decades, plus 2 and 5 within a decade when the axis spans little, on log axes).
 */

/** A mapping from data values to pixel positions. */
export interface Scale {
  kind: 'linear' | 'log';
  /** [low, high] data values; both > 0 for a log scale. */
  domain: [number, number];
  /** Pixel positions of domain[0] and domain[1] (range[0] > range[1] for a y axis, SVG y grows down). */
  range: [number, number];
  /** Pixel position of a value (extrapolated outside the domain). */
  map: (value: number) => number;
  /** Tick values inside the domain, ascending. */
  ticks: () => number[];
}

/**
 * A linear scale.
 *
 * @throws RangeError when the domain is not two finite numbers with domain[0] < domain[1]
 */
export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  if (!(Number.isFinite(d0) && Number.isFinite(d1) && d0 < d1)) {
    throw new RangeError(`a linear domain needs two finite numbers, low < high, got [${d0}, ${d1}]`);
  }
  const [r0, r1] = range;
  return {
    kind: 'linear',
    domain,
    range,
    map: (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0),
    ticks: () => linearTicks(d0, d1),
  };
}

/**
 * A base-10 logarithmic scale: equal ratios get equal distances, so a cost growing as N^p is a
 * straight line of slope p on log-log axes.
 *
 * @throws RangeError when the domain is not two finite numbers with 0 < domain[0] < domain[1]
 */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  if (!(Number.isFinite(d0) && Number.isFinite(d1) && d0 > 0 && d0 < d1)) {
    throw new RangeError(`a log domain needs two finite numbers, 0 < low < high, got [${d0}, ${d1}]`);
  }
  const [r0, r1] = range;
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  return {
    kind: 'log',
    domain,
    range,
    map: (value) => r0 + ((Math.log10(value) - l0) / (l1 - l0)) * (r1 - r0),
    ticks: () => logTicks(d0, d1),
  };
}

/** The step of about `count` ticks over [low, high]: 1, 2 or 5 times a power of ten. */
export function niceStep(low: number, high: number, count = 5): number {
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Multiples of a nice step (see {@link niceStep}) inside [low, high]. */
export function linearTicks(low: number, high: number, count = 5): number[] {
  const step = niceStep(low, high, count);
  const ticks: number[] = [];
  const first = Math.ceil(low / step - 1e-9);
  const last = Math.floor(high / step + 1e-9);
  // Multiplying integers by the step (rather than adding steps) keeps 0.1 x 3 from drifting.
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/**
 * Ticks of a log axis: every power of ten inside [low, high]; when that gives fewer than three,
 * also 2 and 5 times each power of ten.
 */
export function logTicks(low: number, high: number): number[] {
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const inside = (v: number): boolean => v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9);
  const decades: number[] = [];
  for (let e = first; e <= last; e++) {
    const v = Number((10 ** e).toPrecision(12));
    if (inside(v)) decades.push(v);
  }
  if (decades.length >= 3) return decades;
  const ticks: number[] = [];
  for (let e = first; e <= last; e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (inside(v)) ticks.push(v);
    }
  }
  return ticks;
}

/**
 * A log domain around positive values: from the power of ten at or below the smallest to the one
 * at or above the largest (a single value gets the decade around it).
 *
 * @throws RangeError when no value is finite and > 0
 */
export function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) throw new RangeError('a log axis needs at least one finite value > 0');
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive)) + 1e-9);
  let high = 10 ** Math.ceil(Math.log10(Math.max(...positive)) - 1e-9);
  if (high <= low) high = low * 10;
  return [Number(low.toPrecision(12)), Number(high.toPrecision(12))];
}

/** A linear domain from 0 (or the smallest negative value) to a nice value at or above the largest. */
export function linearDomainFromZero(values: readonly number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  const low = Math.min(0, ...finite);
  const highest = Math.max(0, ...finite);
  if (highest <= low) return [low, low + 1];
  const step = niceStep(low, highest, 5);
  return [low, Math.ceil(highest / step - 1e-9) * step];
}

/** A tick label: plain numbers from 0.001 to 99 999, powers of ten as 1e5, others as 2e-4. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  return value.toExponential().replace('+', '').replace(/\.0+e/, 'e');
}
