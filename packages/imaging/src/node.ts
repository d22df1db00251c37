export { temporaryPathFor, writeFileAtomic } from './atomic-write.ts';
export * from './index.ts';
export { encodeNiftiFile, readNifti, writeLabelMap, writeNifti, writeProbabilityMaps } from './nifti-file.ts';
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
