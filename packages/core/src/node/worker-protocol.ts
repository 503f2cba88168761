/**
 * Messages between a {@link WorkerPool} and its worker threads. Every request carries an id and
 * is answered once with the same id; the worker's start-up is answered as request 0.
 */
import type { AdamOptions } from '../adam.js';
import type { LevelConfig, RLRConfig, RLRSpec } from '../config.js';
import type { FeatureInfo } from '../feature-extractor.js';
import type { ScoringOptions } from '../scoring.js';
import type { BatchPart, StepPosition } from '../trainer-pool.js';

/** `workerData` of every worker. */
export interface WorkerInit {
  /** Position of the worker in its pool (used in messages). */
  index: number;
  /** tfjs backend to select, e.g. `wasm`. */
  backend: string;
  /** Modules to import before selecting the backend (bare specifiers or file URLs). */
  modules: string[];
  /** Mirror of the main thread's tfjs PROD flag. */
  prod: boolean;
  /** File URL of tsx's ESM API, to import TypeScript modules (running from sources); null when unavailable. */
  tsx: string | null;
}

export interface TaskRequest {
  id: number;
  task: string;
  payload: unknown;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type TaskReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/** A model replica: enough to rebuild the model exactly (resolved level configs, packed parameters). */
export interface ModelPayload {
  spec: RLRSpec;
  config: RLRConfig;
  levels: LevelConfig[];
  /** Per level, every parameter in `levelParamDefs` order. */
  params: Float32Array[];
}

/** The share of a level's Adam state one worker owns: moments of parameters `[lo, hi)` (packed order). */
export interface PackedAdamShard {
  lo: number;
  hi: number;
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export interface TrainBeginPayload {
  session: string;
  /** The replica; the trained levels' parameters are views of shared memory, updated in place by the workers' Adam shards. */
  model: ModelPayload;
  levels: number[];
  adam: AdamOptions;
  /** Per trained level: this worker's share of the optimizer state. */
  shards: PackedAdamShard[];
  /** Per trained level: one gradient slot per worker (`[workers, P]` float32), shared by all. */
  slots: SharedArrayBuffer[];
}

export interface TrainGradsPayload {
  session: string;
  part: BatchPart;
  at: StepPosition;
  /** Per trained level, the part's images `[images, h, w, C]`. */
  features: Float32Array[];
  /** The gradient slot this part's weighted gradients go to (its position in the batch split). */
  slot: number;
}

export interface TrainGradsResult {
  /** Per trained level: the part's loss weighted by images / batchImages. */
  losses: number[];
}

export interface TrainApplyPayload {
  session: string;
  /** Model levels to step (a prefix of the trained levels, or all of them). */
  levels: number[];
  /** Gradient slots filled by the last `train.grads` round (the parts of the batch). */
  parts: number;
  /** Learning rate of this step (a schedule's); default the session's Adam rate. */
  lr?: number;
}

export interface TrainMomentsResult {
  /** Per trained level: this worker's share of the optimizer state (copies). */
  shards: PackedAdamShard[];
}

export interface PredictPayload {
  model: string;
  images: number;
  /** Per level `[images, h, w, C]`. */
  features: Float32Array[];
  options: { batchSize?: number } & Partial<ScoringOptions>;
}

export interface ScoreImagesPayload {
  model: string;
  extractor: string;
  /** `[images, height, width, 3]` RGB in [0, 1]. */
  images: Float32Array;
  shape: [number, number, number, number];
  options: { batchSize?: number } & Partial<ScoringOptions>;
}

/** How a worker builds a feature extractor: `(await import(module))[exportName](...args)`. */
export interface ExtractorRecipe {
  /** Module specifier or file URL. */
  module: string | URL;
  /** Name of the exported (possibly async) factory returning a `FeatureExtractor`. */
  exportName: string;
  /** Structured-cloneable arguments. */
  args: unknown[];
}

export interface ExtractorInfo {
  name: string;
  outIndices: number[];
  featureInfo: FeatureInfo;
  config: Record<string, unknown>;
}

export interface ExtractPayload {
  extractor: string;
  images: Float32Array;
  shape: [number, number, number, number];
}

export interface ExtractResult {
  maps: Float32Array[];
  shapes: [number, number, number, number][];
}
