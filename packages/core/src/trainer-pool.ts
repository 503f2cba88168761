import type { AdamOptions, AdamState } from './adam.js';
import type { RLRModel } from './rlr-model.js';

/**
 * The contract between {@link Trainer} and something that runs its batches elsewhere — in Node,
 * `@rlr/core/node`'s `WorkerPool` (worker threads, each with its own tfjs backend). Only types
 * live here, so the main entry stays browser-safe; without a pool the trainer runs in-process.
 *
 * Data parallelism: each batch's images are split over the workers, every worker computes the
 * loss and gradients of its images (with the jitter noise a serial run draws for exactly those
 * images), the gradients are summed image-weighted in a fixed order, and every worker applies
 * the same Adam step to its own replica — so replicas stay identical without re-broadcasting
 * weights, and results differ from a serial run only by floating-point summation order.
 */
export interface TrainingPool {
  /** Number of workers a batch is split over. */
  readonly size: number;
  /**
   * Copy the model's parameters and the optimizer states of the trained levels to the workers.
   * The session lasts one `Trainer.fit`; the trainer closes it.
   */
  startTraining(model: RLRModel, setup: TrainingSetup): Promise<TrainingSession>;
}

/** What a {@link TrainingSession} starts from. */
export interface TrainingSetup {
  /** Model levels being trained. */
  levels: number[];
  /** Adam settings (the same for every level). */
  adam: AdamOptions;
  /** Optimizer state of each trained level, in the order of `levels`. */
  optimizers: AdamState[];
}

/** Where a batch sits in training: everything a step's jitter noise and chunking depend on. */
export interface StepPosition {
  /** Completed epochs before this batch (0-based epoch index). */
  epoch: number;
  /** Batch index within the epoch, 0-based. */
  batch: number;
  seed: number;
  jitterScale: number;
  imagesPerPass: number;
}

/** The part of a batch one pass covers: images `[first, first + images)` of `batchImages`. */
export interface BatchPart {
  first: number;
  images: number;
  batchImages: number;
}

/** Parameters (and optionally optimizer states) of the trained levels, read back from a session. */
export interface PulledState {
  /** Per trained level (order of `TrainingSetup.levels`): values by internal parameter name. */
  params: Map<string, Float32Array>[];
  /** Per trained level, when asked for. */
  optimizers?: AdamState[];
}

/** One `fit` worth of parallel training. */
export interface TrainingSession {
  /**
   * Losses and combined gradients of one batch; nothing is applied yet (the trainer checks the
   * losses first). Returns the loss of each trained level, in the order of `TrainingSetup.levels`.
   * @param features one `[images, h, w, C]` array per model level (as `FeatureSource.read` gives)
   */
  gradients(features: Float32Array[], images: number, at: StepPosition): Promise<number[]>;
  /**
   * One Adam step of each of `levels` with the gradients of the last {@link gradients} call, at
   * learning rate `lr` (default: the session's `TrainingSetup.adam.lr`; schedules pass theirs).
   */
  apply(levels: number[], lr?: number): Promise<void>;
  /** The replicas' current parameters (and optimizer states): for checkpoints, epoch ends and the end of `fit`. */
  pull(withOptimizers: boolean): Promise<PulledState>;
  /** Release the replicas. */
  close(): Promise<void>;
}
