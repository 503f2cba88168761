export {
  parseSafetensors,
  serializeSafetensors,
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
export { createRLR, RLRModel, type PredictOptions } from './rlr-model.js';
export { RLRLevel } from './rlr-level.js';
export {
  type LevelParams,
  type OfficialTensor,
} from './level-params.js';
export { Adam, type AdamOptions, type AdamState } from './adam.js';
export { tokenScores } from './loss.js';
export { type GradientMap } from './gradients.js';
export { scoreFromTokens, SCORING_DEFAULTS, type Prediction, type ScoringOptions } from './scoring.js';
export { anomalyMap, type LevelScores } from './anomaly-map.js';
export { gaussianBlur, mapMaxima, smoothedMaximum } from './gaussian-blur.js';
export { sinCosPosition2D } from './sincos-position.js';
export { largestWindow, windowMasks } from './window-mask.js';
export { Rng, deriveSeed, permutation } from './rng.js';
export { scheduledLr, LR_SCHEDULES, type LrScheduleKind } from './lr-schedule.js';
export { initReference, REF_INITS, type RefInit } from './reference-init.js';
export { validate, quantile, type ValidationReport, type ScoreSummary } from './validation.js';
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

export { hasTrainerCheckpoint, CHECKPOINT_INDEX, type ReadCheckpointOptions, type ResumeOptions } from './trainer-checkpoint.js';
export { type FeatureLevelShape, type FeatureSource } from './feature-source.js';
export { FeatureBank } from './feature-bank.js';
export { FeatureCache, FeatureCacheWriter, type CacheIndex, type FeatureCacheOptions } from './feature-cache.js';
export {
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
export { isKnnModel, loadKnnModel, saveKnnModel, type KnnManifest } from './knn-model-io.js';
export { NearestDistanceIndex, type NearestDistanceOptions } from './nearest-distance.js';
export { greedyCoreset, type CoresetOptions } from './coreset.js';
export { importOfficialCheckpoint, importOfficialTensors, type ImportOptions } from './checkpoint-import.js';
export { isTorchZip, readTorchCheckpoint } from './torch-checkpoint.js';
export { VERSION } from './version.js';
export { extractFeatures, extractorLevels, type FeatureSink, type ImagesLike } from './feature-extraction.js';

