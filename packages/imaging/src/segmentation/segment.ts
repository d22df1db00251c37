/**
 * Tissue segmentation of one subject: channel volumes (and a mask) in; label map, probability and
 * partial-volume fraction maps, fitted model, per-class statistics and the convergence trace out.
 *
 * The stages (docs/algorithms.md, "The stages of segment()"), each over the one subject state:
 * prepare the subject (the voxels in the mask, their features, robust estimation, the priors;
 * subject.ts); fit the intensity model (one channel: the partial-volume mixture; several: the
 * Gaussian mixture; model-stages.ts); correct the bias field; fit again with the spatial prior;
 * the outputs (segmentation-outputs.ts).
 */
import type { Volume } from '../types.ts';
import { correctBias, fitMixture, fitSpatial, modelResult } from './model-stages.ts';
import { resolveSegmentOptions, type SegmentOptions } from './segment-options.ts';
import { type Segmentation, segmentation } from './segmentation-outputs.ts';
import { prepareSubject } from './subject.ts';

/**
 * Segments one subject.
 * @param channels co-registered volumes of one subject (T1, or T1 + T2 + PD...); labels are
 *   ordered by the first channel's class means in the order of its image type.
 */
export function segment(channels: Volume[], options: SegmentOptions = {}): Segmentation {
  const resolved = resolveSegmentOptions(options);
  const clock = stageClock();
  const subject = prepareSubject(channels, options, resolved);
  const features = clock();
  const fit = fitMixture(subject, resolved);
  correctBias(fit);
  const mixture = clock();
  fitSpatial(fit);
  const spatial = clock();
  return segmentation(subject, modelResult(fit, subject), resolved, { features, mixture, spatial }, clock);
}

/** Seconds since the previous call (or since the clock was made). */
export function stageClock(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const seconds = (now - last) / 1000;
    last = now;
    return seconds;
  };
}
