import * as tf from '@tensorflow/tfjs-core';
import { Adam, ADAM_DEFAULTS, type AdamOptions } from './adam.js';
import type { BlobStore } from './blob-store.js';
import { checkLevelShapes, type FeatureSource } from './feature-source.js';
import { disposeGradients, type GradientMap } from './gradients.js';
import { Rng, deriveSeed, permutation } from './rng.js';
import type { RLRModel } from './rlr-model.js';
import { scheduledLr, type LrScheduleKind } from './lr-schedule.js';
import { assignOfficialTensors, modelToOfficialTensors } from './model-io.js';
import type { OfficialTensor } from './level-params.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { readTrainerCheckpoint, writeTrainerCheckpoint, type ResumeOptions, type TrainerCheckpoint } from './trainer-checkpoint.js';
import type { BatchReport, EpochReport, StepMode } from './training-progress.js';
import { validate, type ValidationReport } from './validation.js';
import type { StepPosition, TrainingPool, TrainingSession } from './trainer-pool.js';
import { batchPartGradients } from './trainer-step.js';

/** Settings of a {@link Trainer}; defaults are the paper's (SPEC section 3). */
export interface TrainerOptions {
  /** Adam learning rate (1e-4). */
  lr: number;
  /** Epochs to train to (200). Resuming continues up to this count. */
  epochs: number;
  /**
   * Learning-rate schedule (`constant`, the paper's). `cosine` decays from `lr` to nearly 0 over
   * the `epochs` (see `scheduledLr`); the step count, not the clock, drives it, so a resumed run
   * continues the same curve.
   */
  lrSchedule: LrScheduleKind;
  /** Epochs of linear warm-up from ~0 to `lr` before the schedule (0; may be fractional). */
  warmupEpochs: number;
  /**
   * Training budget in seconds of {@link clock} from the start of `fit` (unset: no budget). When
   * it runs out, training stops after the current batch as `requestStop()` does (checkpoint
   * with a store), with `stopReason: 'budget'`.
   */
  maxSeconds?: number;
  /** The clock of {@link maxSeconds} and {@link marks}, in seconds (default: wall time, `performance.now()`). */
  clock?: () => number;
  /**
   * Budget marks in seconds of {@link clock}: at the end of the last epoch that fits before each
   * mark (by the duration of the epoch just finished), `onMark` is called once, so a program
   * can save the model it would have had with that budget.
   */
  marks?: number[];
  /** Called for each of {@link marks} (in increasing order), after that epoch's `onEpoch`. */
  onMark?: (markSeconds: number, report: EpochReport) => void | Promise<void>;
  /**
   * Features of held-out normal images (never test images): scored after every epoch
   * (`EpochReport.val`), tracked for the best epoch, and used by `earlyStopPatience`.
   */
  validation?: FeatureSource;
  /** Stop when the validation loss has not improved for this many epochs (needs `validation`). */
  earlyStopPatience?: number;
  /** Images per batch (4); the last batch of an epoch may be smaller (drop_last = false). */
  batchSize: number;
  /** Seed of the shuffles and the jitter noise (default: the model's seed, 3407). */
  seed: number;
  /**
   * `per-level` (official order): for each level, loss → gradients → Adam step before the next
   * level. `joint`: all levels' gradients first, then one step of every level. Levels share no
   * parameters, so both give the same parameters; per-level holds one level's gradients at a time.
   */
  stepMode: StepMode;
  /** Jitter scale s (default: the model's, 4). */
  jitterScale: number;
  /** β₁, β₂, ε of Adam (0.9, 0.999, 1e-8). */
  adam: Partial<Omit<AdamOptions, 'lr'>>;
  /**
   * Images per forward/backward pass (4). Larger batches are processed in chunks of this size
   * with exactly combined gradients, which bounds memory (the wasm heap is limited to 4 GB; the
   * official 32x32 level needs ~0.45 GB per image in a pass).
   */
  imagesPerPass: number;
  /**
   * Model levels to train (default: all). Levels share nothing, so separate processes can train
   * different levels of the same model (same seed) and the results equal one joint run: the
   * jitter noise of level i depends on i, not on which levels run together.
   */
  levels?: number[];
  /** Write a checkpoint every this many epochs (0: only when stopped and at the end). */
  checkpointEvery: number;
  /** Where checkpoints go (and `resume` reads from by default); without it nothing is written. */
  store?: BlobStore;
  /** Called after every batch. */
  onBatch?: (report: BatchReport) => void | Promise<void>;
  /** Called after every epoch. */
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Aborting it stops training after the current batch (with a checkpoint when a store is set). */
  signal?: AbortSignal;
  /**
   * Run each batch split over workers (Node: `createWorkerPool` from `@rlr/core/node`). The
   * results equal a serial run's up to floating-point summation order. The model's parameters
   * are brought up to date from the workers at every epoch end (before `onEpoch`), at
   * checkpoints and when `fit` returns or throws; inside `onBatch` they lag behind. Without a
   * pool (the default, and the only choice in browsers) batches run in this thread.
   */
  pool?: TrainingPool;
}

