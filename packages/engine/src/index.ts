/**
 * `@rlr/engine`: the {@link Detector}, one object that owns a backbone, a scoring model (RLR or
 * the nearest-neighbour baseline) and a {@link PostProcessor} (thresholds fitted on validation
 * data, min-max normalisation), saved and loaded as one model folder. This entry is
 * browser-safe (models load from a URL); `@rlr/engine/node` adds file paths, Buffers, worker
 * threads and `Detector.fit`.
 *
 * @packageDocumentation
 */
export {
  Detector,
  browserIO,
  batchTensor,
  geometryOf,
  preprocessingRecord,
  postProcessorFor,
  readParts,
  type BackboneLoader,
  type BatchReader,
  type BatchScores,
  type DetectorInput,
  type DetectorIO,
  type DetectorLoadOptions,
  type DetectorMetrics,
  type DetectorParts,
  type DetectorPrediction,
  type EvaluateOptions,
  type ImageDataLike,
  type ImageDecoder,
  type ImageGeometry,
  type TileGeometry,
} from './detector.js';
export { isKnn, loadDetectorModel, saveDetectorModel, type DetectorModel } from './detector-model.js';
export { excludePadding, type MapScores } from './padding-scores.js';
export {
  PostProcessor,
  POST_PROCESSOR_FILE,
  DEFAULT_QUANTILE,
  DEFAULT_SENSITIVITY,
  quantile,
  type LabelledScores,
  type PostProcessorState,
  type QuantileOptions,
  type ScoreScale,
  type ThresholdSource,
} from './post-processor.js';
export { silentLog, type EngineLog, type EngineProgress } from './engine-log.js';
export { EngineError, asEngineError, type EngineErrorKind } from './engine-error.js';
