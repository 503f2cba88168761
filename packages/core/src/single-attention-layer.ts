import * as tf from '@tensorflow/tfjs-core';
import { columnSum, linear, mmNT, weightGradient } from './fast-matmul.js';
import { accumulate, type GradientMap } from './gradients.js';
import type { LevelParams } from './level-params.js';
import {
  lcaBackward,
  lcaForward,
  lcaHeadReference,
  type LcaHeadReference,
  type LcaSaved,
  type LcaTileTensors,
} from './local-cross-attention.js';
import { mlkaBackward, mlkaForward, type MlkaSaved } from './mlka.js';
import { addBlocks, concatColumns, gatherRows, splitColumns, transpose2d, type Block } from './row-kernels.js';
import { layerTailBackward, layerTailForward, type LayerTailSaved } from './layer-tail.js';
import { tidy } from './tidy.js';

/**
 * An encoder layer with ONE attention, for the ablation variants of `attention-variants.ts`:
 *   U  = Attn(Y) (+ Y with `residual`),  Z = LN₁(U),  Y' = LN₂(Z + FFN(Z))
 * with Attn one of
 *   - `reference`: cross-attention to the embedded reference, MHA(q = Y, k = Rₕ, v = Rₕ), run by
 *     the tiled LCA kernels — windowed tiles give LCA, dense tiles (`denseTiles`) plain CA;
 *     parameters `lca.*`;
 *   - `self`: self-attention MHA(q = Y, k = Y, v = Y) over each image's tokens, run per image by
 *     the dense MLKA kernels with an all-zero mask; parameters `sa.*`.
 * The backward composes the kernels' own backward passes; the FFN and norms are as in
 * `rlr-layer.ts`.
 */

/** Static settings of a one-attention layer. */
export interface SingleLayerSettings {
  /** Prefix of the layer's parameters, e.g. `layers.0`. */
  prefix: string;
  heads: number;
  /** Tokens per image N. */
  tokens: number;
  /** Which attention: cross-attention to the reference, or self-attention. */
  kind: 'reference' | 'self';
  /** Whether the layer input is added to the attention output before LN₁. */
  residual: boolean;
  /** `reference`: the key tiles (windowed or dense). */
  tiles: LcaTileTensors[];
  /** `self`: an all-zero [N, N] mask. */
  zeroMask: tf.Tensor2D | null;
}

/** What the backward needs; disposed by {@link disposeSingleLayerSaved}. */
export interface SingleLayerSaved extends LayerTailSaved {
  y: tf.Tensor2D;
  /** `reference`: [K·s | V] projection of Rₕ; `self`: [Q | K·s | V] projection of Y. */
  wFused: tf.Tensor2D;
  lcaRef: LcaHeadReference[];
  lca: LcaSaved[];
  /** `self`, per head, per image: scaled keys [N, dh] and the kernel's saved tensors. */
  selfKeys: tf.Tensor2D[][];
  self: MlkaSaved[][];
  attn: tf.Tensor2D;
}

type P1 = tf.Tensor1D;
type P2 = tf.Tensor2D;

const cat0 = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as tf.Tensor2D));

/**
 * Forward of one layer.
 * @param y input tokens [B·N, d] (not consumed); @param rh embedded reference [N, d] (`reference` only)
 */
