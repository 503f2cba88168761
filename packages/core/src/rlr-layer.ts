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
 * One RLR encoder layer (SPEC section 3):
 *   Z  = LN₁(α·LCA(Y, Rₕ, Rₕ) + MLKA(Y, Rₕ, Y))     (no residual around the attention)
 *   Y' = LN₂(Z + FFN(Z)),  FFN = Linear(d→F) · GELU(erf) · Linear(F→d)
 * Tokens of the batch are rows: Y [B·N, d]; the embedded reference Rₕ is [N, d].
 *
 * The three projections of the tokens (LCA queries, MLKA queries and values) are one product
 * Y·[W_q^lca | W_q^mlka | W_v^mlka], the three of the reference (LCA keys and values, MLKA keys)
 * another; `splitColumns` then cuts them into heads. The two output projections are one product
 * [O_lca | O_mlka]·[α·W_o^lca; W_o^mlka].
 */

/** Static settings of a layer. */
export interface LayerSettings {
  /** Prefix of the layer's parameters, e.g. `layers.0`. */
  prefix: string;
  heads: number;
  alpha: number;
  /** Tokens per image N. */
  tokens: number;
  /** LCA tiles (see `local-cross-attention.ts`). */
  tiles: LcaTileTensors[];
  /** MLKA mask [N, N]: large negative inside the window. */
  maskOutside: tf.Tensor2D;
}

/** Everything the layer backward needs; disposed by {@link disposeLayerSaved}. */
export interface LayerSaved extends LayerTailSaved {
  y: tf.Tensor2D;
  wTok: tf.Tensor2D;
  wRef: tf.Tensor2D;
  wOut: tf.Tensor2D;
  lcaRef: LcaHeadReference[];
  kM: tf.Tensor2D[];
  lca: LcaSaved[];
  mlka: MlkaSaved[];
  attn: tf.Tensor2D;
}

type P1 = tf.Tensor1D;
type P2 = tf.Tensor2D;

/**
 * The reference side of a layer: keys and values of the embedded reference, the same for every
 * image of every batch until the parameters change (made once per batch in training, and kept
 * across batches by an inference cache, see `RLRLevel.cacheReference`).
 */
export interface LayerReference {
  /** [W_k^lca·s | W_v^lca | W_k^mlka·s] [d, 3d], s = 1/√dh (the keys' scale folded in). */
  wRef: tf.Tensor2D;
  /** LCA keys and values per head, cut into tiles. */
  lcaRef: LcaHeadReference[];
  /** MLKA scaled keys K_h/√dh per head [N, dh]. */
  kM: tf.Tensor2D[];
  /** Their transposes [dh, N]. */
  kMT: tf.Tensor2D[];
}

/**
 * The reference side of one layer from the embedded reference rh [N, d]: one product
 * [K_lca·s | V_lca | K_mlka·s] = Rₕ·W_ref + b_ref ([N, 3d]), cut into heads and tiles.
 */
export function layerReference(params: LevelParams, s: LayerSettings, rh: tf.Tensor2D, train: boolean): LayerReference {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  return tidy(() => {
    const d = rh.shape[1];
    const H = s.heads;
    const dh = d / H;
    const scale = 1 / Math.sqrt(dh);
    const wRef = concatColumns([tf.mul(p('lca.wk'), scale) as P2, p('lca.wv') as P2, tf.mul(p('mlka.wk'), scale) as P2]);
    const bRef = tf.concat([tf.mul(p('lca.bk'), scale), p('lca.bv'), tf.mul(p('mlka.bk'), scale)]) as P1;
    const refHeads = splitColumns(linear(rh, wRef, bRef), new Array<number>(3 * H).fill(dh));
    const lcaRef = Array.from({ length: H }, (_, h) => lcaHeadReference(refHeads[h], refHeads[H + h], s.tiles, train));
    const kM = refHeads.slice(2 * H);
    return { wRef, lcaRef, kM, kMT: kM.map((k) => transpose2d(k)) };
  });
}

/**
 * Forward of one layer.
 * @param y input tokens [B·N, d] (not consumed); @param rh embedded reference [N, d]
 * @param reference the layer's reference side made by {@link layerReference} from the same
 *   parameters and rh (not consumed; inference only), instead of computing it here
 * @returns the output tokens [B·N, d], and with `train` the tensors the backward needs
 */
export function layerForward(
  params: LevelParams,
  s: LayerSettings,
  y: tf.Tensor2D,
  rh: tf.Tensor2D,
  train: boolean,
  reference?: LayerReference,
): { y: tf.Tensor2D; saved: LayerSaved | null } {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  if (train && reference) throw new Error('layerForward: a precomputed reference side is for inference only (training differentiates through it)');
  return tidy(() => {
    const d = y.shape[1];
    const H = s.heads;
    const dh = d / H;
    const heads = (k: number) => new Array<number>(k * H).fill(dh);
    // Reference side, once per batch (or given): [K_lca·s | V_lca | K_mlka·s], [N, 3d].
    const { wRef, lcaRef, kM, kMT } = reference ?? layerReference(params, s, rh, train);
    // Token side: [Q_lca | Q_mlka | V_mlka] = Y·W_tok + b_tok, [B·N, 3d].
    const wTok = concatColumns([p('lca.wq') as P2, p('mlka.wq') as P2, p('mlka.wv') as P2]);
    const bTok = tf.concat([p('lca.bq'), p('mlka.bq'), p('mlka.bv')]) as P1;
    const tokHeads = splitColumns(linear(y, wTok, bTok), heads(3));
    const lca = tokHeads.slice(0, H).map((q, h) => lcaForward(q, lcaRef[h], s.tiles, s.tokens, train));
    const mlka = tokHeads.slice(H, 2 * H).map((q, h) => mlkaForward(q, tokHeads[2 * H + h], kMT[h], s.maskOutside, train));
    // Output projections: [O_lca | O_mlka]·[α·W_o^lca; W_o^mlka] + α·b_o^lca + b_o^mlka.
    const attn = concatColumns([...lca.map((a) => a.out), ...mlka.map((a) => a.out)]);
    const wOut = tf.concat([tf.mul(p('lca.wo'), s.alpha), p('mlka.wo')], 0) as P2;
    const bOut = tf.add(tf.mul(p('lca.bo'), s.alpha), p('mlka.bo')) as P1;
    const tail = layerTailForward(p, linear(attn, wOut, bOut));
    if (!train) return { y: tail.out, saved: null };
    const saved: LayerSaved = {
      y: tf.clone(y),
      wTok,
      wRef,
      wOut,
      lcaRef,
      kM,
      lca: lca.map((a) => a.saved!),
      mlka: mlka.map((a) => a.saved!),
      attn,
      ...tail.saved,
    };
    return { y: tail.out, saved };
  });
}

