import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { presets, resolveLevels, type LevelConfig, type RLRConfig, type RLRSpec } from './config.js';
import { initLevelParams, type LevelParams } from './level-params.js';
import { tokenScores } from './loss.js';
import { RLRLevel } from './rlr-level.js';
import { gatherRows } from './row-kernels.js';
import { scoreFromTokens, type Prediction, type ScoringOptions } from './scoring.js';

/** Options of {@link RLRModel.predict}. */
export interface PredictOptions extends Partial<ScoringOptions> {
  /** Images per forward pass (bounds memory); default 8. */
  batchSize?: number;
}

/**
 * The multi-level RLR model: one independent {@link RLRLevel} per backbone stage.
 * Create with {@link createRLR}, train with `Trainer`, persist with `saveModel`/`loadModel`.
 */
export class RLRModel {
  readonly spec: RLRSpec;
  /** The configuration the model was created with (preset values filled in). */
  readonly config: RLRConfig;
  readonly levels: RLRLevel[];
  /**
   * Free-form JSON-able facts saved with the model (backbone config, preprocessing, training
   * summary, …): `saveModel` writes them into config.json, `loadModel` restores them.
   */
  metadata: Record<string, unknown> = {};

  constructor(spec: RLRSpec, config: RLRConfig, levels: RLRLevel[]) {
    this.spec = spec;
    this.config = config;
    this.levels = levels;
  }

  /** Resolved per-level settings. */
  get levelConfigs(): LevelConfig[] {
    return this.levels.map((l) => l.config);
  }

  private check(levelFeatures: tf.Tensor[], what: string): number {
    if (levelFeatures.length !== this.levels.length) {
      throw new Error(`${what}: got ${levelFeatures.length} feature maps, the model has ${this.levels.length} levels`);
    }
    const batch = levelFeatures[0].shape[0];
    levelFeatures.forEach((f, i) => {
      const [h, w] = this.levels[i].config.grid;
      const c = this.levels[i].config.channels;
      if (f.rank !== 4 || f.shape[0] !== batch || f.shape[1] !== h || f.shape[2] !== w || f.shape[3] !== c) {
        throw new Error(`${what}: level ${i} features have shape [${f.shape}], expected [${batch}, ${h}, ${w}, ${c}]`);
      }
    });
    return batch;
  }

  /**
   * Reconstructions of the features of each level (inference).
   * @param levelFeatures one [B, h, w, C] map per level (smoothed backbone features)
   * @returns one [B, h, w, C] reconstruction per level; the caller disposes them
   */
  reconstruct(levelFeatures: tf.Tensor4D[]): tf.Tensor4D[] {
    const batch = this.check(levelFeatures, 'RLRModel.reconstruct');
    return this.levels.map((lv, i) =>
      tidy(() => {
        const [h, w] = lv.config.grid;
        return tf.reshape(lv.reconstruct(levelFeatures[i]), [batch, h, w, lv.config.channels]) as tf.Tensor4D;
      }),
    );
  }

  /**
   * Token anomaly scores of each level: mean over channels of (F_rec − F)² + 1 − cos(F_rec, F).
   * @returns one [B, h, w] tensor per level; the caller disposes them
   */
  tokenScores(levelFeatures: tf.Tensor4D[]): tf.Tensor3D[] {
    const batch = this.check(levelFeatures, 'RLRModel.tokenScores');
    return this.levels.map((lv, i) =>
      tidy(() => {
        const [h, w] = lv.config.grid;
        const x = lv.toRows(levelFeatures[i], 'RLRModel.tokenScores');
        return tf.reshape(tokenScores(lv.reconstruct(x), x), [batch, h, w]) as tf.Tensor3D;
      }),
    );
  }

  /**
   * Score a batch: token scores, the pixel anomaly map at the crop size, its Gaussian-smoothed
   * version and the image scores (SPEC section 3). Runs in chunks of `batchSize` images.
   * @param levelFeatures one [B, h, w, C] map per level; not disposed
   */
  async predict(levelFeatures: tf.Tensor4D[], options: PredictOptions = {}): Promise<Prediction> {
    const batch = this.check(levelFeatures, 'RLRModel.predict');
    const chunk = Math.max(1, options.batchSize ?? 8);
    const perLevel: Float32Array[] = this.levels.map((lv) => new Float32Array(batch * lv.tokens));
    for (let start = 0; start < batch; start += chunk) {
      const n = Math.min(chunk, batch - start);
      // Images [start, start + n) of each level (a row range of the [B, h·w·C] view: one copy).
      const parts = levelFeatures.map((f) =>
        n === batch
          ? f
          : tidy(() => tf.reshape(gatherRows(tf.reshape(f, [batch, -1]) as tf.Tensor2D, [[start, n]]), [n, f.shape[1], f.shape[2], f.shape[3]]) as tf.Tensor4D),
      );
      const scores = this.tokenScores(parts);
      for (let i = 0; i < scores.length; i++) {
        perLevel[i].set((await scores[i].data()), start * this.levels[i].tokens);
      }
      tf.dispose(scores);
      if (n !== batch) tf.dispose(parts);
    }
    return scoreFromTokens(
      perLevel.map((data, i) => ({ data, grid: this.levels[i].config.grid })),
      batch,
      this.spec.imageSize,
      options,
    );
  }

  /** Release all tensors of the model. */
  dispose(): void {
    for (const l of this.levels) l.dispose();
  }
}

/**
 * Build an RLR model with freshly initialised parameters (seeded by `config.seed`).
 * @param spec the crop size and the feature levels (see `specFromFeatureInfo`)
 * @param config hyperparameters; missing fields come from `presets.paper`
 */
export function createRLR(spec: RLRSpec, config: Partial<RLRConfig> = presets.paper): RLRModel {
  const full = { ...presets.paper, ...config };
  const levels = resolveLevels(spec, full);
  return new RLRModel(
    spec,
    full,
    levels.map((cfg, i) => new RLRLevel(cfg, initLevelParams(cfg, full.seed, i))),
  );
}

/** Build a model from given parameters (used by loading and checkpoint import). */
export function modelFromParams(spec: RLRSpec, config: RLRConfig, params: LevelParams[]): RLRModel {
  const levels = resolveLevels(spec, config);
  if (params.length !== levels.length) {
    throw new Error(`modelFromParams: ${params.length} parameter sets for ${levels.length} levels`);
  }
  return new RLRModel(spec, config, levels.map((cfg, i) => new RLRLevel(cfg, params[i])));
}
