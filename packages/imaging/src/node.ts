// labelMapProblem and MAX_LABELS belong in index.ts (browser-safe); here until index.ts is free to edit
export { labelMapProblem, MAX_LABELS } from './evaluation/compare.ts';
export * from './index.ts';
export { temporaryPathFor, writeErrorReason, writeFileAtomic } from './io/atomic-write.ts';
export {
  encodeNiftiFile,
  readNifti,
  readNiftiHeader,
  writeLabelMap,
  writeNifti,
  writeProbabilityMaps,
} from './io/nifti-file.ts';
export type { NiftiHeaderSummary } from './io/nifti-reader.ts';
export { readImage, readImageChannels } from './io/raster-reader.ts';
export {
  DEFAULT_LABEL_COLOURS,
  type OverlayOptions,
  type RasterShape,
  type RgbColour,
  writeLabelPng,
  writeOverlayPng,
} from './io/raster-writer.ts';
