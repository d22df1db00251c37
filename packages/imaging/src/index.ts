export {
  type ClassComparison,
  type Comparison,
  type ComparisonOptions,
  compareLabelMaps,
  voxelVolumeMl,
} from './evaluation/compare.ts';
export { AFFINE_TOLERANCE_MM, describeGrid, sameGrid } from './grid.ts';
export { NIFTI_DATATYPES, NIFTI_MAX_DIMENSION, NIFTI_MAX_VOXELS } from './io/nifti-header.ts';
export { niftiAffine } from './io/nifti-orientation.ts';
export { type ParseNiftiOptions, parseNifti } from './io/nifti-reader.ts';
export {
  classProbabilityImage,
  encodeNifti1,
  labelMapImage,
  NIFTI_INTENT_LABEL,
  type NiftiImage,
  probabilityMapsImage,
} from './io/nifti-writer.ts';
export { type ApplyModelOptions, applyModel } from './segmentation/apply-model.ts';
export { correctedIntensities, DEFAULT_BIAS_FWHM_MM } from './segmentation/bias-field.ts';
export {
  assertSameGrid,
  type ChannelTransform,
  extractFeatures,
  type FeatureOptions,
  type Features,
  type IntensityPreparation,
  scatterLabels,
  scatterResponsibilities,
} from './segmentation/features.ts';
export { largestComponent } from './segmentation/largest-component.ts';
export {
  automaticMask,
  countMask,
  type MaskMethod,
  maskFromVolume,
  nonzeroMask,
  otsuMask,
  otsuThreshold,
} from './segmentation/mask.ts';
export {
  changedOptions,
  checkOptionValue,
  describeDefault,
  type OptionDifference,
  optionSpec,
  parseOptionText,
  resolveOptionRecord,
  segmentOptionsOf,
} from './segmentation/option-record.ts';
export { classShares, pureClassesAsGaussianMixture } from './segmentation/partial-volume-units.ts';
export {
  analyseIntensities,
  type ChannelRobustness,
  type RobustAnalysis,
  type RobustOptions,
  type SpikeValue,
} from './segmentation/robust-intensities.ts';
export { segment } from './segmentation/segment.ts';
export {
  type OptionRecord,
  type OptionValue,
  type RecordValue,
  SEGMENT_OPTION_TABLE,
  type SegmentOptionSpec,
} from './segmentation/segment-option-table.ts';
export {
  type BiasCorrectionOptions,
  DEFAULT_SEGMENT_OPTIONS,
  type ImageType,
  type ResolvedSegmentOptions,
  type RobustEstimationOptions,
  type SegmentOptions,
  type SpatialPriorKind,
} from './segmentation/segment-options.ts';
export {
  type ClassStatistics,
  classStatistics,
  type Segmentation,
} from './segmentation/segmentation-outputs.ts';
export {
  type BoxGrid,
  boxGrid,
  boxSum,
  type NeighbourhoodPriorOptions,
  neighbourhoodPrior,
  type PottsPriorOptions,
  pottsPrior,
  type SampleGrid,
} from './segmentation/spatial-prior.ts';
export type { RobustReport, StageReport } from './segmentation/stage-reports.ts';
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
} from './synthetic/phantom.ts';
export {
  type DataType,
  ImageFileError,
  type NiftiGeometry,
  type SourceFormat,
  type Volume,
  type VoxelData,
} from './types.ts';
