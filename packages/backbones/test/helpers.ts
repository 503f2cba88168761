/** Test helpers: fixture loading and numeric comparison. */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, type NamedTensor } from '@rlr/core';
import { IMAGENET_MEAN, IMAGENET_STD } from '../src/preprocessing.js';

/** Decoded safetensors file from a directory. */
export function readTensors(dir: string, file: string): Map<string, NamedTensor> {
  const path = join(dir, file);
  return parseSafetensors(new Uint8Array(readFileSync(path)), path).tensors;
}

/** Max |a − b| and max |b|. */
export function maxErrors(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxAbsErr: number; maxAbs: number } {
  let maxAbsErr = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbsErr = Math.max(maxAbsErr, Math.abs(actual[i] - expected[i]));
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  }
  return { maxAbsErr, maxAbs };
}

/**
 * The fixtures hold the network's input after ImageNet normalisation; undo it so that the input
 * goes through `extract()`'s own preprocessing, as images from `@rlr/data` would.
 */
export function denormalizeImagenet(input: NamedTensor): tf.Tensor4D {
  return tf.tidy(() =>
    tf.add(
      tf.mul(tf.tensor(input.data as Float32Array, input.shape), tf.tensor1d([...IMAGENET_STD])),
      tf.tensor1d([...IMAGENET_MEAN]),
    ),
  ) as tf.Tensor4D;
}

/** Deterministic smooth test images `[B, H, W, 3]` in [0, 1] (colour gradients and stripes). */
export function testImages(batch: number, height: number, width: number, seed = 1): tf.Tensor4D {
  const data = new Float32Array(batch * height * width * 3);
  let i = 0;
  for (let b = 0; b < batch; b++) {
    const fx = 2 + ((seed * 7 + b * 3) % 11);
    const fy = 1 + ((seed * 5 + b * 2) % 7);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = x / width;
        const v = y / height;
        data[i++] = 0.5 + 0.45 * Math.sin(2 * Math.PI * (fx * u + 0.3 * b));
        data[i++] = 0.5 + 0.45 * Math.cos(2 * Math.PI * (fy * v + 0.1 * seed));
        data[i++] = (u + v) / 2;
      }
    }
  }
  return tf.tensor4d(data, [batch, height, width, 3]);
}
