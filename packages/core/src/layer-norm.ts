import * as tf from '@tensorflow/tfjs-core';
import { columnSum } from './fast-matmul.js';
import { tidy } from './tidy.js';

/** PyTorch `nn.LayerNorm` default epsilon. */
export const LAYER_NORM_EPS = 1e-5;

/** What the backward pass of a layer norm needs. */
export interface LayerNormSaved {
  /** Normalised input (x − mean)·rstd, [M, d]. */
  xhat: tf.Tensor2D;
  /** 1 / sqrt(var + eps) per row, [M, 1]. */
  rstd: tf.Tensor2D;
}

/** Layer norm over the last axis (biased variance, as PyTorch): x [M, d] → [M, d]. */
export function layerNorm(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): { y: tf.Tensor2D; saved: LayerNormSaved } {
  return tidy(() => {
    const { mean, variance } = tf.moments(x, 1, true);
    const rstd = tf.rsqrt(tf.add(variance, LAYER_NORM_EPS)) as tf.Tensor2D;
    const xhat = tf.mul(tf.sub(x, mean), rstd) as tf.Tensor2D;
    const y = tf.add(tf.mul(xhat, g), b) as tf.Tensor2D;
    return { y, saved: { xhat, rstd } };
  });
}

/**
 * Backward of {@link layerNorm}: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·g;
 * dg = Σ dy·x̂, db = Σ dy over rows.
 */
export function layerNormBackward(
  dy: tf.Tensor2D,
  saved: LayerNormSaved,
  g: tf.Tensor1D,
): { dx: tf.Tensor2D; dg: tf.Tensor1D; db: tf.Tensor1D } {
  return tidy(() => {
    const { xhat, rstd } = saved;
    const gh = tf.mul(dy, g);
    const m1 = tf.mean(gh, 1, true);
    const m2 = tf.mean(tf.mul(gh, xhat), 1, true);
    const dx = tf.mul(tf.sub(tf.sub(gh, m1), tf.mul(xhat, m2)), rstd) as tf.Tensor2D;
    const dg = columnSum(tf.mul(dy, xhat) as tf.Tensor2D);
    const db = columnSum(dy);
    return { dx, dg, db };
  });
}
