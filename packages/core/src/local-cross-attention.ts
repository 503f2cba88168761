import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { maskedSoftmax, softmaxBackward, splitHeads, type ReferenceKeys } from './attention-core.js';
import { mm, mmNT, mmTN } from './fast-matmul.js';

/**
 * Local cross-attention (LCA, the released code's `mca`): queries from the input tokens, keys and
 * values from the embedded reference, each token attending only inside its window
 * (mask 0 inside, −∞ outside).
 *
 * Keys and values are the same for every image, so each head is ONE product over all B·N query
 * rows of the batch: S_h = Q_h [B·N, dh] · K̃_hᵀ [dh, N], O_h = P_h [B·N, N] · V_h [N, dh].
 */

/** Tensors the LCA backward needs (per head). */
export interface LcaSaved {
  /** Q_h [B·N, dh]. */
  q: tf.Tensor2D[];
  /** Attention probabilities P_h [B·N, N]. */
  p: tf.Tensor2D[];
}

/**
 * @param q queries [B·N, d] (already projected)
 * @param keys per-head reference keys
 * @param v per-head reference values [N, dh]
 * @param mask additive window mask [N, N] (0 inside, large negative outside)
 * @returns out [B·N, d] (heads concatenated, before the output projection)
 */
export function lcaForward(
  q: tf.Tensor2D,
  keys: ReferenceKeys,
  v: tf.Tensor2D[],
  mask: tf.Tensor2D,
  train: boolean,
): { out: tf.Tensor2D; saved: LcaSaved | null } {
  return tidy(() => {
    const heads = keys.kT.length;
    const qh = splitHeads(q, heads);
    const outs: tf.Tensor2D[] = [];
    const ps: tf.Tensor2D[] = [];
    for (let h = 0; h < heads; h++) {
      const p = maskedSoftmax(mm(qh[h], keys.kT[h]), mask);
      outs.push(mm(p, v[h]));
      if (train) ps.push(p);
    }
    return { out: tf.concat(outs, 1), saved: train ? { q: qh, p: ps } : null };
  });
}

/**
 * Backward of {@link lcaForward} given dOut [B·N, d].
 * @returns dq [B·N, d]; per head dkT = ∂/∂(K_h/√dh)ᵀ [dh, N] and dv = ∂/∂V_h [N, dh]
 */
export function lcaBackward(
  dOut: tf.Tensor2D,
  saved: LcaSaved,
  keys: ReferenceKeys,
  v: tf.Tensor2D[],
): { dq: tf.Tensor2D; dkT: tf.Tensor2D[]; dv: tf.Tensor2D[] } {
  return tidy(() => {
    const heads = keys.kT.length;
    const dOh = splitHeads(dOut, heads);
    const dq: tf.Tensor2D[] = [];
    const dkT: tf.Tensor2D[] = [];
    const dv: tf.Tensor2D[] = [];
    for (let h = 0; h < heads; h++) {
      const p = saved.p[h];
      const ds = softmaxBackward(p, mmNT(dOh[h], v[h]));
      dq.push(mm(ds, keys.k![h]));
      dkT.push(mmTN(saved.q[h], ds));
      dv.push(mmTN(p, dOh[h]));
    }
    return { dq: tf.concat(dq, 1), dkT, dv };
  });
}