/** Dispose the tensors a layer saved for its backward. */
export function disposeLayerSaved(saved: LayerSaved): void {
  tf.dispose(saved as unknown as tf.TensorContainer);
}

/** Elements [start, start + n) of a small 1-D tensor (bias gradients). */
const part1 = (x: tf.Tensor1D, start: number, n: number) => tf.slice(x, [start], [n]) as tf.Tensor1D;

/**
 * Backward of one layer given dOut [B·N, d]. Adds the layer's parameter gradients to `grads`.
 * @param rh the embedded reference the forward used [N, d]
 * @returns the gradient of the input tokens dy [B·N, d] and of the embedded reference dRh [N, d]
 */
export function layerBackward(
  params: LevelParams,
  s: LayerSettings,
  saved: LayerSaved,
  rh: tf.Tensor2D,
  dOut: tf.Tensor2D,
  grads: GradientMap,
): { dy: tf.Tensor2D; drh: tf.Tensor2D } {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  const g = (n: string, t: tf.Tensor) => accumulate(grads, `${s.prefix}.${n}`, t);
  return tidy(() => {
    const d = saved.y.shape[1];
    const H = s.heads;
    const dh = d / H;
    const scale = 1 / Math.sqrt(dh);
    // LN₂, the FFN branch, LN₁.
    const du = layerTailBackward(p, g, saved, dOut);
    const dWOut = weightGradient([saved.attn], [du]); // [2d, d]
    g('lca.wo', tf.mul(gatherRows(dWOut, [[0, d]]), s.alpha));
    g('mlka.wo', gatherRows(dWOut, [[d, d]]));
    const duSum = columnSum(du);
    g('lca.bo', tf.mul(duSum, s.alpha));
    g('mlka.bo', duSum);
    const dAttn = splitColumns(mmNT(du, saved.wOut), new Array<number>(2 * H).fill(dh));
    // Attention cores.
    const lca = saved.lca.map((sv, h) => lcaBackward(dAttn[h], sv, saved.lcaRef[h], s.tiles, s.tokens));
    const mlka = saved.mlka.map((sv, h) => mlkaBackward(dAttn[H + h], sv, saved.kM[h]));
    // Token-side projections.
    const dTok = concatColumns([...lca.map((a) => a.dq), ...mlka.map((a) => a.dq), ...mlka.map((a) => a.dv)]);
    const [dwq, dwqm, dwvm] = splitColumns(weightGradient([saved.y], [dTok]), [d, d, d]);
    g('lca.wq', dwq);
    g('mlka.wq', dwqm);
    g('mlka.wv', dwvm);
    const dbTok = columnSum(dTok);
    g('lca.bq', part1(dbTok, 0, d));
    g('mlka.bq', part1(dbTok, d, d));
    g('mlka.bv', part1(dbTok, 2 * d, d));
    const dy = mmNT(dTok, saved.wTok);
    // Reference-side projections (keys were scaled by 1/√dh inside W_ref).
    // dRef [N, 3d] = [dK_lca | dV_lca | dK_mlka], head h in columns h·dh…; LCA tiles add into
    // their key rows (tiles overlap); the attentions' gradients are [dh, keys], added transposed.
    const blocks: Block[] = [];
    lca.forEach((a, h) =>
      s.tiles.forEach((t, i) => {
        blocks.push({ x: a.dkT[i], row: t.k0, col: h * dh, transposed: true });
        blocks.push({ x: a.dvT[i], row: t.k0, col: d + h * dh, transposed: true });
      }),
    );
    mlka.forEach((a, h) => blocks.push({ x: a.dkT, row: 0, col: 2 * d + h * dh, transposed: true }));
    const dRef = addBlocks(s.tokens, 3 * d, blocks);
    const [dwk, dwv, dwkm] = splitColumns(weightGradient([rh], [dRef]), [d, d, d]);
    g('lca.wk', tf.mul(dwk, scale));
    g('lca.wv', dwv);
    g('mlka.wk', tf.mul(dwkm, scale));
    const dbRef = columnSum(dRef);
    g('lca.bk', tf.mul(part1(dbRef, 0, d), scale));
    g('lca.bv', part1(dbRef, d, d));
    g('mlka.bk', tf.mul(part1(dbRef, 2 * d, d), scale));
    const drh = mmNT(dRef, saved.wRef);
    return { dy, drh };
  });
}
