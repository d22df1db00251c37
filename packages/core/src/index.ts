export { expNonPositive } from './exp.ts';
export { fitGaussianMixture } from './gaussian-mixture.ts';
export { mostProbableComponent } from './most-probable-component.ts';
export { fitPartialVolumeMixture, type PartialVolumeFit } from './partial-volume-mixture.ts';
export {
  adjacentPairs,
  type PartialVolumeMixture,
  type SubComponent,
  subComponents,
  validatePartialVolumeMixture,
} from './partial-volume-model.ts';
export type { PartialVolumeOptions } from './partial-volume-options.ts';
export {
  aic,
  bic,
  expectationStep,
  nParameters,
  type PredictionOptions,
  predict,
  predictProba,
  score,
  scoreSamples,
} from './prediction.ts';
export { createRandom, type Random } from './random.ts';
export { sample } from './sample.ts';
export {
  parseGaussianMixture,
  parseMixtureModel,
  serializeGaussianMixture,
  serializePartialVolumeMixture,
  validateGaussianMixture,
} from './serialize.ts';
export type {
  ComponentOrder,
  CovarianceType,
  EStepStrategy,
  FitEvent,
  FloatArray,
  GaussianMixture,
  GaussianMixtureFit,
  GaussianMixtureOptions,
  InitialParameters,
  InitMethod,
  IterationEvent,
  PriorUpdate,
  PriorUpdateContext,
  SampleMatrix,
  StopReason,
} from './types.ts';
