import * as tf from '@tensorflow/tfjs-core';
import { maskedSoftmax, rowDot, softmaxBackward } from './attention-core.js';
import { mm, mmTN } from './fast-matmul.js';
import { gatherRows, transpose2d } from './row-kernels.js';
import { tidy } from './tidy.js';
import { MASKED } from './window-mask.js';

/**
 * Local cross-attention (LCA, the released code's `mca`): queries from the input tokens, keys and
 * values from the embedded reference, each token attending only inside its w x w window
 * (mask 0 inside, −∞ outside).
 *
 * Computed in tiles instead of as a dense N x N masked softmax: the queries of `tileRows`
 * consecutive grid rows can only see keys of the grid rows within ⌊w/2⌋ of them, a contiguous
 * range of tokens. Each tile multiplies its queries by that key range only, with its part of the
 * window mask; the result equals the dense computation (masked keys contribute exactly 0 either
 * way) at a fraction of the work (32x32 grid, w 7, 4-row tiles: 320 of 1024 keys per query).
 * Keys and values are the same for every image, so a tile's queries of all images of the batch
 * are gathered into one product.
 */

/** One tile: query tokens [q0, q1), key tokens [k0, k1), and the window mask between them. */
export interface LcaTile {
  q0: number;
  q1: number;
  k0: number;
  k1: number;
  /** Additive mask [q1 − q0, k1 − k0]: 0 inside the window, large negative outside. */
  mask: Float32Array;
}

/** Split an h x w grid into tiles of `tileRows` grid rows (the last may be shorter). */
export function lcaTiles(h: number, w: number, window: number, tileRows: number): LcaTile[] {
  const r = (window - 1) / 2;
  const tiles: LcaTile[] = [];
  for (let row0 = 0; row0 < h; row0 += tileRows) {
    const row1 = Math.min(h, row0 + tileRows);
    const krow0 = Math.max(0, row0 - r);
    const krow1 = Math.min(h, row1 + r);
    const [q0, q1, k0, k1] = [row0 * w, row1 * w, krow0 * w, krow1 * w];
    const mask = new Float32Array((q1 - q0) * (k1 - k0)).fill(MASKED);
    for (let qi = q0; qi < q1; qi++) {
      const [ri, ci] = [Math.floor(qi / w), qi % w];
      for (let rj = Math.max(krow0, ri - r); rj <= Math.min(krow1 - 1, ri + r); rj++) {
        for (let cj = Math.max(0, ci - r); cj <= Math.min(w - 1, ci + r); cj++) {
          mask[(qi - q0) * (k1 - k0) + (rj * w + cj - k0)] = 0;
        }
      }
    }
    tiles.push({ q0, q1, k0, k1, mask });
  }
  return tiles;
}

/**
 * Grid rows per LCA tile: about 128 query tokens per tile, which balanced fewer multiplications
 * against more (per-op overhead ~50 µs on wasm) kernels in measurements at the official sizes.
 */
export function defaultTileRows(h: number, w: number): number {
  return Math.max(1, Math.min(h, Math.round(128 / w)));
}

/** A tile with its mask as a tensor (made once per level). */
export interface LcaTileTensors extends Omit<LcaTile, 'mask'> {
  mask: tf.Tensor2D;
}

/** One head's reference keys and values cut per tile (batch-independent). */
export interface LcaHeadReference {
  /** (K_h/√dh)ᵀ of each tile's key range: [dh, K_t]. */
  kT: tf.Tensor2D[];
  /** K_h/√dh of each tile's key range: [K_t, dh] (training only). */
  k: tf.Tensor2D[] | null;
  /** V_h of each tile's key range: [K_t, dh]. */
  v: tf.Tensor2D[];
  /** V_hᵀ per tile: [dh, K_t] (training only). */
  vT: tf.Tensor2D[] | null;
}

/**
 * Cut one head's reference keys and values into tiles.
 * @param k scaled keys K_h/√dh [N, dh]; @param v values V_h [N, dh]
 */
export function lcaHeadReference(k: tf.Tensor2D, v: tf.Tensor2D, tiles: LcaTileTensors[], train: boolean): LcaHeadReference {
  return tidy(() => {
    const out: LcaHeadReference = { kT: [], k: train ? [] : null, v: [], vT: train ? [] : null };
    for (const t of tiles) {
      const kt = gatherRows(k, [[t.k0, t.k1 - t.k0]]);
      const vt = gatherRows(v, [[t.k0, t.k1 - t.k0]]);
      out.kT.push(transpose2d(kt));
      out.v.push(vt);
      if (train) {
        out.k!.push(kt);
        out.vT!.push(transpose2d(vt));
      }
    }
    return out;
  });
}

