import * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from './feature-extractor.js';
import type { FeatureLevelShape } from './feature-source.js';

/** A batch of images as `@rlr/data` yields them: RGB in [0, 1], [B, H, W, 3] row-major. */
export interface ImagesLike {
  images: Float32Array;
  height: number;
  width: number;
}

/** Anything that accepts batches of level maps: a `FeatureBank` or a `FeatureCacheWriter`. */
export interface FeatureSink {
  append(levelFeatures: tf.Tensor[]): Promise<void>;
}

/**
 * Run the frozen backbone once over the training images and append its (smoothed) maps to a
 * feature bank or cache, so that training epochs never touch the backbone again.
 * @param onProgress called after each batch with the number of images done so far
 * @returns images processed
 */
export async function extractFeatures(
  extractor: FeatureExtractor,
  batches: AsyncIterable<ImagesLike> | Iterable<ImagesLike>,
  sink: FeatureSink,
  onProgress?: (images: number) => void,
): Promise<number> {
  let done = 0;
  for await (const batch of batches) {
    const n = batch.images.length / (batch.height * batch.width * 3);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`extractFeatures: a batch of ${batch.images.length} values is not [B, ${batch.height}, ${batch.width}, 3]`);
    }
    const images = tf.tensor4d(batch.images, [n, batch.height, batch.width, 3]);
    const maps = extractor.extract(images);
    images.dispose();
    try {
      await sink.append(maps);
    } finally {
      tf.dispose(maps);
    }
    done += n;
    onProgress?.(done);
  }
  return done;
}

/** Level shapes an extractor produces at a crop size (grid = ceil(size / stride)). */
export function extractorLevels(extractor: FeatureExtractor, imageSize: number | [number, number]): FeatureLevelShape[] {
  const [H, W] = typeof imageSize === 'number' ? [imageSize, imageSize] : imageSize;
  return extractor.featureInfo.channels.map((channels, i) => {
    const r = extractor.featureInfo.reductions[i];
    return { grid: [Math.ceil(H / r), Math.ceil(W / r)] as [number, number], channels };
  });
}
