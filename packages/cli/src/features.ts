import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { parseSafetensors, serializeSafetensors, type BlobStore, type FeatureExtractor } from '@rlr/core';
import type { ImageBatch, Sample } from '@rlr/data';
import { batches } from '@rlr/data/node';
import { InterruptedError } from './errors.js';
import type { Logger } from './log.js';

/** Backbone features of a list of images, held on the host: one `[N, h, w, C]` array per level. */
export interface FeatureSet {
  count: number;
  levels: { shape: [number, number, number]; data: Float32Array }[];
}

/** How images are fed to the backbone. */
export interface ImageGeometry {
  resize: number;
  crop: [number, number];
}

/** Images of one batch as a `[B, H, W, 3]` tensor. */
export function batchTensor(b: ImageBatch): tf.Tensor4D {
  return tf.tensor4d(b.images, [b.samples.length, b.height, b.width, 3]);
}

/** Run the backbone on a batch and bring the maps to the host. */
export async function extractBatch(extractor: FeatureExtractor, b: ImageBatch): Promise<Float32Array[]> {
  const images = batchTensor(b);
  const maps = extractor.extract(images);
  images.dispose();
  try {
    return await Promise.all(maps.map(async (m) => (await m.data()) as Float32Array));
  } finally {
    tf.dispose(maps);
  }
}

/** Cache key: the extractor's config, the geometry and each image's path, size and mtime. */
async function cacheKey(samples: Sample[], extractor: FeatureExtractor, g: ImageGeometry): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify({ backbone: extractor.toConfig(), g }));
  for (const s of samples) {
    const st = await stat(s.path);
    h.update(`${s.path}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

const CHUNK = 64;

/**
 * Extract the features of `samples` once: chunks of {@link CHUNK} images are stored as safetensors
 * in `cache` under a key that changes with the backbone, geometry and files, so a rerun (or
 * `--resume`, or an interrupted extraction) reuses what is there. `signal` stops between chunks.
 */
export async function extractFeatures(
  samples: Sample[],
  extractor: FeatureExtractor,
  g: ImageGeometry,
  opts: { batchSize: number; cache?: BlobStore; log: Logger; signal?: AbortSignal; label?: string },
): Promise<FeatureSet> {
  const key = opts.cache ? await cacheKey(samples, extractor, g) : '';
  const [H, W] = g.crop;
  const shapes = extractor.featureInfo.channels.map((c, i) => {
    const r = extractor.featureInfo.reductions[i];
    return [Math.ceil(H / r), Math.ceil(W / r), c] as [number, number, number];
  });
  const per = shapes.map(([h, w, c]) => h * w * c);
  const levels = shapes.map((shape, i) => ({ shape, data: new Float32Array(samples.length * per[i]) }));
  const task = opts.log.progress(opts.label ?? 'extract features', samples.length, 'img');
  let cached = 0;
  for (let start = 0; start < samples.length; start += CHUNK) {
    const chunk = samples.slice(start, start + CHUNK);
    const name = `${key}/${String(start / CHUNK).padStart(5, '0')}.safetensors`;
    if (opts.cache && (await opts.cache.exists(name))) {
      const file = parseSafetensors(await opts.cache.read(name), `${opts.cache.location}/${name}`).tensors;
      levels.forEach((lv, i) => lv.data.set(file.get(`level${i}`)!.data as Float32Array, start * per[i]));
      cached += chunk.length;
      task.tick(chunk.length);
      continue;
    }
    if (opts.signal?.aborted) {
      task.done();
      throw new InterruptedError('interrupted during feature extraction; the features extracted so far are cached', 'rerun the same command (with --resume) to continue');
    }
    let offset = start;
    for await (const b of batches(chunk, { batchSize: opts.batchSize, resize: g.resize, crop: g.crop })) {
      const maps = await extractBatch(extractor, b);
      maps.forEach((m, i) => levels[i].data.set(m, offset * per[i]));
      offset += b.samples.length;
      task.tick(b.samples.length);
    }
    if (opts.cache) {
      const tensors = Object.fromEntries(
        levels.map((lv, i) => [`level${i}`, { dtype: 'F32' as const, shape: [chunk.length, ...lv.shape], data: lv.data.subarray(start * per[i], (start + chunk.length) * per[i]) }]),
      );
      await opts.cache.write(name, serializeSafetensors(tensors));
    }
  }
  const seconds = task.done(cached > 0 ? { cached } : undefined);
  opts.log.event('features', { images: samples.length, cached, seconds, key: key || null });
  return { count: samples.length, levels };
}

/** Tensors `[n, h, w, C]` for images `[start, start + n)` of a feature set; the caller disposes them. */
export function featureTensors(f: FeatureSet, start: number, n: number): tf.Tensor4D[] {
  return f.levels.map((lv) => {
    const per = lv.shape[0] * lv.shape[1] * lv.shape[2];
    return tf.tensor4d(lv.data.subarray(start * per, (start + n) * per), [n, ...lv.shape]);
  });
}
