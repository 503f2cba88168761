import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';

/**
 * Pieces shared by the two attentions of an RLR layer. Both follow `nn.MultiheadAttention`:
 * per head h (width dh = d / heads), softmax(Q_h·K_hᵀ / √dh + M)·V_h, heads concatenated.
 *
 * Layout (for wasm speed, SPEC section 5 and `fast-matmul.ts`): the tokens of the whole batch are
 * the rows of 2-D tensors ([B·N, ·]); each head is its own [B·N, dh] tensor, cut once from a
 * fused projection by `splitColumns`; products are 2-D (no rank-3 batched matMul). Keys always
 * come from the reference, the same for every image of a batch, so they are projected, scaled by
 * 1/√dh and transposed once per layer and batch.
 */

/**
 * Row-wise Σ_j a_ij·b_ij → [M, 1]. In the softmax backward Σ_j P_ij·dP_ij equals dO_i·O_i, which
 * this computes on the narrow [M, dh] outputs instead of the wide [M, N] probabilities.
 */
export function rowDot(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => tf.sum(tf.mul(a, b), 1, true) as tf.Tensor2D);
}

/** Softmax backward along rows: dS = P ⊙ (dP − δ), δ = Σ_j P_ij·dP_ij ([M, 1]). Masked entries have P = 0, so dS = 0 there. */
export function softmaxBackward(p: tf.Tensor2D, dp: tf.Tensor2D, delta: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => tf.mul(p, tf.sub(dp, delta)) as tf.Tensor2D);
}

/** Row softmax of s + mask, where s stacks `s.shape[0] / mask.shape[0]` blocks that share the mask. */
export function maskedSoftmax(s: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const [n, k] = s.shape;
    const m = mask.shape[0];
    if (n === m) return tf.softmax(tf.add(s, mask)) as tf.Tensor2D;
    return tf.reshape(tf.softmax(tf.add(tf.reshape(s, [n / m, m, k]), mask)), [n, k]) as tf.Tensor2D;
  });
}

/** Sum of tensors (the tensor itself for one). */
export function sumAll(xs: tf.Tensor2D[]): tf.Tensor2D {
  return xs.length === 1 ? xs[0] : (tf.addN(xs) as tf.Tensor2D);
}
