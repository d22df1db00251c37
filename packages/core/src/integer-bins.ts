/**
 * Integer-valued single-feature data (8/16-bit MR intensities, integer-valued float images) as a
 * dense table of distinct values: the basis of the exact tabulated and histogram E-steps.
 */
import type { FloatArray } from './types.ts';

/** Integer-valued single-feature data mapped onto a dense table of distinct values. */
export interface IntegerBins {
  /** Value of bin 0; bin b holds the value `minimum + b`. */
  minimum: number;
  nBins: number;
  /** Bins that hold at least one sample (whatever its weight). */
  occupied: Int32Array;
  /** Sum of sample weights per bin (counts when unweighted). */
  binWeights: Float64Array;
  /** Bin of each sample (built only for the tabulated pass). */
  index?: Uint16Array;
}

/**
 * Bins integer samples in [minimum, maximum]: weights per bin, the occupied bins, and (when
 * `withIndex`) each sample's bin. The range must span at most 65536 values.
 */
export function buildIntegerBins(
  data: FloatArray,
  sampleWeights: FloatArray | undefined,
  minimum: number,
  maximum: number,
  withIndex: boolean,
): IntegerBins {
  const nBins = maximum - minimum + 1;
  if (!(nBins >= 1 && nBins <= 65536))
    throw new RangeError(`integer range ${minimum}..${maximum} is too wide to tabulate`);
  const binWeights = new Float64Array(nBins);
  const counts = new Uint8Array(nBins);
  const index = withIndex ? new Uint16Array(data.length) : undefined;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]! - minimum;
    binWeights[b]! += sampleWeights ? sampleWeights[i]! : 1;
    counts[b] = 1;
    if (index) index[i] = b;
  }
  let nOccupied = 0;
  for (let b = 0; b < nBins; b++) nOccupied += counts[b]!;
  const occupied = new Int32Array(nOccupied);
  for (let b = 0, j = 0; b < nBins; b++) if (counts[b]) occupied[j++] = b;
  return { minimum, nBins, occupied, binWeights, ...(index ? { index } : {}) };
}

/** The occupied bins with non-zero weight as weighted samples: (values, weights). */
export function binsAsSamples(bins: IntegerBins): { values: Float64Array; weights: Float64Array } {
  let n = 0;
  for (const b of bins.occupied) if (bins.binWeights[b]! > 0) n++;
  const values = new Float64Array(n);
  const weights = new Float64Array(n);
  let j = 0;
  for (const b of bins.occupied) {
    const w = bins.binWeights[b]!;
    if (w > 0) {
      values[j] = bins.minimum + b;
      weights[j++] = w;
    }
  }
  return { values, weights };
}
