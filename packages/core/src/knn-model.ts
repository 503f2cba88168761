import * as tf from '@tensorflow/tfjs-core';
import type { RLRSpec } from './config.js';
import { coresetSize, greedyCoreset } from './coreset.js';
import { checkLevelShapes, type FeatureLevelShape, type FeatureSource } from './feature-source.js';
import { NearestDistanceIndex, type NearestDistanceOptions } from './nearest-distance.js';
import type { PredictOptions } from './rlr-model.js';
import { deriveSeed } from './rng.js';
import { scoreFromTokens, type Prediction } from './scoring.js';

/**
 * A nearest-neighbour baseline beside RLR, in the manner of PatchCore: per feature level a memory
 * bank of training tokens (the same smoothed backbone maps RLR reconstructs), subsampled by a
 * greedy coreset; a test token's score is its L2 distance to the nearest bank token. Token scores
 * then take exactly RLR's path (`scoreFromTokens`): per-level grids upsampled bilinearly with
 * align_corners, averaged over levels, Gaussian blur σ = 4, image score = maximum.
 */

/** Settings of a {@link KnnModel}. */
export interface KnnConfig {
  /** Fraction of each level's training tokens the greedy coreset keeps, in (0, 1]; 1 keeps all. */
  coreset: number;
  /** Seed of the coreset's first pick and projection. */
  seed: number;
  /**
   * Dimensions of the random projection the coreset selection compares tokens in (0: the exact
   * channels). Scoring always uses the exact channels.
   */
  projection: number;
}

/** Defaults: 10 % coreset, seed 3407, selection on the exact channels. */
export const KNN_DEFAULTS: KnnConfig = { coreset: 0.1, seed: 3407, projection: 0 };

/** Validate a (partial) knn configuration and fill in the defaults. */
export function resolveKnnConfig(config: Partial<KnnConfig> = {}): KnnConfig {
  const c = { ...KNN_DEFAULTS, ...config };
  if (!(typeof c.coreset === 'number' && c.coreset > 0 && c.coreset <= 1)) {
    throw new Error(`knn config: "coreset" must be a fraction in (0, 1], got ${String(c.coreset)}`);
  }
  if (!Number.isInteger(c.seed)) throw new Error(`knn config: "seed" must be an integer, got ${String(c.seed)}`);
  if (!Number.isInteger(c.projection) || c.projection < 0) throw new Error(`knn config: "projection" must be a non-negative integer, got ${String(c.projection)}`);
  return c;
}

/** The level shapes of a spec. */
function specLevels(spec: RLRSpec): FeatureLevelShape[] {
  return spec.levels.map((l) => ({ grid: [l.grid[0], l.grid[1]], channels: l.channels }));
}

/** The nearest-neighbour model: one bank of tokens per level. */
export class KnnModel {
  readonly kind = 'knn' as const;
  readonly spec: RLRSpec;
  readonly config: KnnConfig;
  /** Each level's bank [M_i, C_i], row-major. */
  readonly banks: Float32Array[];
  /** Free-form JSON-able facts saved with the model (backbone, preprocessing, build summary, …). */
  metadata: Record<string, unknown> = {};
  private readonly indexOptions: NearestDistanceOptions;
  private indices: NearestDistanceIndex[] | undefined;

  constructor(spec: RLRSpec, config: KnnConfig, banks: Float32Array[], indexOptions: NearestDistanceOptions = {}) {
    if (banks.length !== spec.levels.length) throw new Error(`KnnModel: ${banks.length} banks for ${spec.levels.length} levels`);
    banks.forEach((b, i) => {
      const c = spec.levels[i].channels;
      if (b.length === 0 || b.length % c !== 0) throw new Error(`KnnModel: level ${i} bank holds ${b.length} values, not a non-empty set of ${c}-channel tokens`);
    });
    this.spec = spec;
    this.config = config;
    this.banks = banks;
    this.indexOptions = indexOptions;
  }

  /** Tokens in each level's bank. */
  get bankSizes(): number[] {
    return this.banks.map((b, i) => b.length / this.spec.levels[i].channels);
  }

  /** The banks on the backend, made on first use. */
  private index(): NearestDistanceIndex[] {
    this.indices ??= this.banks.map((b, i) => NearestDistanceIndex.fromRows(b, this.spec.levels[i].channels, this.indexOptions));
    return this.indices;
  }

