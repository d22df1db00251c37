/**
 * Agreement of a label map with a reference segmentation (docs/algorithms.md, "Measuring a
 * segmentation"): per-class Dice overlap and volumes in millilitres, all computed inside the
 * reference's brain mask (reference label > 0), so that whatever the labels say outside that mask
 * does not count.
 */
import type { Volume } from '../types.ts';

/** Options of {@link compareLabelMaps}. */
export interface ComparisonOptions {
  /** Volume of one voxel in millilitres (see {@link voxelVolumeMl}), finite and > 0. */
  voxelVolumeMl: number;
  /**
   * Labels to compare, each a positive integer. Default: the labels present in the reference,
   * excluding 0, ascending.
   */
  classes?: number[];
  /** Display names of labels (e.g. {1: 'CSF', 2: 'GM', 3: 'WM'}), copied into the result. */
  names?: Record<number, string>;
}

/** The comparison of one class k: A = (labels == k), B = (reference == k), both inside reference > 0. */
export interface ClassComparison {
  label: number;
  /** From `options.names`, when it names this label. */
  name?: string;
  /** 2 |A ∩ B| / (|A| + |B|), in [0, 1]; 1 when both A and B are empty. */
  dice: number;
  /** |A| x voxel volume, in mL. */
  volumeMl: number;
  /** |B| x voxel volume, in mL. */
  referenceVolumeMl: number;
  /** (|A| - |B|) x voxel volume, in mL: positive when the labels over-segment the class. */
  volumeDifferenceMl: number;
  /** 100 (|A| - |B|) / |B|, in percent of the reference volume; null when the reference class is empty. */
  volumeDifferencePercent: number | null;
  /** |A|, voxels */
  count: number;
  /** |B|, voxels */
  referenceCount: number;
  /** |A ∩ B|, voxels */
  intersection: number;
}

/** Plain serialisable result of {@link compareLabelMaps}. */
export interface Comparison {
  /** One entry per compared class, in the order of `options.classes` (default ascending). */
  classes: ClassComparison[];
  /** Mean of the per-class Dice coefficients. */
  meanDice: number;
  /** Voxels inside the reference mask (reference > 0) that the labels leave at 0. */
  unlabelledInReference: number;
  /** Voxels inside the reference mask (reference > 0). */
  referenceVoxels: number;
}

/** Most distinct labels (values > 0) a reference may hold: one byte's worth, as mixseg's uint8 label maps. */
export const MAX_LABELS = 255;

/**
 * Why `values` does not look like a label map, or undefined when it does: its labels (the values
 * > 0; 0, negative and NaN voxels are outside, as {@link compareLabelMaps} takes them) must be
 * integers, at most {@link MAX_LABELS} distinct ones. An intensity image given by mistake (a T1
 * with 851 distinct values, a float image) would otherwise be compared one "class" per intensity.
 *
 * @returns e.g. `it has 851 distinct values`, `it holds the value 12.5, not an integer`.
 */
export function labelMapProblem(values: ArrayLike<number>): string | undefined {
  const distinct = new Set<number>();
  for (let v = 0; v < values.length; v++) {
    const value = values[v]!;
    if (!(value > 0) || distinct.has(value)) continue;
    if (!Number.isInteger(value)) return `it holds the value ${value}, not an integer`;
    distinct.add(value);
  }
  return distinct.size > MAX_LABELS ? `it has ${distinct.size} distinct values` : undefined;
}

/** Volume of one voxel in millilitres: sx · sy · sz (mm) / 1000. */
export function voxelVolumeMl(volume: Volume): number {
  const [sx, sy, sz] = volume.spacing;
  return (sx * sy * sz) / 1000;
}

