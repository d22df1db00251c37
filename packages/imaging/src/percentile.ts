/**
 * The p-th percentile (0..100) of values sorted in ascending order, by linear interpolation between
 * the order statistics around position (p / 100) (n - 1), as numpy's default method computes it;
 * NaN when there are no values.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (p / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
}