export function singleLayerForward(
  params: LevelParams,
  s: SingleLayerSettings,
  y: tf.Tensor2D,
  rh: tf.Tensor2D | null,
  train: boolean,
): { y: tf.Tensor2D; saved: SingleLayerSaved | null } {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  return tidy(() => {
    const d = y.shape[1];
    const H = s.heads;
    const dh = d / H;
    const scale = 1 / Math.sqrt(dh);
    const n = s.tokens;
    const batch = y.shape[0] / n;
    const heads = (k: number) => new Array<number>(k * H).fill(dh);
    let wFused: tf.Tensor2D;
    let lcaRef: LcaHeadReference[] = [];
    let lca: LcaSaved[] = [];
    const selfKeys: tf.Tensor2D[][] = [];
    const self: MlkaSaved[][] = [];
    let outs: tf.Tensor2D[];
    let wo: tf.Tensor2D;
    let bo: tf.Tensor1D;
    if (s.kind === 'reference') {
      if (!rh) throw new Error(`${s.prefix}: a cross-attention layer needs the embedded reference`);
      // Reference side: [K·s | V] = Rₕ·W_ref + b_ref, [N, 2d]; token side: Q = Y·W_q + b_q.
      wFused = concatColumns([tf.mul(p('lca.wk'), scale) as P2, p('lca.wv') as P2]);
      const bRef = tf.concat([tf.mul(p('lca.bk'), scale), p('lca.bv')]) as P1;
      const refHeads = splitColumns(linear(rh, wFused, bRef), heads(2));
      lcaRef = Array.from({ length: H }, (_, h) => lcaHeadReference(refHeads[h], refHeads[H + h], s.tiles, train));
      const q = splitColumns(linear(y, p('lca.wq') as P2, p('lca.bq') as P1), heads(1));
      const r = q.map((qh, h) => lcaForward(qh, lcaRef[h], s.tiles, n, train));
      lca = r.map((a) => a.saved!);
      outs = r.map((a) => a.out);
      [wo, bo] = [p('lca.wo') as P2, p('lca.bo') as P1];
    } else {
      if (!s.zeroMask) throw new Error(`${s.prefix}: a self-attention layer needs its zero mask`);
      // [Q | K·s | V] = Y·W_tok + b_tok, [B·N, 3d]; every image attends over its own tokens.
      wFused = concatColumns([p('sa.wq') as P2, tf.mul(p('sa.wk'), scale) as P2, p('sa.wv') as P2]);
      const bTok = tf.concat([p('sa.bq'), tf.mul(p('sa.bk'), scale), p('sa.bv')]) as P1;
      const tok = splitColumns(linear(y, wFused, bTok), heads(3));
      outs = [];
      for (let h = 0; h < H; h++) {
        const keys: tf.Tensor2D[] = [];
        const saved: MlkaSaved[] = [];
        const per: tf.Tensor2D[] = [];
        for (let b = 0; b < batch; b++) {
          const rows = (x: tf.Tensor2D) => gatherRows(x, [[b * n, n]]);
          const k = rows(tok[H + h]);
          const r = mlkaForward(rows(tok[h]), rows(tok[2 * H + h]), transpose2d(k), s.zeroMask, train);
          per.push(r.out);
          keys.push(k);
          if (r.saved) saved.push(r.saved);
        }
        outs.push(cat0(per));
        selfKeys.push(keys);
        self.push(saved);
      }
      [wo, bo] = [p('sa.wo') as P2, p('sa.bo') as P1];
    }
    const attn = concatColumns(outs);
    const a = linear(attn, wo, bo);
    const u = s.residual ? (tf.add(y, a) as P2) : a;
    const tail = layerTailForward(p, u);
    if (!train) return { y: tail.out, saved: null };
    const saved: SingleLayerSaved = {
      y: tf.clone(y),
      wFused,
      lcaRef,
      lca,
      selfKeys,
      self,
      attn,
      ...tail.saved,
    };
    return { y: tail.out, saved };
  });
}

/** Dispose the tensors a layer saved for its backward. */
export function disposeSingleLayerSaved(saved: SingleLayerSaved): void {
  tf.dispose(saved as unknown as tf.TensorContainer);
}

/** Elements [start, start + n) of a small 1-D tensor (bias gradients). */
const part1 = (x: tf.Tensor1D, start: number, n: number) => tf.slice(x, [start], [n]) as tf.Tensor1D;

/**
 * Backward of {@link singleLayerForward} given dOut [B·N, d]; adds the layer's parameter
 * gradients to `grads`.
 * @returns dy [B·N, d], and for `reference` layers the gradient of the embedded reference dRh [N, d]
 */
