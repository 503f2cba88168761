import type { ValidationReport } from './validation.js';

/*
 * What a training run reports as it goes: after each batch and after each epoch (the epoch
 * history the trainer checkpoint keeps). Apart from trainer.ts so the checkpoint code can use
 * them without importing the trainer.
 */

/** How the optimizer steps each batch. */
export type StepMode = 'per-level' | 'joint';

/** Progress after one batch. */
export interface BatchReport {
  /** Epoch being run, 1-based. */
  epoch: number;
  epochs: number;
  /** Batch within the epoch, 1-based, and the number of batches per epoch. */
  batch: number;
  batches: number;
  /** Loss of each trained level on this batch (in the order of `levels`). */
  losses: number[];
  /** The model levels `losses` refer to. */
  levels: number[];
  /** Images of this batch per second of training step (RLR only). */
  imagesPerSecond: number;
}

/** Summary of one epoch. */
export interface EpochReport {
  /** Epoch completed, 1-based. */
  epoch: number;
  epochs: number;
  /** Mean batch loss of each trained level (in the order of `levels`). */
  losses: number[];
  /** The model levels `losses` refer to. */
  levels: number[];
  /** Mean over levels of {@link losses} (the released trainer's "Rec Loss"). */
  loss: number;
  /** Wall time of the epoch in seconds (of the part run in this process when resumed mid-epoch). */
  seconds: number;
  imagesPerSecond: number;
  /** Whether a checkpoint was written after this epoch. */
  checkpointed: boolean;
  /** Learning rate of the epoch's last step. */
  lr?: number;
  /** Seconds of the budget clock since `fit` started (this process only). */
  clockSeconds?: number;
  /** Validation after this epoch (with `options.validation`). */
  val?: ValidationReport;
  /** Whether this epoch has the lowest validation loss so far. */
  bestVal?: boolean;
}
