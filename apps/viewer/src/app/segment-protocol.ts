/** Messages between the page and the segmentation worker. */
import type { GaussianMixture } from '@mixseg/core';
import type { ClassStatistics, SpatialPriorKind, Volume } from '@mixseg/imaging';

/** The options the page offers; everything else is segment()'s default, as in the CLI. */
export interface BrowserSegmentOptions {
  nClasses: number;
  prior: SpatialPriorKind;
  beta: number;
}

export interface SegmentRequest {
  /** The image, as the page parsed it (a copy: the page keeps its own). */
  image: Volume;
  name: string;
  options: BrowserSegmentOptions;
}

export type SegmentMessage =
  | { type: 'progress'; stage: 'mixture' | 'spatial'; iteration: number; meanLogLikelihood: number }
  | {
      type: 'done';
      labels: Uint8Array;
      probabilities: Float32Array | undefined;
      /** The estimated bias field (corrected = image / field), when bias correction was on. */
      biasField: Float32Array | undefined;
      /** The model is in bias-corrected units. */
      modelIsCorrected: boolean;
      model: GaussianMixture;
      mixtureTrace: number[];
      spatialTrace: number[];
      statistics: ClassStatistics[];
      classNames: string[];
      converged: boolean;
      stopReason: string;
      seconds: number;
    }
  | { type: 'error'; message: string };
