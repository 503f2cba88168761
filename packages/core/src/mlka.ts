import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { maskedSoftmax, softmaxBackward, type ReferenceKeys } from './attention-core.js';
import { mm, mmNT, mmTN } from './fast-matmul.js';

/**
 * Masked large-kernel attention (MLKA, the released code's `nsa`): queries and values from the
 * input tokens, keys from the embedded reference, each token attending only OUTSIDE its window
 * (mask −∞ inside). The window's complement is most of the grid, so it is computed densely.
 *
 * Values differ per image, so the products run per image and head as 2-D matMuls
 * (S = Q_bh [N, dh]·K̃_hᵀ [dh, N], O_bh = P [N, N]·V_bh [N, dh]) rather than one rank-3 batched
 * product, which is 10–30x slower on wasm.
 */

/** Tensors the MLKA backward needs, per image b and head h at index b·heads + h. */
export interface MlkaSaved {
  q: tf.Tensor2D[];
  v: tf.Tensor2D[];
  p: tf.Tensor2D[];
}

/** Block (b, h) of x [B·N, d]: rows b·N.., columns h·dh.. → [N, dh]. */
function block(x: tf.Tensor2D, b: number, h: number, n: number, dh: number): tf.Tensor2D {
  return tf.slice(x, [b * n, h * dh], [n, dh]);
}

/** Reassemble per-(b, h) blocks [N, dh] into [B·N, d]. */
function assemble(blocks: tf.Tensor2D[], batch: number, heads: number): tf.Tensor2D {
  const rows: tf.Tensor2D[] = [];
  for (let b = 0; b < batch; b++) rows.push(tf.concat(blocks.slice(b * heads, (b + 1) * heads), 1));
  return rows.length === 1 ? rows[0] : tf.concat(rows, 0);
}

/**
 * @param q queries [B·N, d]; @param v values [B·N, d] (both projected from the input tokens)
 * @param keys per-head reference keys; @param mask [N, N] (large negative inside the window)
 * @returns out [B·N, d] (heads concatenated, before the output projection)
 */
export function mlkaForward(
  q: tf.Tensor2D,
  v: tf.Tensor2D,
  keys: ReferenceKeys,
  mask: tf.Tensor2D,
  train: boolean,
): { out: tf.Tensor2D; saved: MlkaSaved | null } {
  return tidy(() => {
    const heads = keys.kT.length;
    const n = mask.shape[0];
    const batch = q.shape[0] / n;
    const dh = q.shape[1] / heads;
    const outs: tf.Tensor2D[] = [];
    const saved: MlkaSaved = { q: [], v: [], p: [] };
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const qb = block(q, b, h, n, dh);
        const vb = block(v, b, h, n, dh);
        const p = maskedSoftmax(mm(qb, keys.kT[h]), mask);
        outs.push(mm(p, vb));
        if (train) {
          saved.q.push(qb);
          saved.v.push(vb);
          saved.p.push(p);
        }
      }
    }
    return { out: assemble(outs, batch, heads), saved: train ? saved : null };
  });
}

/**
 * Backward of {@link mlkaForward} given dOut [B·N, d].
 * @returns dq, dv [B·N, d]; per head dkT = ∂/∂(K_h/√dh)ᵀ [dh, N] summed over the batch
 */
export function mlkaBackward(
  dOut: tf.Tensor2D,
  saved: MlkaSaved,
  keys: ReferenceKeys,
): { dq: tf.Tensor2D; dv: tf.Tensor2D; dkT: tf.Tensor2D[] } {
  return tidy(() => {
    const heads = keys.kT.length;
    const n = keys.kT[0].shape[1];
    const batch = dOut.shape[0] / n;
    const dh = dOut.shape[1] / heads;
    const dq: tf.Tensor2D[] = [];
    const dv: tf.Tensor2D[] = [];
    const dkT: (tf.Tensor2D | null)[] = new Array(heads).fill(null);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const i = b * heads + h;
        const dO = block(dOut, b, h, n, dh);
        const p = saved.p[i];
        const ds = softmaxBackward(p, mmNT(dO, saved.v[i]));
        dq.push(mm(ds, keys.k![h]));
        dv.push(mmTN(p, dO));
        const g = mmTN(saved.q[i], ds);
        dkT[h] = dkT[h] ? (tf.add(dkT[h]!, g) as tf.Tensor2D) : g;
      }
    }
    return { dq: assemble(dq, batch, heads), dv: assemble(dv, batch, heads), dkT: dkT as tf.Tensor2D[] };
  });
}
