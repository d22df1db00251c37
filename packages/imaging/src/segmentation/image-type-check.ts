/**
 * Whether a three-class result agrees with the image type: the class order of its contrast and
 * plausible class shares of a brain mask.
 */
import type { ImageType } from './segment-options.ts';

/** Below this share of a brain mask, a tissue class of a three-class segmentation is implausible. */
const MINIMUM_CLASS_SHARE = 0.05;

/**
 * Why a three-class model contradicts the image type, or undefined: the classes must come in the
 * type's intensity order, "CSF" must not hold more of a brain mask than GM and WM together, and no
 * tissue may hold under 5 % of it (a class that took a bright lesion or one tail of another).
 */
export function contradictsImageType(
  means: number[],
  shares: number[],
  imageType: ImageType,
  classNames: string[],
): string | undefined {
  const ascending = imageType === 't1';
  for (let k = 0; k + 1 < means.length; k++) {
    if (ascending ? !(means[k]! < means[k + 1]!) : !(means[k]! > means[k + 1]!)) {
      return `the class means are not in the ${imageType.toUpperCase()} order (${classNames.join(ascending ? ' < ' : ' > ')})`;
    }
  }
  if (means.length === 3 && shares[0]! > shares[1]! + shares[2]!) {
    return `"${classNames[0]}" takes ${(100 * shares[0]!).toFixed(0)}% of the mask, more than ${classNames[1]} and ${classNames[2]} together`;
  }
  for (let k = 0; k < shares.length; k++) {
    if (shares[k]! < MINIMUM_CLASS_SHARE) {
      return `"${classNames[k]}" takes only ${(100 * shares[k]!).toFixed(1)}% of the mask`;
    }
  }
  return undefined;
}