/**
 * Compares a label map with a reference on the same grid. Only voxels with reference > 0 count:
 * for each class k, A = {labels == k} and B = {reference == k} within that mask, and
 * Dice = 2 |A ∩ B| / (|A| + |B|), defined as 1 when both are empty (perfect agreement that the
 * class is absent).
 *
 * @param labels the label map to assess (integer labels, 0 = unlabelled), length nVoxels
 * @param reference the ground truth, length nVoxels; voxels <= 0 (or NaN) are outside its mask
 * @throws RangeError when the lengths differ, the voxel volume is not finite and > 0, a class is
 *   not a positive integer, there is no class to compare, or (classes not given) the reference
 *   holds more than {@link MAX_LABELS} distinct labels (an intensity image, not a label map)
 */
export function compareLabelMaps(
  labels: ArrayLike<number>,
  reference: ArrayLike<number>,
  options: ComparisonOptions,
): Comparison {
  if (labels.length !== reference.length) {
    throw new RangeError(
      `labels and reference must have the same length, got ${labels.length} and ${reference.length}`,
    );
  }
  const { voxelVolumeMl: voxelMl, names } = options;
  if (!(typeof voxelMl === 'number' && Number.isFinite(voxelMl) && voxelMl > 0)) {
    throw new RangeError(`voxelVolumeMl must be a finite number > 0 (mL), got ${voxelMl}`);
  }
  const classes = options.classes ?? labelsPresent(reference);
  for (const label of classes) {
    if (!(Number.isInteger(label) && label > 0)) {
      throw new RangeError(
        options.classes
          ? `classes must be positive integers (0 is outside the reference mask), got ${label}`
          : `reference labels must be integers, got ${label}`,
      );
    }
  }
  if (options.classes === undefined && classes.length > MAX_LABELS) {
    throw new RangeError(
      `the reference does not look like a label map: it has ${classes.length} distinct values > 0, ` +
        `more than ${MAX_LABELS} (expected small non-negative integers)`,
    );
  }
  if (classes.length === 0) {
    throw new RangeError('no class to compare: the reference has no voxel > 0 and no classes were given');
  }

  // Index of each compared class, so one pass counts everything.
  const slot = new Map(classes.map((label, index) => [label, index]));
  const count = new Float64Array(classes.length);
  const referenceCount = new Float64Array(classes.length);
  const intersection = new Float64Array(classes.length);
  let unlabelledInReference = 0;
  let referenceVoxels = 0;
  for (let v = 0; v < reference.length; v++) {
    const truth = reference[v]!;
    if (!(truth > 0)) continue;
    referenceVoxels++;
    const label = labels[v]!;
    if (label === 0) unlabelledInReference++;
    const a = slot.get(label);
    const b = slot.get(truth);
    if (a !== undefined) count[a]!++;
    if (b !== undefined) referenceCount[b]!++;
    if (a !== undefined && a === b) intersection[a]!++;
  }

  const perClass = classes.map((label, index): ClassComparison => {
    const nA = count[index]!;
    const nB = referenceCount[index]!;
    const nAB = intersection[index]!;
    const volumeMl = nA * voxelMl;
    const referenceVolumeMl = nB * voxelMl;
    const name = names?.[label];
    return {
      label,
      ...(name === undefined ? {} : { name }),
      dice: nA + nB === 0 ? 1 : (2 * nAB) / (nA + nB),
      volumeMl,
      referenceVolumeMl,
      volumeDifferenceMl: (nA - nB) * voxelMl,
      volumeDifferencePercent: nB === 0 ? null : (100 * (nA - nB)) / nB,
      count: nA,
      referenceCount: nB,
      intersection: nAB,
    };
  });
  const meanDice = perClass.reduce((sum, c) => sum + c.dice, 0) / perClass.length;
  return { classes: perClass, meanDice, unlabelledInReference, referenceVoxels };
}

/** The distinct values > 0 of the reference, ascending. */
function labelsPresent(reference: ArrayLike<number>): number[] {
  const present = new Set<number>();
  for (let v = 0; v < reference.length; v++) {
    const value = reference[v]!;
    if (value > 0) present.add(value);
  }
  return [...present].sort((a, b) => a - b);
}
