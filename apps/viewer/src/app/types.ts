/** Shared types of the viewer page. */
import type { GaussianMixture, PartialVolumeMixture } from '@mixseg/core';
import type { Volume } from '@mixseg/imaging';
import type { NVImage } from '@niivue/niivue';

/**
 * A volume the page holds: parsed once (in a parse worker), with NiiVue's image of it once made.
 * The page's readout, histogram and segmentation read `volume` (the file's voxel values in the
 * file's voxel order); NiiVue draws `nvImage`.
 */
export interface Layer {
  /** File name, for messages and for NiiVue. */
  name: string;
  volume: Volume;
  /**
   * The uncompressed NIfTI file, kept until NiiVue has made its image from it (NiiVue then reads
   * the header and the voxel bytes; it neither inflates nor parses the file a second time).
   */
  file?: Uint8Array | undefined;
  nvImage?: NVImage | undefined;
}

/** A class probability map: a layer, or values from an in-browser segmentation (made a layer on demand). */
export interface ProbabilityLayer {
  abbreviation: string;
  /** The probability at a voxel index (x fastest), NaN outside the map. */
  valueAt: (voxel: number) => number;
  layer: () => Layer;
}

/** The model drawn on the histogram: the partial-volume mixture when there is one. */
export type Model = GaussianMixture | PartialVolumeMixture;

/**
 * Where the histogram's values come from, so that they are in the units of the model drawn over
 * them (the sidecar's model is fitted to bias-corrected intensities when bias correction was on):
 * - `image`: the image's own values (no bias correction, or no model);
 * - `corrected-image`: the image shown is the bias-corrected one (desc-restore);
 * - `field`: the image divided by the saved bias field (desc-biasfield), where the field is set;
 * - `restored`: the values of the bias-corrected image (desc-restore) beside the image shown;
 * - `pending`: the field or the corrected image is still loading;
 * - `raw`: bias-corrected model, but nothing to correct the image with: the bars are raw.
 */
export type HistogramSource =
  | { kind: 'image' }
  | { kind: 'corrected-image' }
  | { kind: 'field'; field: Volume }
  | { kind: 'restored'; restored: Volume }
  | { kind: 'pending' }
  | { kind: 'raw' };
