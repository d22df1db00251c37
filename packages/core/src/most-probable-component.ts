/**
 * The component with the highest responsibility for one sample of an N x K responsibility matrix
 * (sample-major; ties go to the lowest index): a sample's hard label.
 */
export function mostProbableComponent(
  responsibilities: ArrayLike<number>,
  sample: number,
  nComponents: number,
): number {
  const row = sample * nComponents;
  let best = 0;
  for (let k = 1; k < nComponents; k++) {
    if (responsibilities[row + k]! > responsibilities[row + best]!) best = k;
  }
  return best;
}
