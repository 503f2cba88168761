import type * as tf from '@tensorflow/tfjs-core';
import type { BlobStore } from './blob-store.js';
import { checkLevelShapes, levelElements, type FeatureLevelShape, type FeatureSource } from './feature-source.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.js';

/**
 * Training features cached in a {@link BlobStore} (a directory via `fileStore(dir)` from
 * `@rlr/data/node`), so extraction happens once and later runs (or a resumed run) skip the
 * backbone entirely.
 *
 * Layout: shards `features-<k>.safetensors` holding `level<i>` [n, h, w, C] for `shardSize`
 * consecutive images, written as they fill, then `features.json` (the index). The index is
 * written last: a cache without it is incomplete and is not opened.
 */

/** Name of the index blob. */
export const FEATURE_CACHE_INDEX = 'features.json';

/** Options of {@link FeatureCache.create}. */
export interface FeatureCacheOptions {
  /** Storage precision: float16 halves the size (relative error ≤ 2⁻¹¹); default float32. */
  dtype?: 'float16' | 'float32';
  /** Images per shard blob; 1 (default) reads exactly the images of each shuffled batch. */
  shardSize?: number;
  /** JSON-able facts about how the features were made (backbone, crop, …), checked on open. */
  meta?: Record<string, unknown>;
}

/** `features.json`: the index of a feature cache (shapes, shard files, provenance). */
export interface CacheIndex {
  format: 'rlr-feature-cache';
  version: 1;
  dtype: 'float16' | 'float32';
  levels: FeatureLevelShape[];
  size: number;
  shardSize: number;
  shards: string[];
  meta: Record<string, unknown>;
}

/** A value as JSON, shortened for messages (image lists can be long). */
function brief(value: unknown): string {
  const json = JSON.stringify(value) ?? 'undefined';
  return json.length > 160 ? `${json.slice(0, 150)}… (${json.length} characters)` : json;
}

const shardName = (k: number) => `features-${String(k).padStart(6, '0')}.safetensors`;

/** Writes a feature cache batch by batch; {@link finish} commits it. */
export class FeatureCacheWriter {
  private readonly pending: Float32Array[][];
  private pendingCount = 0;
  private readonly shards: string[] = [];
  private total = 0;
  private finished = false;

  constructor(
    private readonly store: BlobStore,
    readonly levels: FeatureLevelShape[],
    private readonly options: Required<FeatureCacheOptions>,
  ) {
    this.pending = levels.map(() => []);
  }

  /** Images written so far. */
  get size(): number {
    return this.total + this.pendingCount;
  }

  /** Append a batch: one [B, h, w, C] map per level (tensors are read, not disposed). */
  async append(levelFeatures: (tf.Tensor | Float32Array)[]): Promise<void> {
    if (this.finished) throw new Error(`feature cache ${this.store.location}: append after finish()`);
    if (levelFeatures.length !== this.levels.length) {
      throw new Error(`feature cache ${this.store.location}: got ${levelFeatures.length} maps for ${this.levels.length} levels`);
    }
    const arrays: Float32Array[] = [];
    for (let i = 0; i < levelFeatures.length; i++) {
      const f = levelFeatures[i];
      if (!(f instanceof Float32Array)) {
        const [, h, w, c] = f.shape;
        checkLevelShapes([{ grid: [h, w], channels: c }], [this.levels[i]], `feature cache ${this.store.location} level ${i}`);
      }
      arrays.push(f instanceof Float32Array ? f : ((await f.data()) as Float32Array));
    }
    const b = arrays[0].length / levelElements(this.levels[0]);
    for (let j = 0; j < b; j++) {
      arrays.forEach((a, i) => {
        const per = levelElements(this.levels[i]);
        if (a.length !== b * per) throw new Error(`feature cache: level ${i} holds ${a.length} values, not ${b} maps of ${per}`);
        this.pending[i].push(a.slice(j * per, (j + 1) * per));
      });
      this.pendingCount++;
      if (this.pendingCount === this.options.shardSize) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (!this.pendingCount) return;
    const tensors = new Map<string, TensorToWrite>();
    this.levels.forEach((l, i) => {
      const per = levelElements(l);
      const data = new Float32Array(this.pendingCount * per);
      this.pending[i].forEach((a, j) => data.set(a, j * per));
      tensors.set(`level${i}`, {
        shape: [this.pendingCount, l.grid[0], l.grid[1], l.channels],
        data,
        dtype: this.options.dtype === 'float16' ? 'F16' : 'F32',
      });
      this.pending[i] = [];
    });
    const name = shardName(this.shards.length);
    await this.store.write(name, serializeSafetensors(tensors));
    this.shards.push(name);
    this.total += this.pendingCount;
    this.pendingCount = 0;
  }

  /** Write the last shard and the index; returns the cache opened for reading. */
  async finish(): Promise<FeatureCache> {
    await this.flush();
    const index: CacheIndex = {
      format: 'rlr-feature-cache',
      version: 1,
      dtype: this.options.dtype,
      levels: this.levels,
      size: this.total,
      shardSize: this.options.shardSize,
      shards: this.shards,
      meta: this.options.meta,
    };
    await this.store.write(FEATURE_CACHE_INDEX, new TextEncoder().encode(JSON.stringify(index, null, 1)));
    this.finished = true;
    return new FeatureCache(this.store, index);
  }
}

/** A committed feature cache, readable as a {@link FeatureSource}. */
export class FeatureCache implements FeatureSource {
  private readonly decoded = new Map<number, Float32Array[]>();
  /** Decoded shards kept in memory (least recently used dropped first). */
  maxCachedShards = 8;

