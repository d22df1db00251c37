/**
 * Ratios of two contestants measured in the same repetition. These machines are shared and noisy
 * (identical work varies 20-30 % between runs), so a ratio of two medians taken minutes apart can
 * mislead; a ratio taken within each repetition, where both contestants saw the same load, then
 * the median over repetitions, does not.
 */
import { median } from './measure.ts';

/** One measurement and the repetition it was taken in. */
export interface RepetitionValue {
  repetition: number;
  value: number;
}

/** Ratios and their median. */
export interface PairedRatio {
  /** numerator / denominator per repetition where both are finite and the denominator > 0. */
  perRepetition: number[];
  /** Median of `perRepetition`; NaN when there is no pair. */
  median: number;
  /** How many repetitions had both measurements. */
  pairs: number;
}

/**
 * numerator / denominator of each repetition that has both (and a positive, finite denominator),
 * in the order of the numerator's repetitions; a repetition missing on either side is skipped, so
 * one failed run does not pair a value with another repetition's.
 */
export function pairedRatios(
  numerator: readonly RepetitionValue[],
  denominator: readonly RepetitionValue[],
): number[] {
  const byRepetition = new Map<number, number>();
  for (const { repetition, value } of denominator) byRepetition.set(repetition, value);
  const ratios: number[] = [];
  for (const { repetition, value } of numerator) {
    const reference = byRepetition.get(repetition);
    if (reference === undefined || !(reference > 0) || !Number.isFinite(reference)) continue;
    if (!Number.isFinite(value)) continue;
    ratios.push(value / reference);
  }
  return ratios;
}

/** {@link pairedRatios} and their median. */
export function pairedRatio(
  numerator: readonly RepetitionValue[],
  denominator: readonly RepetitionValue[],
): PairedRatio {
  const perRepetition = pairedRatios(numerator, denominator);
  return { perRepetition, median: median(perRepetition), pairs: perRepetition.length };
}
