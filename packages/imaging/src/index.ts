export {
  assertSameGrid,
  type ChannelTransform,
  extractFeatures,
  type FeatureOptions,
  type Features,
  type IntensityPreparation,
  scatterLabels,
  scatterResponsibilities,
} from './features.ts';
export { AFFINE_TOLERANCE_MM, describeGrid, sameGrid } from './grid.ts';
export {
  automaticMask,
  countMask,
  type MaskMethod,
  maskFromVolume,
  nonzeroMask,
  otsuMask,
  otsuThreshold,
} from './mask.ts';
export {
  type DataType,
  ImageFileError,
  type NiftiGeometry,
  type SourceFormat,
  type Volume,
  type VoxelData,
} from './types.ts';
