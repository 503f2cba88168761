import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';

/** PyTorch `F.cosine_similarity` default epsilon (each norm is clamped to at least this). */
export const COSINE_EPS = 1e-8;

/** Cosine similarity of matching rows of r and t [M, C] → [M]. */
export function rowCosine(r: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor1D {
  return tidy(() => {
    const nr = tf.maximum(tf.norm(r, 'euclidean', 1), COSINE_EPS);
    const nt = tf.maximum(tf.norm(t, 'euclidean', 1), COSINE_EPS);
    return tf.div(tf.sum(tf.mul(r, t), 1), tf.mul(nr, nt)) as tf.Tensor1D;
  });
}

/**
 * The loss from per-token partial sums: Σ_i sq_i / (M·C) + 1 − Σ_i cos_i / M, added up on the host
 * in float64. A float32 mean over a whole level (`tf.mean` of 221,184 elements on the official
 * 32x32x72 level at batch 3) loses ~1e-5 relative; per-token sums of C values lose ~1e-7, and
 * the float64 total nothing more. The result is rounded to float32 once.
 * @param rowSq Σ_c (r − t)² per token [M]; @param cos cosine per token [M]
 */
function lossFromRows(rowSq: tf.Tensor, cos: tf.Tensor, channels: number): tf.Scalar {
  const sq = rowSq.dataSync();
  const cs = cos.dataSync();
  const m = sq.length;
  let sumSq = 0;
  let sumCos = 0;
  for (let i = 0; i < m; i++) {
    sumSq += sq[i];
    sumCos += cs[i];
  }
  return tf.scalar(sumSq / (m * channels) + (1 - sumCos / m));
}

/**
 * Training loss of one level (SPEC section 3): MSE over all elements plus the mean over tokens of
 * 1 − cos(F_rec, T) along channels. Reduced over tokens in float64 on the host (see
 * {@link reconstructionLossAndGrad}).
 * @param rec reconstruction [M, C] (M = B·N tokens); @param target clean features [M, C]
 */
export function reconstructionLoss(rec: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tidy(() => lossFromRows(tf.sum(tf.squaredDifference(rec, target), 1), rowCosine(rec, target), rec.shape[1]));
}

/**
 * {@link reconstructionLoss} and its gradient with respect to `rec`:
 * ∂/∂r = 2(r − t)/(M·C) − (1/M)·(t/(‖r‖‖t‖) − cos·r/‖r‖²) row by row.
 * The loss is the float64 sum of per-token partial sums (exact to float32 rounding on levels of
 * any size); the gradient is elementwise, so it needs no reduction beyond each token's norms.
 */
export function reconstructionLossAndGrad(rec: tf.Tensor2D, target: tf.Tensor2D): { loss: tf.Scalar; grad: tf.Tensor2D } {
  return tidy(() => {
    const [m, c] = rec.shape;
    const diff = tf.sub(rec, target);
    const nr = tf.maximum(tf.norm(rec, 'euclidean', 1, true), COSINE_EPS);
    const nt = tf.maximum(tf.norm(target, 'euclidean', 1, true), COSINE_EPS);
    const cos = tf.div(tf.sum(tf.mul(rec, target), 1, true), tf.mul(nr, nt)); // [M, 1]
    const loss = lossFromRows(tf.sum(tf.square(diff), 1), cos, c);
    const dCos = tf.sub(tf.div(target, tf.mul(nr, nt)), tf.mul(cos, tf.div(rec, tf.square(nr))));
    const grad = tf.sub(tf.mul(diff, 2 / (m * c)), tf.mul(dCos, 1 / m)) as tf.Tensor2D;
    return { loss, grad };
  });
}

/**
 * Token anomaly scores (SPEC section 3): mean over channels of (F_rec − T)² plus 1 − cos(F_rec, T).
 * @param rec [M, C]; @param target [M, C] clean features → [M]
 */
export function tokenScores(rec: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tidy(() => tf.add(tf.mean(tf.squaredDifference(rec, target), 1), tf.sub(1, rowCosine(rec, target))) as tf.Tensor1D);
}
