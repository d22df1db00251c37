/** Messages between the page and the segmentation worker. */
import type { GaussianMixture } from '@mixseg/core';
import type { ClassStatistics, SpatialPriorKind } from '@mixseg/imaging';

/** The options the page offers; everything else is segment()'s default, as in the CLI. */
export interface BrowserSegmentOptions {
  nClasses: number;
  prior: SpatialPriorKind;
  beta: number;
}

export interface SegmentRequest {
  /** The image file's bytes (.nii or .nii.gz) and name. */
  bytes: ArrayBuffer;
  name: string;
  options: BrowserSegmentOptions;
}

export type SegmentMessage =
  | { type: 'progress'; stage: 'mixture' | 'spatial'; iteration: number; meanLogLikelihood: number }
  | {
      type: 'done';
      labels: Uint8Array;
      probabilities: Float32Array | undefined;
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
