/**
 * The units of the histogram. The sidecar's model (`Model`, `PartialVolumeModel`) is fitted to
 * bias-corrected intensities when `Options.biasCorrection` is on (the CLI's default), so the bars
 * must bin the same corrected values for the curves to sit on them: the image divided by the saved
 * bias field, or the saved corrected image, as the CLI's preview does. When neither was saved, the
 * bars stay raw and the chart says that bars and curves are in different units (hiding either would
 * leave the default run, which saves no field, with half a chart). Pure: no DOM.
 */
import { correctedIntensities, sameGrid, type Volume } from '@mixseg/imaging';
import type { HistogramSource } from './types.ts';

/**
 * Whether a sidecar's options say the model is in bias-corrected units: `biasCorrection` true (the
 * CLI's record) or an options object (segment()'s resolved options); false, null or absent is not.
 */
export function modelIsBiasCorrected(options: Record<string, unknown>): boolean {
  const value = options['biasCorrection'];
  return value === true || (value !== null && typeof value === 'object');
}

/** What a subject offers to put the histogram in the model's units. */
export interface CorrectionInputs {
  /** The model is in bias-corrected units. */
  modelCorrected: boolean;
  /** The image shown is itself the bias-corrected image. */
  imageIsCorrected: boolean;
  /** The saved bias field, once loaded. */
  field?: Volume | undefined;
  /** The saved bias-corrected image, once loaded. */
  restored?: Volume | undefined;
  /** A field or corrected image exists but is still loading. */
  loading?: boolean;
}

/** Chooses where the histogram's values come from (see {@link HistogramSource}). */
export function histogramSource(image: Volume, inputs: CorrectionInputs): HistogramSource {
  if (!inputs.modelCorrected) return { kind: 'image' };
  if (inputs.imageIsCorrected) return { kind: 'corrected-image' };
  if (inputs.field && sameGrid(inputs.field, image)) return { kind: 'field', field: inputs.field };
  if (inputs.restored && sameGrid(inputs.restored, image))
    return { kind: 'restored', restored: inputs.restored };
  return inputs.loading ? { kind: 'pending' } : { kind: 'raw' };
}

/**
 * The values to histogram: the image's, or corrected ones. Corrected = image / field where the
 * field is positive, the image's value elsewhere (the field is 0 outside the mask), as the CLI's
 * --save-restored writes them.
 */
export function histogramValues(image: Volume, source: HistogramSource): ArrayLike<number> {
  switch (source.kind) {
    case 'image':
    case 'corrected-image':
    case 'pending':
    case 'raw':
      return image.data;
    case 'restored':
      return source.restored.data;
    case 'field':
      return correctedIntensities(image.data, source.field.data);
    default: {
      const unreachable: never = source;
      throw new TypeError(`unknown histogram source ${JSON.stringify(unreachable)}`);
    }
  }
}

/** How the chart labels its x axis, and what it must say about its units. */
export interface HistogramUnits {
  /** The x axis title. */
  axis: string;
  /** A sentence for the chart, empty when bars and curves share their units. */
  note: string;
  /** The note warns that bars and curves are in different units. */
  warning: boolean;
}

/** The axis title and note for a source. */
export function histogramUnits(source: HistogramSource): HistogramUnits {
  switch (source.kind) {
    case 'image':
      return { axis: 'intensity', note: '', warning: false };
    case 'corrected-image':
      return { axis: 'intensity (bias-corrected image)', note: '', warning: false };
    case 'field':
      return { axis: 'intensity ÷ saved bias field (the model’s units)', note: '', warning: false };
    case 'restored':
      return { axis: 'intensity of the bias-corrected image (the model’s units)', note: '', warning: false };
    case 'pending':
      return { axis: 'intensity', note: 'Loading the bias field…', warning: false };
    case 'raw':
      return {
        axis: 'intensity',
        note: 'Bars: raw intensities; curves: the model in bias-corrected units (no field saved: --save-bias-field). They need not line up.',
        warning: true,
      };
    default: {
      const unreachable: never = source;
      throw new TypeError(`unknown histogram source ${JSON.stringify(unreachable)}`);
    }
  }
}