  constructor(
    private readonly store: BlobStore,
    private readonly index: CacheIndex,
  ) {}

  /** Start writing a new cache into `store` (existing shards are overwritten as they are written). */
  static create(store: BlobStore, levels: FeatureLevelShape[], options: FeatureCacheOptions = {}): FeatureCacheWriter {
    const shardSize = options.shardSize ?? 1;
    if (!Number.isInteger(shardSize) || shardSize < 1) throw new Error(`feature cache: shardSize must be a positive integer, got ${shardSize}`);
    return new FeatureCacheWriter(store, levels, { dtype: options.dtype ?? 'float32', shardSize, meta: options.meta ?? {} });
  }

  /**
   * Open a committed cache. With `expect`, throws when its levels (or any listed meta entry,
   * compared as JSON) differ, so stale caches are not silently reused.
   * @returns the cache, or `null` when the store holds no complete cache
   */
  static async open(
    store: BlobStore,
    expect?: { levels?: FeatureLevelShape[]; meta?: Record<string, unknown> },
  ): Promise<FeatureCache | null> {
    if (!(await store.exists(FEATURE_CACHE_INDEX))) return null;
    const where = `${store.location}/${FEATURE_CACHE_INDEX}`;
    let index: CacheIndex;
    try {
      index = JSON.parse(new TextDecoder().decode(await store.read(FEATURE_CACHE_INDEX))) as CacheIndex;
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message}); delete the cache to rebuild it`);
    }
    if (index.format !== 'rlr-feature-cache' || index.version !== 1) {
      throw new Error(`${where}: not an RLR feature cache (format ${index.format}, version ${index.version}); delete it to rebuild`);
    }
    if (expect?.levels) checkLevelShapes(index.levels, expect.levels, where);
    for (const [key, value] of Object.entries(expect?.meta ?? {})) {
      if (JSON.stringify(index.meta[key]) !== JSON.stringify(value)) {
        throw new Error(
          `${where}: cached features were made with ${key} = ${brief(index.meta[key])}, not ${brief(value)}; ` +
            'delete the cache (or use another directory) to extract them again',
        );
      }
    }
    return new FeatureCache(store, index);
  }

  get size(): number {
    return this.index.size;
  }

  get levels(): FeatureLevelShape[] {
    return this.index.levels;
  }

  get dtype(): 'float16' | 'float32' {
    return this.index.dtype;
  }

  get meta(): Record<string, unknown> {
    return this.index.meta;
  }

  private async shard(k: number): Promise<Float32Array[]> {
    const hit = this.decoded.get(k);
    if (hit) {
      this.decoded.delete(k);
      this.decoded.set(k, hit);
      return hit;
    }
    const name = this.index.shards[k];
    const file = parseSafetensors(await this.store.read(name), `${this.store.location}/${name}`);
    const levels = this.index.levels.map((_, i) => {
      const t = file.tensors.get(`level${i}`);
      if (!t) throw new Error(`${this.store.location}/${name}: tensor level${i} is missing; delete the cache to rebuild it`);
      return t.data as Float32Array;
    });
    this.decoded.set(k, levels);
    while (this.decoded.size > this.maxCachedShards) this.decoded.delete(this.decoded.keys().next().value!);
    return levels;
  }

  async read(indices: ArrayLike<number>): Promise<Float32Array[]> {
    const out = this.index.levels.map((l) => new Float32Array(indices.length * levelElements(l)));
    const s = this.index.shardSize;
    for (let j = 0; j < indices.length; j++) {
      const k = indices[j];
      if (!(k >= 0 && k < this.index.size)) throw new Error(`feature cache ${this.store.location}: index ${k} is outside 0..${this.index.size - 1}`);
      const shard = await this.shard(Math.floor(k / s));
      const r = k % s;
      this.index.levels.forEach((l, i) => {
        const per = levelElements(l);
        out[i].set(shard[i].subarray(r * per, (r + 1) * per), j * per);
      });
    }
    return out;
  }
}
