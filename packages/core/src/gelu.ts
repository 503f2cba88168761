import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';

/** Exact GELU x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2 (PyTorch `nn.GELU()` default). Returns Φ for the backward. */
export function gelu(x: tf.Tensor2D): { y: tf.Tensor2D; cdf: tf.Tensor2D } {
  return tidy(() => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5) as tf.Tensor2D;
    return { y: tf.mul(x, cdf) as tf.Tensor2D, cdf };
  });
}

/** Backward of {@link gelu}: dx = dy·(Φ(x) + x·φ(x)), φ the standard normal density. */
export function geluBackward(dy: tf.Tensor2D, x: tf.Tensor2D, cdf: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf))) as tf.Tensor2D;
  });
}
