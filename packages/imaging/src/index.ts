export { type ApplyModelOptions, applyModel } from './apply-model.ts';
export { DEFAULT_BIAS_FWHM_MM } from './bias-field.ts';
export {
  type ClassComparison,
  type Comparison,
  type ComparisonOptions,
  compareLabelMaps,
  voxelVolumeMl,
} from './compare.ts';
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
export { largestComponent } from './largest-component.ts';
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
  NIFTI_DATATYPES,
  NIFTI_MAX_DIMENSION,
  NIFTI_MAX_VOXELS,
  niftiAffine,
  type ParseNiftiOptions,
  parseNifti,
} from './nifti-reader.ts';
export {
  classProbabilityImage,
  encodeNifti1,
  labelMapImage,
  NIFTI_INTENT_LABEL,
  type NiftiImage,
  probabilityMapsImage,
} from './nifti-writer.ts';
export { classShares, pureClassesAsGaussianMixture } from './partial-volume-stages.ts';
export {
  DEFAULT_PHANTOM_OPTIONS,
  generatePhantom,
  PHANTOM_ARTEFACTS,
  type Phantom,
  type PhantomArtefact,
  type PhantomNoise,
  type PhantomOptions,
  type PhantomShape,
  type ResolvedPhantomOptions,
  type TissueIntensities,
} from './phantom.ts';
export {
  analyseIntensities,
  type ChannelRobustness,
  type RobustAnalysis,
  type RobustOptions,
  type SpikeValue,
} from './robust-intensities.ts';
export {
  type BiasCorrectionOptions,
  type ClassStatistics,
  classStatistics,
  type ImageType,
  type ResolvedSegmentOptions,
  type RobustEstimationOptions,
  type RobustReport,
  type Segmentation,
  type SegmentOptions,
  type SpatialPriorKind,
  type StageReport,
  segment,
} from './segment.ts';
export {
  changedOptions,
  checkOptionValue,
  describeDefault,
  type OptionDifference,
  type OptionRecord,
  type OptionValue,
  optionSpec,
  parseOptionText,
  type RecordValue,
  resolveOptionRecord,
  SEGMENT_OPTION_TABLE,
  type SegmentOptionSpec,
  segmentOptionsOf,
} from './segment-option-table.ts';
export { DEFAULT_SEGMENT_OPTIONS } from './segment-options.ts';
export {
  type BoxGrid,
  boxGrid,
  boxSum,
  type NeighbourhoodPriorOptions,
  neighbourhoodPrior,
  type PottsPriorOptions,
  pottsPrior,
  type SampleGrid,
} from './spatial-prior.ts';
export {
  type DataType,
  ImageFileError,
  type NiftiGeometry,
  type SourceFormat,
  type Volume,
  type VoxelData,
} from './types.ts';
