/**
 * The charts of what is shown: the histogram of the labelled voxels in the model's units (see
 * intensity-units.ts) with the model over it, and the log-likelihood trace. Recomputed when the
 * subject or its correction inputs change; redrawn on resize.
 */
import { byId } from './dom.ts';
import { componentCount, computeHistogram, type Histogram, type Rgb } from './histogram.ts';
import { drawHistogram, drawTrace } from './histogram-chart.ts';
import { type HistogramUnits, histogramSource, histogramUnits, histogramValues } from './intensity-units.ts';
import { defaultColour } from './results-folder.ts';
import type { ViewerState } from './state.ts';

let histogram: Histogram | undefined;
let units: HistogramUnits = histogramUnits({ kind: 'image' });

/** Recomputes the histogram of the labelled voxels (every voxel without labels) and redraws. */
export function updateHistogram(state: ViewerState): void {
  const image = state.image?.volume;
  histogram = undefined;
  units = histogramUnits({ kind: 'image' });
  if (image) {
    const source = histogramSource(image, {
      modelCorrected: state.model !== undefined && state.modelIsCorrected,
      imageIsCorrected: state.imageIsCorrected,
      field: state.biasField?.volume,
      restored: state.restored?.volume,
      loading: state.correctionLoading,
    });
    units = histogramUnits(source);
    byId('histogram', HTMLCanvasElement).dataset['source'] = source.kind;
    if (source.kind !== 'pending') {
      // the labelled voxels; without labels, every nonzero voxel
      histogram = computeHistogram(histogramValues(image, source), state.labels?.volume.data ?? image.data);
    }
  }
  drawCharts(state);
}

/** Class k's colour: label k + 1's in the table, else a default. */
function componentColours(state: ViewerState): Rgb[] {
  const k = state.model ? componentCount(state.model) : 0;
  return Array.from(
    { length: k },
    (_, n) => state.table.find((entry) => entry.index === n + 1)?.colour ?? defaultColour(n),
  );
}

/** Draws both charts from the last computed histogram. */
export function drawCharts(state: ViewerState): void {
  drawHistogram(byId('histogram', HTMLCanvasElement), {
    histogram,
    model: state.model,
    colours: componentColours(state),
    units,
    modelNote: state.modelNote,
  });
  drawTrace(byId('trace', HTMLCanvasElement), state.trace.mixture, state.trace.spatial);
}
