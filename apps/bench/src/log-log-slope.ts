/**
 * The exponent p of a power law y = c x^p fitted to measurements: the least-squares slope of
 * log10 y against log10 x. A cost that grows linearly with N has p = 1; fixed overheads pull p
 * below 1 at small N, which is why the report fits it over the large N only.
 */

/**
 * Least-squares slope of log10(y) on log10(x) over the points with x > 0 and y > 0 (finite).
 * NaN with fewer than two such points or when every x is the same.
 */
export function logLogSlope(points: readonly (readonly [number, number])[]): number {
  const logs = points
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && x > 0 && y > 0)
    .map(([x, y]) => [Math.log10(x), Math.log10(y)] as const);
  if (logs.length < 2) return Number.NaN;
  const meanX = logs.reduce((sum, [lx]) => sum + lx, 0) / logs.length;
  const meanY = logs.reduce((sum, [, ly]) => sum + ly, 0) / logs.length;
  let covariance = 0;
  let variance = 0;
  for (const [lx, ly] of logs) {
    covariance += (lx - meanX) * (ly - meanY);
    variance += (lx - meanX) ** 2;
  }
  return variance > 0 ? covariance / variance : Number.NaN;
}
