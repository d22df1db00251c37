export { temporaryPathFor, writeFileAtomic } from './atomic-write.ts';
export * from './index.ts';
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
