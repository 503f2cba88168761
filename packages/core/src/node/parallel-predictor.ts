import type * as tf from '@tensorflow/tfjs-core';
import { levelElements } from '../feature-source.js';
import type { PredictOptions, RLRModel } from '../rlr-model.js';
import type { Prediction } from '../scoring.js';
import { splitBatch } from '../trainer-step.js';
import { concatFloat32, imageParts } from './image-parts.js';
import { modelPayload } from './parallel-training.js';
import type { RemoteExtractor } from './remote-extractor.js';
import type { WorkerChannel } from './worker-channel.js';

/** Join the predictions of consecutive image ranges into one. */
export function concatPredictions(parts: Prediction[]): Prediction {
  if (parts.length === 1) return parts[0];
  const cat = concatFloat32;
  return {
    batch: parts.reduce((n, p) => n + p.batch, 0),
    size: parts[0].size,
    scores: cat(parts.map((p) => p.scores)),
    maps: cat(parts.map((p) => p.maps)),
    smoothedMaps: cat(parts.map((p) => p.smoothedMaps)),
    tokenScores: parts[0].tokenScores.map((_, i) => cat(parts.map((p) => p.tokenScores[i]))),
  };
}

/**
 * Parallel inference: a replica of a model (its parameters when the predictor was made) in every
 * worker; each batch's images are split over the workers, which compute token scores, maps,
 * blur and image scores for their images. Images are independent, so the result equals
 * `model.predict` on the whole batch. Create with `pool.predictor(model)`; {@link close} it to
 * free the replicas.
 */
export class ParallelPredictor {
  private closed = false;

  private constructor(
    private readonly pool: WorkerChannel,
    private readonly key: string,
    private readonly model: RLRModel,
  ) {}

  /** @internal use `pool.predictor(model)` */
  static async start(pool: WorkerChannel, model: RLRModel): Promise<ParallelPredictor> {
    const key = pool.newKey('model');
    const predictor = new ParallelPredictor(pool, key, model);
    try {
      await pool.broadcast('model.load', { key, model: await modelPayload(model) });
    } catch (e) {
      await predictor.close().catch(() => undefined);
      throw e;
    }
    return predictor;
  }

  /** Workers this predictor splits batches over. */
  get workers(): number {
    return this.pool.size;
  }

  /**
   * Score a batch, like `model.predict` (same options, same result).
   * @param levelFeatures one `[B, h, w, C]` map per level: tensors (read, not disposed) or
   *   row-major arrays
   */
  async predict(levelFeatures: (tf.Tensor4D | Float32Array)[], options: PredictOptions = {}): Promise<Prediction> {
    this.check();
    const levels = this.model.levels;
    if (levelFeatures.length !== levels.length) {
      throw new Error(`ParallelPredictor.predict: got ${levelFeatures.length} feature maps, the model has ${levels.length} levels`);
    }
    const arrays: Float32Array[] = [];
    for (const f of levelFeatures) arrays.push(f instanceof Float32Array ? f : ((await f.data()) as Float32Array));
    const per = levels.map((lv) => levelElements({ grid: lv.config.grid, channels: lv.config.channels }));
    const batch = arrays[0].length / per[0];
    arrays.forEach((a, i) => {
      if (!Number.isInteger(batch) || batch < 1 || a.length !== batch * per[i]) {
        const [h, w] = levels[i].config.grid;
        throw new Error(`ParallelPredictor.predict: level ${i} holds ${a.length} values, expected [${Number.isInteger(batch) ? batch : 'B'}, ${h}, ${w}, ${levels[i].config.channels}]`);
      }
    });
    const parts = splitBatch(batch, this.pool.size);
    const results = await Promise.all(
      parts.map((part, w) => {
        const mine = arrays.map((a, i) => a.slice(part.first * per[i], (part.first + part.images) * per[i]));
        return this.pool.call<Prediction>(w, 'model.predict', { model: this.key, images: part.images, features: mine, options }, mine.map((m) => m.buffer));
      }),
    );
    return concatPredictions(results);
  }

  /**
   * Extract features and score in the workers (images never come back as features): each worker
   * runs its part of the batch through `extractor` (made by the same pool) and the model.
   * @param images `[B, H, W, 3]` RGB in [0, 1], row-major
   */
  async scoreImages(extractor: RemoteExtractor, images: Float32Array, height: number, width: number, options: PredictOptions = {}): Promise<Prediction> {
    this.check();
    const parts = imageParts(images, height, width, this.pool.size, 'ParallelPredictor.scoreImages');
    const results = await Promise.all(
      parts.map((part, w) => {
        const payload = { model: this.key, extractor: extractor.key, images: part.images, shape: part.shape, options };
        return this.pool.call<Prediction>(w, 'model.scoreImages', payload, [part.images.buffer]);
      }),
    );
    return concatPredictions(results);
  }

  private check(): void {
    if (this.closed) throw new Error('ParallelPredictor: closed; create a new one with pool.predictor(model)');
  }

  /** Release the replicas in the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.pool.closed) await this.pool.broadcast('model.release', { key: this.key });
  }
}