/** Why {@link Trainer.fit} returned. */
export type StopReason = 'done' | 'requested' | 'budget' | 'early-stop';

/** Outcome of {@link Trainer.fit}. */
export interface TrainResult {
  /** Epochs completed in total (including those before a resume). */
  epochsCompleted: number;
  /**
   * True when training ended early because of `requestStop()`, the abort signal or the budget
   * (`maxSeconds`), with a checkpoint to resume from; early stopping is a normal end (false).
   */
  stopped: boolean;
  /** Why training ended. */
  stopReason: StopReason;
  /** Epoch (1-based) with the lowest validation loss, and that loss (with `options.validation`). */
  best?: { epoch: number; loss: number };
  history: EpochReport[];
}

/** Blob of the trainer's store holding the best-by-validation weights (official names). */
export const BEST_WEIGHTS_BLOB = 'best-val.safetensors';

/** Resolve after the event loop has had a turn (timers, I/O, signals). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Thrown when a loss becomes NaN or infinite; parameters keep their last finite values. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly epoch: number,
    readonly batch: number,
    readonly level: number,
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** Running sums of the epoch in progress (saved in checkpoints taken mid-epoch). */
interface EpochProgress {
  lossSums: number[];
  batches: number;
}

/**
 * Trains an {@link RLRModel} on cached backbone features: shuffles with a seed, jitters the input,
 * computes each level's loss and gradients and steps one Adam per level (SPEC section 3).
 *
 * Reproducible and resumable: the shuffle of epoch e depends only on (seed, e) and the jitter
 * noise of a step only on (seed, epoch, batch, level), so a run resumed from a checkpoint
 * produces the same losses as one that never stopped.
 */
export class Trainer {
  readonly model: RLRModel;
  readonly options: TrainerOptions;
  private readonly optimizers: Adam[];
  private epoch = 0;
  private batch = 0;
  private progress: EpochProgress;
  private history: EpochReport[] = [];
  private stopRequested = false;
  private trained: number[];
  private best: { epoch: number; loss: number } | undefined;
  private bestWeights: Map<string, OfficialTensor> | undefined;

