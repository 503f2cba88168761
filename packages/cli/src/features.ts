import * as tf from '@tensorflow/tfjs-core';
import { extractFeatures, extractorLevels, FeatureCache, type BlobStore, type FeatureExtractor, type FeatureSource } from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import { backboneRecipe } from '@rlr/backbones/node';
import type { ImageBatch, Sample } from '@rlr/data';
import { batches, countTiles, tileBatches, type TileStreamOptions } from '@rlr/data/node';
import { InterruptedError } from './errors.js';
import { fingerprintChange, fingerprintImages } from './image-fingerprints.js';
import type { ImageGeometry } from './image-geometry.js';
import { warnAboutImageSizes } from './image-size-check.js';
import type { Logger } from './log.js';
import type { TileSettings } from './presets.js';

export type { ImageGeometry } from './image-geometry.js';

/** The @rlr/data tile-stream options of a run's tiling. */
export function tileOptions(t: TileSettings): TileStreamOptions {
  return { tile: t.size, stride: t.stride, scale: t.scale };
}

/** Images of one batch as a `[B, H, W, 3]` tensor. */
export function batchTensor(b: ImageBatch): tf.Tensor4D {
  return tf.tensor4d(b.images, [b.samples.length, b.height, b.width, 3]);
}

/** Feature caches up to this size are kept decoded in memory for the whole training. */
const IN_MEMORY_BYTES = 3e9;

/**
 * The training features of `samples`, extracted once into `store` (the run's `features/`
 * folder, @rlr/core's FeatureCache). A complete cache made with the same backbone, geometry and
 * images (path, size, mtime and sha256 of each file) is reused (a rerun or `--resume` skips the backbone); anything else is re-extracted.
 * Before extracting, training images that the geometry spoils (enlarged many times, or mostly
 * cropped away) are reported as warnings. `signal` stops extraction between batches (the
 * partial cache is not committed). With `pool`,
 * each batch's images are split over the worker threads (each runs an exact copy of `extractor`).
 */
export async function trainingFeatures(
  samples: Sample[],
  extractor: FeatureExtractor,
  g: ImageGeometry,
  store: BlobStore,
  opts: { batchSize: number; log: Logger; signal?: AbortSignal; pool?: WorkerPool },
): Promise<{ source: FeatureSource; cached: boolean; seconds: number }> {
  const levels = extractorLevels(extractor, g.crop);
  // The images are keyed on their content (size, mtime, sha256), not their paths alone: a file
  // replaced in place is extracted again.
  const files = await fingerprintImages(samples.map((s) => s.path));
  // Tiling and --resize-mode are part of the key only when used, so caches of plain runs stay valid.
  const meta = { backbone: extractor.toConfig(), resize: g.resize, crop: g.crop, ...(g.mode && g.mode !== 'crop' ? { resizeMode: g.mode } : {}), ...(g.tile ? { tile: g.tile } : {}), images: samples.map((s) => s.path), files };
  // With tiles every tile is one entry (counted from the image headers, before any decoding).
  const entries = g.tile ? (await countTiles(samples, tileOptions(g.tile))).reduce((a, b) => a + b, 0) : samples.length;
  const bytes = entries * levels.reduce((n, l) => n + l.grid[0] * l.grid[1] * l.channels * 4, 0);
  const inMemory = bytes <= IN_MEMORY_BYTES;
  const tune = (c: FeatureCache) => {
    // Shuffled batches touch random shards: keep them all decoded when they fit.
    if (inMemory) c.maxCachedShards = Number.MAX_SAFE_INTEGER;
    return c;
  };
  let existing: FeatureCache | null = null;
  try {
    const { files: _files, ...rest } = meta;
    void _files;
    existing = await FeatureCache.open(store, { levels, meta: rest });
    const change = existing ? fingerprintChange(existing.meta.files, files) : undefined;
    if (change) {
      existing = null;
      opts.log.info(`feature cache in ${store.location} does not match this run (${change}): extracting again`);
    }
  } catch (e) {
    opts.log.info(`feature cache in ${store.location} does not match this run (${(e as Error).message.split(';')[0]}): extracting again`);
  }
  if (existing) {
    opts.log.info(`using cached features of ${existing.size} images from ${store.location}`);
    return { source: tune(existing), cached: true, seconds: 0 };
  }
  // Once per dataset (a reused cache was checked when it was made): images the geometry spoils.
  if (!g.tile) await warnAboutImageSizes(samples, g, opts.log);
  else opts.log.info(`tiling: ${samples.length} images give ${entries} training tiles of ${g.tile.size.join('x')} px (stride ${g.tile.stride.join('x')}, --tile-scale ${g.tile.scale})`);
  const writer = FeatureCache.create(store, levels, { meta, shardSize: inMemory ? 32 : 1 });
  const task = opts.log.progress('extract features', entries, g.tile ? 'tile' : 'img');
  const signal = opts.signal;
  async function* stopping(): AsyncIterable<ImageBatch> {
    const stream: AsyncIterable<ImageBatch> = g.tile
      ? tileBatches(samples, { ...tileOptions(g.tile), batchSize: opts.batchSize })
      : batches(samples, { batchSize: opts.batchSize, resize: g.resize, crop: g.crop, mode: g.mode });
    for await (const b of stream) {
      if (signal?.aborted) {
        task.done();
        throw new InterruptedError('interrupted during feature extraction (nothing to resume yet)', 'rerun the same rlr train command');
      }
      yield b;
    }
  }
  let seen = 0;
  const progress = (done: number) => {
    task.tick(done - seen);
    seen = done;
  };
  if (opts.pool) {
    const remote = await opts.pool.createExtractor(await backboneRecipe(extractor));
    try {
      await remote.extractFeatures(stopping(), writer, progress);
    } finally {
      await remote.dispose();
    }
  } else {
    await extractFeatures(extractor, stopping(), writer, progress);
  }
  const source = await writer.finish();
  const seconds = task.done();
  opts.log.event('features', { images: samples.length, ...(g.tile ? { tiles: entries } : {}), seconds, store: store.location });
  return { source: tune(source), cached: false, seconds };
}