export function singleLayerBackward(
  params: LevelParams,
  s: SingleLayerSettings,
  saved: SingleLayerSaved,
  rh: tf.Tensor2D | null,
  dOut: tf.Tensor2D,
  grads: GradientMap,
): { dy: tf.Tensor2D; drh: tf.Tensor2D | null } {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  const g = (n: string, t: tf.Tensor) => accumulate(grads, `${s.prefix}.${n}`, t);
  return tidy(() => {
    const d = saved.y.shape[1];
    const H = s.heads;
    const dh = d / H;
    const scale = 1 / Math.sqrt(dh);
    const n = s.tokens;
    // LN₂, the FFN branch, LN₁.
    const du = layerTailBackward(p, g, saved, dOut);
    const m = s.kind === 'reference' ? 'lca' : 'sa';
    g(`${m}.wo`, weightGradient([saved.attn], [du]));
    g(`${m}.bo`, columnSum(du));
    const dAttn = splitColumns(mmNT(du, p(`${m}.wo`) as P2), new Array<number>(H).fill(dh));
    let dy: tf.Tensor2D;
    let drh: tf.Tensor2D | null = null;
    if (s.kind === 'reference') {
      if (!rh) throw new Error(`${s.prefix}: a cross-attention layer needs the embedded reference`);
      const lca = saved.lca.map((sv, h) => lcaBackward(dAttn[h], sv, saved.lcaRef[h], s.tiles, n));
      const dQ = concatColumns(lca.map((a) => a.dq));
      g('lca.wq', weightGradient([saved.y], [dQ]));
      g('lca.bq', columnSum(dQ));
      dy = mmNT(dQ, p('lca.wq') as P2);
      // dRef [N, 2d] = [dK_lca | dV_lca]; tiles add into their key rows (transposed blocks).
      const blocks: Block[] = [];
      lca.forEach((a, h) =>
        s.tiles.forEach((t, i) => {
          blocks.push({ x: a.dkT[i], row: t.k0, col: h * dh, transposed: true });
          blocks.push({ x: a.dvT[i], row: t.k0, col: d + h * dh, transposed: true });
        }),
      );
      const dRef = addBlocks(n, 2 * d, blocks);
      const [dwk, dwv] = splitColumns(weightGradient([rh], [dRef]), [d, d]);
      g('lca.wk', tf.mul(dwk, scale));
      g('lca.wv', dwv);
      const dbRef = columnSum(dRef);
      g('lca.bk', tf.mul(part1(dbRef, 0, d), scale));
      g('lca.bv', part1(dbRef, d, d));
      drh = mmNT(dRef, saved.wFused);
    } else {
      const batch = saved.y.shape[0] / n;
      const dq: tf.Tensor2D[] = [];
      const dk: tf.Tensor2D[] = [];
      const dv: tf.Tensor2D[] = [];
      for (let h = 0; h < H; h++) {
        const [q, k, v]: tf.Tensor2D[][] = [[], [], []];
        for (let b = 0; b < batch; b++) {
          const r = mlkaBackward(gatherRows(dAttn[h], [[b * n, n]]), saved.self[h][b], saved.selfKeys[h][b]);
          q.push(r.dq);
          k.push(transpose2d(r.dkT));
          v.push(r.dv);
        }
        dq.push(cat0(q));
        dk.push(cat0(k));
        dv.push(cat0(v));
      }
      const dTok = concatColumns([...dq, ...dk, ...dv]);
      const [dwq, dwk, dwv] = splitColumns(weightGradient([saved.y], [dTok]), [d, d, d]);
      g('sa.wq', dwq);
      g('sa.wk', tf.mul(dwk, scale));
      g('sa.wv', dwv);
      const dbTok = columnSum(dTok);
      g('sa.bq', part1(dbTok, 0, d));
      g('sa.bk', tf.mul(part1(dbTok, d, d), scale));
      g('sa.bv', part1(dbTok, 2 * d, d));
      dy = mmNT(dTok, saved.wFused);
    }
    if (s.residual) dy = tf.add(dy, du) as P2;
    return { dy, drh };
  });
}
