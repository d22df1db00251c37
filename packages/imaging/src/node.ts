export { temporaryPathFor, writeErrorReason, writeFileAtomic } from './atomic-write.ts';
// labelMapProblem and MAX_LABELS belong in index.ts (browser-safe); here until index.ts is free to edit
export { labelMapProblem, MAX_LABELS } from './compare.ts';
export * from './index.ts';
export {
  encodeNiftiFile,
  readNifti,
  readNiftiHeader,
  writeLabelMap,
  writeNifti,
  writeProbabilityMaps,
} from './nifti-file.ts';
export type { NiftiHeaderSummary } from './nifti-reader.ts';
export {
  DEFAULT_LABEL_COLOURS,
  type OverlayOptions,
  type RasterShape,
  type RgbColour,
  readImage,
  readImageChannels,
  writeLabelPng,
  writeOverlayPng,
} from './raster-image.ts';