  constructor(model: RLRModel, options: Partial<TrainerOptions> = {}) {
    this.model = model;
    this.options = {
      lr: ADAM_DEFAULTS.lr,
      epochs: 200,
      batchSize: 4,
      seed: model.config.seed,
      stepMode: 'per-level',
      jitterScale: model.config.jitterScale,
      adam: {},
      imagesPerPass: 4,
      checkpointEvery: 0,
      lrSchedule: 'constant',
      warmupEpochs: 0,
      ...options,
    };
    const o = this.options;
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`Trainer: batchSize must be a positive integer, got ${o.batchSize}`);
    if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`Trainer: epochs must be a non-negative integer, got ${o.epochs}`);
    if (!(o.lr > 0)) throw new Error(`Trainer: lr must be positive, got ${o.lr}`);
    if (o.stepMode !== 'per-level' && o.stepMode !== 'joint') throw new Error(`Trainer: stepMode must be "per-level" or "joint", got ${o.stepMode}`);
    if (o.lrSchedule !== 'constant' && o.lrSchedule !== 'cosine') throw new Error(`Trainer: lrSchedule must be "constant" or "cosine", got ${String(o.lrSchedule)}`);
    if (!(o.warmupEpochs >= 0)) throw new Error(`Trainer: warmupEpochs must be non-negative, got ${o.warmupEpochs}`);
    if (o.maxSeconds !== undefined && !(o.maxSeconds > 0)) throw new Error(`Trainer: maxSeconds must be positive, got ${o.maxSeconds}`);
    if (o.earlyStopPatience !== undefined && !(Number.isInteger(o.earlyStopPatience) && o.earlyStopPatience >= 1)) {
      throw new Error(`Trainer: earlyStopPatience must be an integer of at least 1, got ${o.earlyStopPatience}`);
    }
    if (o.earlyStopPatience !== undefined && !o.validation) throw new Error('Trainer: earlyStopPatience needs validation features (options.validation)');
    if (!(o.imagesPerPass >= 1)) throw new Error(`Trainer: imagesPerPass must be at least 1, got ${o.imagesPerPass}`);
    const all = model.levels.map((_, i) => i);
    this.trained = o.levels ? [...o.levels] : all;
    if (!this.trained.length || this.trained.some((i) => !all.includes(i)) || new Set(this.trained).size !== this.trained.length) {
      throw new Error(`Trainer: levels ${JSON.stringify(o.levels)} must be distinct indices among the model's levels ${JSON.stringify(all)}`);
    }
    this.optimizers = model.levels.map((lv) => new Adam(lv.params, { ...ADAM_DEFAULTS, ...o.adam, lr: o.lr }));
    this.progress = { lossSums: this.trained.map(() => 0), batches: 0 };
    o.signal?.addEventListener('abort', () => this.requestStop());
  }

  /** Epochs completed so far (after `resume`, those of the checkpoint). */
  get epochsCompleted(): number {
    return this.epoch;
  }

  /** Epoch (1-based) and loss of the lowest validation loss so far (with `options.validation`). */
  get bestValidation(): { epoch: number; loss: number } | undefined {
    return this.best && { ...this.best };
  }

  /**
   * Put the best-by-validation weights into the model (`--keep best-val`). Call after `fit`;
   * a no-op returning false when there is no validation record yet.
   */
  restoreBest(): boolean {
    if (!this.bestWeights) return false;
    assignOfficialTensors(this.model, this.bestWeights, 'the best-by-validation weights');
    return true;
  }

  /**
   * Run `fn` with the best-by-validation weights in the model, then put the current ones back
   * (e.g. to save a snapshot of the best model from `onMark`). Without a validation record the
   * model is left as it is.
   */
  async withBest<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.bestWeights) return fn();
    const current = await modelToOfficialTensors(this.model);
    assignOfficialTensors(this.model, this.bestWeights, 'the best-by-validation weights');
    try {
      return await fn();
    } finally {
      assignOfficialTensors(this.model, current, 'the current weights');
    }
  }

  /** Ask training to stop after the current batch; `fit` then writes a checkpoint (with a store) and returns. */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Restore parameters, optimizer state and position from a checkpoint written by this trainer
   * (default: `options.store`). The checkpoint's seed, batch size, step mode, jitter scale and
   * Adam settings replace the options so the continuation matches the original run.
   * @returns the position training will continue from
   */
  async resume(store: BlobStore | undefined = this.options.store, options: ResumeOptions = {}): Promise<{ epoch: number; batch: number }> {
    if (!store) throw new Error('Trainer.resume: no store given and options.store is not set');
    const ckpt = await readTrainerCheckpoint(store, this.model, options);
    this.applyCheckpoint(ckpt, store.location);
    this.history = (options.history ?? []).filter((h) => h.epoch <= ckpt.epoch);
    this.bestWeights = undefined;
    if (ckpt.best && (await store.exists(BEST_WEIGHTS_BLOB))) {
      const file = parseSafetensors(await store.read(BEST_WEIGHTS_BLOB), `${store.location}/${BEST_WEIGHTS_BLOB}`);
      this.bestWeights = new Map([...file.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]));
    }
    return { epoch: this.epoch, batch: this.batch };
  }

  private applyCheckpoint(ckpt: TrainerCheckpoint, where: string): void {
    const o = this.options;
    o.seed = ckpt.seed;
    o.batchSize = ckpt.batchSize;
    o.stepMode = ckpt.stepMode;
    o.jitterScale = ckpt.jitterScale;
    if (ckpt.levels) this.trained = ckpt.levels.slice();
    o.lr = ckpt.adam.lr;
    o.adam = { beta1: ckpt.adam.beta1, beta2: ckpt.adam.beta2, epsilon: ckpt.adam.epsilon };
    this.optimizers.forEach((opt, i) => {
      Object.assign(opt.options, ckpt.adam);
      opt.setState(ckpt.optimizers[i], `${where} optimizer of level ${i}`);
    });
    this.epoch = ckpt.epoch;
    this.batch = ckpt.batch;
    this.progress = { lossSums: ckpt.progress.lossSums.slice(), batches: ckpt.progress.batches };
    this.best = ckpt.best ? { ...ckpt.best } : undefined;
  }

  private async checkpoint(): Promise<boolean> {
    const store = this.options.store;
    if (!store) return false;
    await writeTrainerCheckpoint(store, this.model, {
      epoch: this.epoch,
      batch: this.batch,
      seed: this.options.seed,
      batchSize: this.options.batchSize,
      stepMode: this.options.stepMode,
      jitterScale: this.options.jitterScale,
      levels: this.trained.slice(),
      // The peak rate: the optimizers' own rate follows the schedule step by step.
      adam: { ...this.optimizers[0].options, lr: this.options.lr },
      optimizers: await Promise.all(this.optimizers.map((o) => o.getState())),
      best: this.best ? { ...this.best } : undefined,
      progress: { lossSums: this.progress.lossSums.slice(), batches: this.progress.batches },
    });
    return true;
  }

  /**
   * Train until `options.epochs` epochs are complete (or a stop is requested).
   * @param source training features (see `FeatureBank`, `FeatureCache`)
   * @throws {TrainingDivergedError} on a NaN or infinite loss (no step is applied with it, and
   *   the last checkpoint in the store is kept)
   */
  async fit(source: FeatureSource): Promise<TrainResult> {
    const levels = this.model.levels;
    checkLevelShapes(
      source.levels,
      levels.map((l) => ({ grid: l.config.grid, channels: l.config.channels })),
      'Trainer.fit',
    );
    if (source.size < 1) throw new Error('Trainer.fit: the feature source holds no images');
    const pool = this.options.pool;
    if (!pool) return this.run(source, undefined);
    const session = await pool.startTraining(this.model, {
      levels: this.trained.slice(),
      adam: { ...this.optimizers[0].options },
      optimizers: await Promise.all(this.trained.map((i) => this.optimizers[i].getState())),
    });
    let failed = false;
    try {
      return await this.run(source, session);
    } catch (e) {
      failed = !(e instanceof TrainingDivergedError);
      throw e;
    } finally {
      try {
        // The trainer's own model and optimizers are what checkpoints, later fits and the caller
        // see: bring them up to date (also after a divergence, whose earlier level steps count).
        if (!failed) await this.pull(session, true);
      } finally {
        await session.close().catch((e) => {
          if (!failed) throw e;
        });
      }
    }
  }

  /** The training loop; `session` runs the batches in workers when given. */
  private async run(source: FeatureSource, session: TrainingSession | undefined): Promise<TrainResult> {
    const { batchSize, epochs, seed, checkpointEvery, store, maxSeconds } = this.options;
    const batches = Math.ceil(source.size / batchSize);
    const clock = this.options.clock ?? (() => performance.now() / 1000);
    const clock0 = clock();
    const marks = [...(this.options.marks ?? [])].sort((a, b) => a - b);
    const warmupSteps = Math.round(this.options.warmupEpochs * batches);
    let lr = this.options.lr;
    let stopReason: StopReason = 'done';
    const result = (stopped: boolean): TrainResult => ({
      epochsCompleted: this.epoch,
      stopped,
      stopReason,
      best: this.bestValidation,
      history: this.history.slice(),
    });
    this.stopRequested = this.stopRequested || !!this.options.signal?.aborted;
    while (this.epoch < epochs) {
      const order = permutation(source.size, new Rng(deriveSeed(seed, 0x5eed, this.epoch)));
      const started = performance.now();
      let images = 0;
      while (this.batch < batches) {
        if (!this.stopRequested && maxSeconds !== undefined && clock() - clock0 >= maxSeconds) {
          this.stopRequested = true;
          stopReason = 'budget';
        }
        if (this.stopRequested) {
          if (stopReason === 'done') stopReason = 'requested';
          if (session) await this.pull(session, !!store);
          await this.checkpoint();
          return result(true);
        }
        lr = scheduledLr(this.options.lrSchedule, this.options.lr, this.epoch * batches + this.batch, epochs * batches, warmupSteps);
        const indices = order.subarray(this.batch * batchSize, Math.min(source.size, (this.batch + 1) * batchSize));
        const features = await source.read(indices);
        const t0 = performance.now();
        const losses = session ? await this.parallelStep(session, features, indices.length, lr) : await this.step(features, indices.length, lr);
        const dt = (performance.now() - t0) / 1000;
        losses.forEach((l, i) => (this.progress.lossSums[i] += l));
        this.progress.batches += 1;
        images += indices.length;
        this.batch += 1;
        await this.options.onBatch?.({
          epoch: this.epoch + 1,
          epochs,
          batch: this.batch,
          batches,
          losses,
          levels: this.trained.slice(),
          imagesPerSecond: indices.length / dt,
        });
        // A step on wasm/cpu settles its promises as microtasks only: without a macrotask turn
        // the event loop would never poll, and a SIGINT handler (requestStop) would not run
        // until training ended. One timer per batch costs ~1 ms against seconds of work.
        await nextMacrotask();
      }
      const seconds = (performance.now() - started) / 1000;
      const means = this.progress.lossSums.map((s) => s / this.progress.batches);
      this.epoch += 1;
      this.batch = 0;
      this.progress = { lossSums: this.trained.map(() => 0), batches: 0 };
      const report: EpochReport = {
        epoch: this.epoch,
        epochs,
        losses: means,
        levels: this.trained.slice(),
        loss: means.reduce((a, b) => a + b, 0) / means.length,
        seconds,
        imagesPerSecond: images / seconds,
        checkpointed: false,
        lr,
      };
      this.history.push(report);
      const due = checkpointEvery > 0 && this.epoch % checkpointEvery === 0;
      let last = this.epoch === epochs;
      // Parameters are pulled from the workers at every epoch end (validation reads them).
      if (session) await this.pull(session, (due || last) && !!store);
      if (this.options.validation) {
        report.val = await this.validateOrDiverge(this.options.validation);
        report.bestVal = await this.trackBest(report.val.loss);
        const patience = this.options.earlyStopPatience;
        if (!last && patience !== undefined && this.best && this.epoch - this.best.epoch >= patience) {
          stopReason = 'early-stop';
          last = true;
          // The checkpoint below needs the workers' optimizer states too.
          if (session && !due && store) await this.pull(session, true);
        }
      }
      if (due || last) report.checkpointed = await this.checkpoint();
      report.clockSeconds = clock() - clock0;
      await this.options.onEpoch?.(report);
      // Marks this epoch is the last to fit before: another epoch like this one would pass them.
      const elapsed = clock() - clock0;
      const epochClock = this.history.length > 1 && this.history.at(-2)?.clockSeconds !== undefined ? elapsed - this.history.at(-2)!.clockSeconds! : elapsed;
      while (marks.length && (elapsed + epochClock > marks[0] || last)) {
        const mark = marks.shift()!;
        await this.options.onMark?.(mark, report);
      }
      if (stopReason === 'early-stop') return result(false);
    }
    return result(false);
  }

  /** Record a validation loss; keeps a host copy (and the store's blob) of the best weights. */
  private async trackBest(loss: number): Promise<boolean> {
    if (this.best && !(loss < this.best.loss)) return false;
    this.best = { epoch: this.epoch, loss };
    this.bestWeights = await modelToOfficialTensors(this.model);
    const store = this.options.store;
    if (store) {
      const tensors = new Map([...this.bestWeights].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
      await store.write(BEST_WEIGHTS_BLOB, serializeSafetensors(tensors, { format: 'rlr-best-val', epoch: String(this.epoch) }));
    }
    return true;
  }

  /**
   * Validation after an epoch. Its images are normal and their features were finite during
   * training, so a non-finite validation score means the parameters themselves diverged in the
   * epoch's last steps (e.g. far too high a learning rate): reported as a divergence.
   */
  private async validateOrDiverge(source: FeatureSource): Promise<ValidationReport> {
    try {
      return await validate(this.model, source);
    } catch (e) {
      if (!/non-finite/i.test((e as Error).message)) throw e;
      throw new TrainingDivergedError(
        `training diverged: the validation images score NaN/Infinity after epoch ${this.epoch}. ` +
          'Lower the learning rate or check the features for NaN/Inf.',
        this.epoch,
        this.batch,
        -1,
      );
    }
  }

  /** Where the current batch sits: what its noise and chunking depend on. */
  private position(): StepPosition {
    const o = this.options;
    return { epoch: this.epoch, batch: this.batch, seed: o.seed, jitterScale: o.jitterScale, imagesPerPass: o.imagesPerPass };
  }

  private diverged(level: number, loss: number): TrainingDivergedError {
    return new TrainingDivergedError(
      `training diverged: level ${level} loss is ${loss} at epoch ${this.epoch + 1}, batch ${this.batch + 1}; ` +
        'no update was applied and the last checkpoint is kept. Lower the learning rate or check the features for NaN/Inf.',
      this.epoch + 1,
      this.batch + 1,
      level,
    );
  }

  /** One batch: jitter, loss and gradients per trained level, Adam steps. Returns each trained level's loss. */
  private async step(features: Float32Array[], n: number, lr: number): Promise<number[]> {
    const levels = this.model.levels;
    const losses: number[] = [];
    const pending: [number, GradientMap][] = [];
    const at = this.position();
    try {
      for (const i of this.trained) {
        const { loss, grads } = batchPartGradients(levels[i], i, features[i], { first: 0, images: n, batchImages: n }, at);
        const value = (await loss.data())[0];
        loss.dispose();
        if (!Number.isFinite(value)) {
          disposeGradients(grads);
          throw this.diverged(i, value);
        }
        losses.push(value);
        this.optimizers[i].options.lr = lr;
        if (this.options.stepMode === 'per-level') {
          this.optimizers[i].apply(grads);
          disposeGradients(grads);
        } else pending.push([i, grads]);
      }
      for (const [i, g] of pending) this.optimizers[i].apply(g);
    } finally {
      for (const [, g] of pending) disposeGradients(g);
    }
    return losses;
  }

  /**
   * One batch split over the pool's workers. Every level's gradients are computed before any
   * step (levels share nothing, so this equals the per-level order); on a non-finite loss the
   * levels before it are still stepped in per-level mode, as the serial loop does.
   */
  private async parallelStep(session: TrainingSession, features: Float32Array[], n: number, lr: number): Promise<number[]> {
    const losses = await session.gradients(features, n, this.position());
    const bad = losses.findIndex((l) => !Number.isFinite(l));
    if (bad >= 0) {
      if (this.options.stepMode === 'per-level' && bad > 0) await session.apply(this.trained.slice(0, bad), lr);
      throw this.diverged(this.trained[bad], losses[bad]);
    }
    await session.apply(this.trained, lr);
    return losses;
  }

  /** Copy the workers' parameters (and optimizer states) into this trainer's model and optimizers. */
  private async pull(session: TrainingSession, withOptimizers: boolean): Promise<void> {
    const state = await session.pull(withOptimizers);
    this.trained.forEach((level, k) => {
      const params = this.model.levels[level].params;
      tf.tidy(() => {
        for (const [name, v] of params) {
          const values = state.params[k].get(name);
          if (!values) throw new Error(`Trainer: the workers returned no values for parameter "${name}" of level ${level}`);
          v.assign(tf.tensor(values, v.shape));
        }
      });
      if (state.optimizers) this.optimizers[level].setState(state.optimizers[k], `worker optimizer of level ${level}`);
    });
  }

  /** Release the optimizer state (the model stays). */
  dispose(): void {
    for (const o of this.optimizers) o.dispose();
  }
}
