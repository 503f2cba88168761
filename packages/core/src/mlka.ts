import * as tf from '@tensorflow/tfjs-core';
import { maskedSoftmax, rowDot, softmaxBackward, sumAll } from './attention-core.js';
import { mm, mmNT, mmTN } from './fast-matmul.js';
import { gatherRows } from './row-kernels.js';
import { tidy } from './tidy.js';

/**
 * Masked large-kernel attention (MLKA, the released code's `nsa`): queries and values from the
 * input tokens, keys from the embedded reference, each token attending only OUTSIDE its window
 * (mask −∞ inside). The window's complement is most of the grid, so it is computed densely.
 * Values differ per image, so each image is its own 2-D product S = Q_b [N, dh]·K̃ᵀ [dh, N],
 * O_b = P [N, N]·V_b [N, dh] (a rank-3 batched product is 10–30x slower on wasm).
 */

/** Per-image tensors the backward of one head needs. */
export interface MlkaSaved {
  q: tf.Tensor2D[];
  v: tf.Tensor2D[];
  p: tf.Tensor2D[];
  o: tf.Tensor2D[];
}

const imageRows = (x: tf.Tensor2D, b: number, n: number) => gatherRows(x, [[b * n, n]]);

/**
 * One head of MLKA for a batch.
 * @param q, v the head's queries and values [B·N, dh]
 * @param kT the head's scaled reference keys (K_h/√dh)ᵀ [dh, N]
 * @param mask [N, N], large negative inside the window
 * @returns the head's output [B·N, dh]
 */
export function mlkaForward(
  q: tf.Tensor2D,
  v: tf.Tensor2D,
  kT: tf.Tensor2D,
  mask: tf.Tensor2D,
  train: boolean,
): { out: tf.Tensor2D; saved: MlkaSaved | null } {
  return tidy(() => {
    const n = mask.shape[0];
    const batch = q.shape[0] / n;
    const saved: MlkaSaved = { q: [], v: [], p: [], o: [] };
    const outs: tf.Tensor2D[] = [];
    for (let b = 0; b < batch; b++) {
      const qb = imageRows(q, b, n);
      const vb = imageRows(v, b, n);
      const p = maskedSoftmax(mm(qb, kT), mask);
      const o = mm(p, vb);
      outs.push(o);
      if (train) {
        saved.q.push(qb);
        saved.v.push(vb);
        saved.p.push(p);
        saved.o.push(o);
      }
    }
    return { out: outs.length === 1 ? outs[0] : (tf.concat(outs, 0) as tf.Tensor2D), saved: train ? saved : null };
  });
}

/**
 * Backward of {@link mlkaForward} given the head's output gradient dOut [B·N, dh].
 * @param k the head's scaled keys K_h/√dh [N, dh]
 * @returns dq, dv [B·N, dh]; dkT = ∂/∂(K_h/√dh)ᵀ [dh, N] summed over the batch
 */
export function mlkaBackward(
  dOut: tf.Tensor2D,
  saved: MlkaSaved,
  k: tf.Tensor2D,
): { dq: tf.Tensor2D; dv: tf.Tensor2D; dkT: tf.Tensor2D } {
  return tidy(() => {
    const n = k.shape[0];
    const batch = dOut.shape[0] / n;
    const dq: tf.Tensor2D[] = [];
    const dv: tf.Tensor2D[] = [];
    const dkT: tf.Tensor2D[] = [];
    for (let b = 0; b < batch; b++) {
      const dO = imageRows(dOut, b, n);
      const p = saved.p[b];
      const ds = softmaxBackward(p, mmNT(dO, saved.v[b]), rowDot(dO, saved.o[b]));
      dq.push(mm(ds, k));
      dv.push(mmTN(p, dO));
      dkT.push(mmTN(saved.q[b], ds));
    }
    const cat = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as tf.Tensor2D));
    return { dq: cat(dq), dv: cat(dv), dkT: sumAll(dkT) };
  });
}