/** Row runs that gather tile t of every image from [B·N, ·] rows (image-major). */
function tileRuns(t: LcaTileTensors, batch: number, n: number): [number, number][] {
  return Array.from({ length: batch }, (_, b) => [b * n + t.q0, t.q1 - t.q0] as [number, number]);
}

/** Row runs that put tile-major rows (tile, image, row) back in image-major order. */
function untileRuns(tiles: LcaTileTensors[], batch: number): [number, number][] {
  const offsets: number[] = [];
  let at = 0;
  for (const t of tiles) {
    offsets.push(at);
    at += batch * (t.q1 - t.q0);
  }
  const runs: [number, number][] = [];
  for (let b = 0; b < batch; b++) {
    tiles.forEach((t, i) => runs.push([offsets[i] + b * (t.q1 - t.q0), t.q1 - t.q0]));
  }
  return runs;
}

/** Per-tile tensors the backward of one head needs. */
export interface LcaSaved {
  q: tf.Tensor2D[];
  p: tf.Tensor2D[];
  o: tf.Tensor2D[];
}

/**
 * One head of LCA for a batch.
 * @param q the head's queries [B·N, dh]; @param n tokens per image
 * @returns the head's output [B·N, dh] (before the output projection)
 */
export function lcaForward(
  q: tf.Tensor2D,
  ref: LcaHeadReference,
  tiles: LcaTileTensors[],
  n: number,
  train: boolean,
): { out: tf.Tensor2D; saved: LcaSaved | null } {
  return tidy(() => {
    const batch = q.shape[0] / n;
    const outs: tf.Tensor2D[] = [];
    const saved: LcaSaved = { q: [], p: [], o: [] };
    tiles.forEach((t, i) => {
      const qt = gatherRows(q, tileRuns(t, batch, n)); // [B·T, dh]
      const p = maskedSoftmax(mm(qt, ref.kT[i]), t.mask); // [B·T, K_t]
      const ot = mm(p, ref.v[i]); // [B·T, dh]
      outs.push(ot);
      if (train) {
        saved.q.push(qt);
        saved.p.push(p);
        saved.o.push(ot);
      }
    });
    const out = tiles.length === 1 ? outs[0] : gatherRows(tf.concat(outs, 0) as tf.Tensor2D, untileRuns(tiles, batch));
    return { out, saved: train ? saved : null };
  });
}

/**
 * Backward of {@link lcaForward} given the head's output gradient dOut [B·N, dh].
 * @returns dq [B·N, dh]; per tile t, the transposed gradients of its key range (key tokens
 *   t.k0 … t.k1 − 1): dkT[t] = ∂/∂(K_h/√dh)ᵀ and dvT[t] = (∂/∂V_h)ᵀ, both [dh, K_t] (the caller
 *   adds them up, see `addBlocks`)
 */
export function lcaBackward(
  dOut: tf.Tensor2D,
  saved: LcaSaved,
  ref: LcaHeadReference,
  tiles: LcaTileTensors[],
  n: number,
): { dq: tf.Tensor2D; dkT: tf.Tensor2D[]; dvT: tf.Tensor2D[] } {
  return tidy(() => {
    const batch = dOut.shape[0] / n;
    const dqs: tf.Tensor2D[] = [];
    const dkT: tf.Tensor2D[] = [];
    const dvT: tf.Tensor2D[] = [];
    tiles.forEach((t, i) => {
      const dOt = gatherRows(dOut, tileRuns(t, batch, n));
      const ds = softmaxBackward(saved.p[i], mm(dOt, ref.vT![i]), rowDot(dOt, saved.o[i]));
      dqs.push(mm(ds, ref.k![i]));
      dkT.push(mmTN(saved.q[i], ds)); // [dh, K_t]
      dvT.push(mmTN(dOt, saved.p[i])); // [dh, K_t]
    });
    const dq = tiles.length === 1 ? dqs[0] : gatherRows(tf.concat(dqs, 0) as tf.Tensor2D, untileRuns(tiles, batch));
    return { dq, dkT, dvT };
  });
}
