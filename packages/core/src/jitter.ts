import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { Rng, deriveSeed } from './rng.js';

/**
 * Feature jitter of the training input (SPEC section 3): input = T + ε·(‖t‖₂/C)·s for every
 * token t of T, with ε ~ N(0, 1) per element and scale s (4 in the paper). Only the input is
 * jittered; the loss compares with the clean T.
 *
 * @param target clean features [M, C]; @param noise ε [M, C]
 * @returns jittered input [M, C]
 */
export function applyJitter(target: tf.Tensor2D, noise: tf.Tensor2D, scale: number): tf.Tensor2D {
  return tidy(() => {
    const c = target.shape[1];
    const norms = tf.norm(target, 'euclidean', 1, true); // [M, 1]
    return tf.add(target, tf.mul(noise, tf.mul(norms, scale / c))) as tf.Tensor2D;
  });
}

/**
 * The noise ε of one training step of one level: N(0, 1) values drawn from a generator seeded by
 * (seed, epoch, step, level) only, so a resumed run draws exactly what an uninterrupted one does.
 */
export function jitterNoise(size: number, seed: number, epoch: number, step: number, level: number): Float32Array {
  return new Rng(deriveSeed(seed, 0x717e, epoch, step, level)).fillNormal(new Float32Array(size));
}
