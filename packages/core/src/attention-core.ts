import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';

/**
 * Pieces shared by the two attentions of an RLR layer. Both follow `nn.MultiheadAttention`:
 * per head h (width dh = d / heads), softmax(Q_h·K_hᵀ / √dh + M)·V_h, heads concatenated.
 *
 * Layout choices (for wasm speed, SPEC section 5): tokens of the whole batch are rows of 2-D
 * matrices ([B·N, d]); each head is a separate untransposed 2-D product instead of one rank-3
 * batched product; the keys always come from the reference, which is the same for every image
 * of a batch, so they are projected, scaled by 1/√dh and transposed once per layer and batch.
 */

/** Per-head reference keys, shared by every image of a batch. */
export interface ReferenceKeys {
  /** (K_h / √dh)ᵀ per head, [dh, N]: right operand of the score product Q_h·K̃_hᵀ. */
  kT: tf.Tensor2D[];
  /** K_h / √dh per head, [N, dh]: right operand of dQ_h = dS·K̃_h (training only). */
  k: tf.Tensor2D[] | null;
}

/** Split reference keys k [N, d] into scaled per-head operands. */
export function referenceKeys(k: tf.Tensor2D, heads: number, train: boolean): ReferenceKeys {
  return tidy(() => {
    const dh = k.shape[1] / heads;
    const scaled = tf.mul(k, 1 / Math.sqrt(dh)) as tf.Tensor2D;
    const kTall = tf.transpose(scaled) as tf.Tensor2D; // [d, N]: one transpose, row slices are contiguous
    const kT: tf.Tensor2D[] = [];
    const kh: tf.Tensor2D[] = [];
    for (let h = 0; h < heads; h++) {
      kT.push(tf.slice(kTall, [h * dh, 0], [dh, -1]));
      if (train) kh.push(tf.slice(scaled, [0, h * dh], [-1, dh]));
    }
    return { kT, k: train ? kh : null };
  });
}

/**
 * Gradient of the unscaled keys K [N, d] from the per-head gradients of (K_h/√dh)ᵀ, [dh, N] each.
 */
export function keysGradient(dkT: tf.Tensor2D[], dh: number): tf.Tensor2D {
  return tidy(() => tf.mul(tf.transpose(tf.concat(dkT, 0)), 1 / Math.sqrt(dh)) as tf.Tensor2D);
}

/** Columns h·dh .. (h+1)·dh of x [M, d] for every head: [M, dh] each. */
export function splitHeads(x: tf.Tensor2D, heads: number): tf.Tensor2D[] {
  const dh = x.shape[1] / heads;
  return Array.from({ length: heads }, (_, h) => tf.slice(x, [0, h * dh], [-1, dh]));
}

/** Masked row softmax: softmax(s + mask) where s is [B·N, N] and mask [N, N] (one per image). */
export function maskedSoftmax(s: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const [rows, n] = s.shape;
    if (rows === mask.shape[0]) return tf.softmax(tf.add(s, mask)) as tf.Tensor2D;
    // Several images stacked: broadcast the per-image mask over the leading batch axis.
    const s3 = tf.reshape(s, [rows / mask.shape[0], mask.shape[0], n]);
    return tf.reshape(tf.softmax(tf.add(s3, mask)), [rows, n]) as tf.Tensor2D;
  });
}

/** Softmax backward along rows: dS = P ⊙ (dP − Σ_j dP ⊙ P). Masked entries have P = 0, so dS = 0 there. */
export function softmaxBackward(p: tf.Tensor2D, dp: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const dot = tf.sum(tf.mul(dp, p), 1, true);
    return tf.mul(p, tf.sub(dp, dot)) as tf.Tensor2D;
  });
}
