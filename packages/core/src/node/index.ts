/**
 * `@rlr/core/node`: parallel training, inference and feature extraction on worker threads, for
 * Node only (the main entry stays browser-safe). The application says which tfjs backend the
 * workers use, as it does for the main thread:
 *
 * ```ts
 * import { Trainer } from '@rlr/core';
 * import { createWorkerPool } from '@rlr/core/node';
 * const pool = await createWorkerPool({ backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm' });
 * await new Trainer(model, { epochs: 200, pool }).fit(features);
 * const predictor = await pool.predictor(model);
 * const { scores } = await predictor.predict(testFeatures);
 * await pool.close();
 * ```
 */
export {
  createWorkerPool,
  resolveWorkerCount,
  WorkerPool,
  WorkerTaskError,
  MAX_AUTO_WORKERS,
  type WorkerPoolOptions,
} from './worker-pool.js';
export { ParallelTrainingSession, type SessionTimings } from './parallel-training.js';
export { ParallelPredictor, concatPredictions } from './parallel-predictor.js';
export { RemoteExtractor, type ArrayFeatureSink, type LevelMaps } from './remote-extractor.js';
export type { ExtractorRecipe } from './worker-protocol.js';
export { writeFileAtomic, fileStore } from './files.js';