  private check(levelFeatures: tf.Tensor[], what: string): number {
    if (levelFeatures.length !== this.spec.levels.length) {
      throw new Error(`${what}: got ${levelFeatures.length} feature maps, the model has ${this.spec.levels.length} levels`);
    }
    const batch = levelFeatures[0].shape[0];
    levelFeatures.forEach((f, i) => {
      const { grid: [h, w], channels: c } = this.spec.levels[i];
      if (f.rank !== 4 || f.shape[0] !== batch || f.shape[1] !== h || f.shape[2] !== w || f.shape[3] !== c) {
        throw new Error(`${what}: level ${i} features have shape [${f.shape}], expected [${batch}, ${h}, ${w}, ${c}]`);
      }
    });
    return batch;
  }

  /**
   * Token scores of each level: the L2 distance of every token to its nearest bank token.
   * @param levelFeatures one [B, h, w, C] map per level (smoothed backbone features); not disposed
   * @returns one [B·h·w] host array per level (row-major [B, h, w])
   */
  async tokenScores(levelFeatures: tf.Tensor4D[]): Promise<Float32Array[]> {
    this.check(levelFeatures, 'KnnModel.tokenScores');
    const index = this.index();
    const out: Float32Array[] = [];
    for (let i = 0; i < levelFeatures.length; i++) {
      const q = tf.reshape(levelFeatures[i], [-1, this.spec.levels[i].channels]) as tf.Tensor2D;
      try {
        out.push(await index[i].nearest(q));
      } finally {
        q.dispose();
      }
    }
    return out;
  }

  /**
   * Score a batch: token scores, the pixel anomaly map at the crop size, its Gaussian-smoothed
   * version and the image scores — the same scoring path as `RLRModel.predict`.
   * @param levelFeatures one [B, h, w, C] map per level; not disposed
   * @param options blur settings (`batchSize` is accepted for symmetry with RLR and unused: queries
   *   are chunked by the index)
   */
  async predict(levelFeatures: tf.Tensor4D[], options: PredictOptions = {}): Promise<Prediction> {
    const batch = this.check(levelFeatures, 'KnnModel.predict');
    const scores = await this.tokenScores(levelFeatures);
    return scoreFromTokens(
      scores.map((data, i) => ({ data, grid: this.spec.levels[i].grid })),
      batch,
      this.spec.imageSize,
      options,
    );
  }

  /** Release the banks' tensors (the host banks stay; the index is rebuilt on the next use). */
  dispose(): void {
    for (const ix of this.indices ?? []) ix.dispose();
    this.indices = undefined;
  }
}

/** Options of {@link buildKnnModel}. */
export interface KnnBuildOptions extends NearestDistanceOptions {
  /** Called during the coreset selection of each level with (level, chosen, count). */
  onProgress?: (level: number, chosen: number, count: number) => void;
  /** Stops the selection with an error when aborted. */
  signal?: AbortSignal;
}

/**
 * Build the model from training features: every token of every training image goes into its
 * level's bank, then the greedy coreset keeps `config.coreset` of them (seeded).
 * @param spec the crop size and feature levels (see `specFromFeatureInfo`)
 * @param source the training images' smoothed maps, e.g. a `FeatureCache` or `FeatureBank`
 */
export async function buildKnnModel(spec: RLRSpec, source: FeatureSource, config: Partial<KnnConfig> = {}, options: KnnBuildOptions = {}): Promise<KnnModel> {
  const full = resolveKnnConfig(config);
  checkLevelShapes(source.levels, specLevels(spec), 'buildKnnModel');
  if (source.size < 1) throw new Error('buildKnnModel: the feature source holds no images');
  const all = Array.from({ length: source.size }, (_, i) => i);
  const tokens = await source.read(all);
  const banks: Float32Array[] = [];
  for (let i = 0; i < spec.levels.length; i++) {
    const C = spec.levels[i].channels;
    const rows = tokens[i];
    const n = rows.length / C;
    const count = coresetSize(n, full.coreset);
    if (count === n) {
      banks.push(rows);
      options.onProgress?.(i, n, n);
      continue;
    }
    const chosen = await greedyCoreset(rows, C, count, {
      seed: deriveSeed(full.seed, i),
      projection: full.projection,
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.(i, done, total),
    });
    const bank = new Float32Array(count * C);
    chosen.forEach((k, j) => bank.set(rows.subarray(k * C, (k + 1) * C), j * C));
    banks.push(bank);
    tokens[i] = new Float32Array(0); // let the full level go before the next one is selected
  }
  return new KnnModel(spec, full, banks, { bankChunk: options.bankChunk, queryChunk: options.queryChunk });
}
