/**
 * A backbone without pretrained weights: timm's random initialisation of an EfficientNet, with
 * BatchNorm statistics calibrated on a spread of the training images (offline, no download).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from '@rlr/core';
import { createBackbone } from '@rlr/backbones/node';
import { extractTile, type Sample } from '@rlr/data';
import { batches, tiledImages } from '@rlr/data/node';
import type { ImageGeometry } from '../detector.js';
import { tileOptions } from './training-features.js';

/** Images whose statistics calibrate a random backbone. */
export const CALIBRATION_IMAGES = 32;

/**
 * Images whose statistics calibrate a random backbone: `count` training images spread evenly over
 * the (category-sorted) list, so every category contributes.
 */
export function calibrationSamples(train: Sample[], count = CALIBRATION_IMAGES): Sample[] {
  const step = Math.max(1, Math.floor(train.length / count));
  return train.filter((_, i) => i % step === 0).slice(0, count);
}

/** Decode `paths` at `g` into a `[B, H, W, 3]` tensor (with tiling: the middle tile of each image). */
export async function loadImages(paths: string[], g: ImageGeometry): Promise<tf.Tensor4D> {
  const samples: Sample[] = paths.map((path) => ({ path, category: 'calibration', label: 0, defectType: 'good' }));
  const parts: tf.Tensor4D[] = [];
  if (g.tile) {
    for await (const img of tiledImages(samples, tileOptions(g.tile))) {
      const middle = Math.floor(img.grid.tiles.length / 2);
      const images = new Float32Array(g.crop[0] * g.crop[1] * 3);
      extractTile(img.pixels, img.grid.tiles[middle], images);
      parts.push(tf.tensor4d(images, [1, g.crop[0], g.crop[1], 3]));
    }
  } else {
    for await (const b of batches(samples, { batchSize: 16, resize: g.resize, crop: g.crop, mode: g.mode })) parts.push(tf.tensor4d(b.images, [b.samples.length, b.height, b.width, 3]));
  }
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

/** Options of {@link randomBackbone}. */
export interface RandomBackboneOptions {
  outIndices: number[];
  geometry: ImageGeometry;
  seed?: number;
  /** Calibration images (default {@link CALIBRATION_IMAGES}). */
  count?: number;
}

/**
 * A random, BatchNorm-calibrated EfficientNet `name`, for `Detector.fit`'s `backbone` option:
 * `backbone: (train) => randomBackbone('tf_efficientnet_b0', train, { outIndices: [2, 3], geometry })`.
 * Its weights are saved with the model (`backbone.safetensors`).
 */
export async function randomBackbone(name: string, train: Sample[], o: RandomBackboneOptions): Promise<FeatureExtractor> {
  const images = await loadImages(calibrationSamples(train, o.count).map((s) => s.path), o.geometry);
  try {
    return await createBackbone(name, { weights: 'random', seed: o.seed ?? 0, outIndices: o.outIndices, calibrationImages: images });
  } finally {
    images.dispose();
  }
}
