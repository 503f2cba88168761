export {
  parseSafetensors,
  serializeSafetensors,
  float16ToFloat32,
  float32ToFloat16,
  type NamedTensor,
  type SafetensorsDtype,
  type SafetensorsFile,
  type TensorToWrite,
} from './safetensors.js';
export { memoryStore, urlStore, type BlobStore } from './blob-store.js';
export type { FeatureExtractor, FeatureInfo } from './feature-extractor.js';

export {
  presets,
  resolveLevels,
  specFromFeatureInfo,
  type LevelConfig,
  type LevelSpec,
  type PerLevel,
  type PresetName,
  type RLRConfig,
  type RLRSpec,
} from './config.js';
export { ATTENTION_VARIANTS, DEFAULT_ATTENTION, isAttentionVariant, type AttentionVariant } from './attention-variants.js';
export { createRLR, modelFromParams, RLRModel, type PredictOptions } from './rlr-model.js';
export { RLRLevel } from './rlr-level.js';
export {
  fromOfficial,
  initLevelParams,
  levelParamDefs,
  levelParamsFromValues,
  readLevelValues,
  toOfficial,
  type LevelParams,
  type OfficialTensor,
  type ParamDef,
} from './level-params.js';
export { Adam, ADAM_DEFAULTS, type AdamOptions, type AdamState } from './adam.js';
export { applyJitter, jitterNoise } from './jitter.js';
export { reconstructionLoss, reconstructionLossAndGrad, tokenScores, rowCosine } from './loss.js';
export { disposeGradients, type GradientMap } from './gradients.js';
export { assertFiniteScores, scoreFromTokens, SCORING_DEFAULTS, type Prediction, type ScoringOptions } from './scoring.js';
export { anomalyMap, upsampleBilinearAlignCorners, type LevelScores } from './anomaly-map.js';
export { gaussianBlur, gaussianKernel1D, mapMaxima, reflectIndex, smoothedMaximum } from './gaussian-blur.js';
export { sinCosPosition2D } from './sincos-position.js';
export { defaultWindow, largestWindow, validateWindow, windowMasks, windowMembership, DEFAULT_WINDOWS, MASKED } from './window-mask.js';
export { Rng, deriveSeed, permutation } from './rng.js';
export { scheduledLr, LR_SCHEDULES, type LrScheduleKind } from './lr-schedule.js';
export { initReference, meanFeatures, sampledReferenceImage, REF_INITS, type RefInit } from './reference-init.js';
export { validate, summarizeScores, quantile, type ValidationReport, type ScoreSummary } from './validation.js';
export {
  Trainer,
  TrainingDivergedError,
  type TrainerOptions,
  type TrainResult,
  type StopReason,
  BEST_WEIGHTS_BLOB,
} from './trainer.js';
export type { BatchReport, EpochReport, StepMode } from './training-progress.js';
export type { BatchPart, PulledState, StepPosition, TrainingPool, TrainingSession, TrainingSetup } from './trainer-pool.js';
export { batchPartGradients, splitBatch } from './trainer-step.js';
export { hasTrainerCheckpoint, readTrainerCheckpoint, writeTrainerCheckpoint, CHECKPOINT_INDEX, type ReadCheckpointOptions, type ResumeOptions, type TrainerCheckpoint } from './trainer-checkpoint.js';
export { checkLevelShapes, levelElements, type FeatureLevelShape, type FeatureSource } from './feature-source.js';
export { FeatureBank } from './feature-bank.js';
export { FeatureCache, FeatureCacheWriter, FEATURE_CACHE_INDEX, type CacheIndex, type FeatureCacheOptions } from './feature-cache.js';
export {
  assignOfficialTensors,
  loadModel,
  mergeLevels,
  modelToOfficialTensors,
  officialTensorsByLevel,
  readModelManifest,
  saveModel,
  MODEL_CONFIG,
  MODEL_WEIGHTS,
  type ModelManifest,
} from './model-io.js';
export { KnnModel, buildKnnModel, resolveKnnConfig, KNN_DEFAULTS, type KnnBuildOptions, type KnnConfig } from './knn-model.js';
export { isKnnModel, loadKnnModel, saveKnnModel, KNN_BANK, type KnnManifest } from './knn-model-io.js';
export { NearestDistanceIndex, type NearestDistanceOptions } from './nearest-distance.js';
export { coresetSize, greedyCoreset, randomProjection, type CoresetOptions } from './coreset.js';
export { importOfficialCheckpoint, importOfficialTensors, type ImportOptions } from './checkpoint-import.js';
export { isTorchZip, readTorchCheckpoint } from './torch-checkpoint.js';
export { VERSION } from './version.js';
export { extractFeatures, extractorLevels, type FeatureSink, type ImagesLike } from './feature-extraction.js';
export { gatherRows, splitColumns } from './row-kernels.js';
export { lcaTiles, defaultTileRows, type LcaTile } from './local-cross-attention.js';
