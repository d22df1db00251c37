/**
 * The values behind the preview's grey window and histogram: the labelled voxels' intensities
 * (bias-corrected when asked) and their exact percentiles, which do not depend on the order the
 * voxels are stored in (a strided subsample would).
 */

/** The value of rank q (0..1) among `values` (reordered in place): an exact order statistic. */
function select(values: Float64Array, q: number): number {
  const k = Math.floor(q * (values.length - 1));
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const pivot = values[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k]!;
}

/**
 * The finite values of the labelled voxels (divided by the bias field where it is positive, when
 * given), in storage order.
 */
export function labelledValues(
  data: ArrayLike<number>,
  labels: Uint8Array,
  field?: ArrayLike<number>,
): Float64Array {
  let count = 0;
  for (let v = 0; v < labels.length; v++) if (labels[v] !== 0) count++;
  const values = new Float64Array(count);
  let n = 0;
  for (let v = 0; v < labels.length; v++) {
    if (labels[v] === 0) continue;
    const x = field && field[v]! > 0 ? data[v]! / field[v]! : data[v]!;
    if (Number.isFinite(x)) values[n++] = x;
  }
  return values.subarray(0, n);
}

/**
 * 1st and 99th percentiles of `values`: exact, so they do not depend on the order the voxels are
 * stored in. [0, 1] when there are none.
 */
export function percentileWindow(values: Float64Array): [number, number] {
  if (values.length === 0) return [0, 1];
  const copy = values.slice();
  const low = select(copy, 0.01);
  const high = select(copy, 0.99);
  return high > low ? [low, high] : [low, low + 1];
}

/** {@link percentileWindow} of the labelled voxels' finite values. */
export function intensityWindow(data: ArrayLike<number>, labels: Uint8Array): [number, number] {
  return percentileWindow(labelledValues(data, labels));
}
