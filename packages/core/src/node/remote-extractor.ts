import * as tf from '@tensorflow/tfjs-core';
import type { FeatureInfo } from '../feature-extractor.js';
import type { ImagesLike } from '../feature-extraction.js';
import { concatFloat32, imageParts } from './image-parts.js';
import type { ExtractorInfo, ExtractorRecipe, ExtractResult } from './worker-protocol.js';
import type { WorkerChannel } from './worker-channel.js';

/** One level's maps of a batch, `[B, h, w, C]` row-major. */
export interface LevelMaps {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Where extracted maps go: a `FeatureBank` or a `FeatureCacheWriter` (both take arrays). */
export interface ArrayFeatureSink {
  append(levelFeatures: Float32Array[]): Promise<void>;
}

/**
 * A feature extractor built in every worker of a pool (from the same recipe, so every copy
 * computes the same function): each batch's images are split over the workers. Images are
 * independent, so the maps equal the extractor's own on the whole batch. Create with
 * `pool.createExtractor(recipe)`; {@link dispose} it to free the copies.
 */
export class RemoteExtractor {
  readonly name: string;
  readonly outIndices: number[];
  readonly featureInfo: FeatureInfo;
  private readonly config: Record<string, unknown>;
  private disposed = false;

  private constructor(
    private readonly pool: WorkerChannel,
    /** @internal the workers' key */
    readonly key: string,
    info: ExtractorInfo,
  ) {
    this.name = info.name;
    this.outIndices = info.outIndices;
    this.featureInfo = info.featureInfo;
    this.config = info.config;
  }

  /** @internal use `pool.createExtractor(recipe)` */
  static async start(pool: WorkerChannel, recipe: ExtractorRecipe): Promise<RemoteExtractor> {
    const key = pool.newKey('extractor');
    const payload = { key, recipe: { ...recipe, module: String(recipe.module) } };
    let infos: ExtractorInfo[];
    try {
      infos = await pool.broadcast<ExtractorInfo>('extractor.create', payload);
    } catch (e) {
      if (!pool.closed) await pool.broadcast('extractor.release', { key }).catch(() => undefined);
      throw e;
    }
    return new RemoteExtractor(pool, key, infos[0]);
  }

  /** Workers this extractor splits batches over. */
  get workers(): number {
    return this.pool.size;
  }

  /** The configuration of the workers' extractor (`FeatureExtractor.toConfig()`). */
  toConfig(): Record<string, unknown> {
    return structuredClone(this.config);
  }

  /**
   * Extract a batch in parallel.
   * @param images `[B, H, W, 3]` RGB in [0, 1]: a tensor (read, not disposed) or a row-major
   *   array with its `height` and `width`
   * @returns one `[B, h, w, C]` map per level, in `outIndices` order
   */
  async extract(images: tf.Tensor4D | ImagesLike): Promise<LevelMaps[]> {
    if (this.disposed) throw new Error(`RemoteExtractor ${this.name}: disposed; create it again with pool.createExtractor()`);
    const { images: data, height, width }: ImagesLike =
      images instanceof tf.Tensor ? { images: (await images.data()) as Float32Array, height: images.shape[1], width: images.shape[2] } : images;
    const parts = imageParts(data, height, width, this.pool.size, 'RemoteExtractor.extract');
    const batch = data.length / (height * width * 3);
    const results = await Promise.all(
      parts.map((part, w) =>
        this.pool.call<ExtractResult>(w, 'extractor.extract', { extractor: this.key, images: part.images, shape: part.shape }, [part.images.buffer]),
      ),
    );
    return results[0].maps.map((_, level) => {
      const [, h, w, c] = results[0].shapes[level];
      return { data: concatFloat32(results.map((r) => r.maps[level])), shape: [batch, h, w, c] };
    });
  }

  /**
   * Run the backbone once over training images and append the maps to a feature bank or cache
   * writer (the parallel `extractFeatures`). The next batch is extracted while the previous one
   * is appended.
   * @param onProgress called after each batch with the number of images done so far
   * @returns images processed
   */
  async extractFeatures(
    batches: AsyncIterable<ImagesLike> | Iterable<ImagesLike>,
    sink: ArrayFeatureSink,
    onProgress?: (images: number) => void,
  ): Promise<number> {
    let done = 0;
    let previous: { maps: Promise<LevelMaps[]>; n: number } | undefined;
    const flush = async () => {
      if (!previous) return;
      const maps = await previous.maps;
      await sink.append(maps.map((m) => m.data));
      done += previous.n;
      previous = undefined;
      onProgress?.(done);
    };
    try {
      for await (const batch of batches) {
        const n = batch.images.length / (batch.height * batch.width * 3);
        if (!Number.isInteger(n) || n < 1) {
          throw new Error(`extractFeatures: a batch of ${batch.images.length} values is not [B, ${batch.height}, ${batch.width}, 3]`);
        }
        const next = { maps: this.extract(batch), n };
        next.maps.catch(() => undefined); // awaited by flush(); avoid an unhandled rejection meanwhile
        await flush();
        previous = next;
      }
      await flush();
    } finally {
      // Stopped early (error or a consumer's break): let the request in flight settle.
      if (previous) await previous.maps.catch(() => undefined);
    }
    return done;
  }

  /** Release the workers' copies. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.pool.closed) await this.pool.broadcast('extractor.release', { key: this.key });
  }
}
