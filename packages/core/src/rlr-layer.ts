import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { keysGradient, referenceKeys, splitHeads, type ReferenceKeys } from './attention-core.js';
import { linear, mmNT, mmTN } from './fast-matmul.js';
import { gelu, geluBackward } from './gelu.js';
import { accumulate, type GradientMap } from './gradients.js';
import { layerNorm, layerNormBackward, type LayerNormSaved } from './layer-norm.js';
import type { LevelParams } from './level-params.js';
import { lcaBackward, lcaForward, type LcaSaved } from './local-cross-attention.js';
import { mlkaBackward, mlkaForward, type MlkaSaved } from './mlka.js';

/**
 * One RLR encoder layer (SPEC section 3):
 *   Z  = LN₁(α·LCA(Y, Rₕ, Rₕ) + MLKA(Y, Rₕ, Y))     (no residual around the attention)
 *   Y' = LN₂(Z + FFN(Z)),  FFN = Linear(d→F) · GELU(erf) · Linear(F→d)
 * Tokens are rows: Y [B·N, d]; the embedded reference Rₕ is [N, d], shared by the batch.
 */

/** Static settings of a layer. */
export interface LayerSettings {
  /** Prefix of the layer's parameters, e.g. `layers.0`. */
  prefix: string;
  heads: number;
  alpha: number;
  /** Additive masks [N, N]: `inside` for LCA (0 in the window), `outside` for MLKA. */
  maskInside: tf.Tensor2D;
  maskOutside: tf.Tensor2D;
}

/** Everything the layer backward needs; disposed by {@link disposeLayerSaved}. */
export interface LayerSaved {
  y: tf.Tensor2D;
  keysL: ReferenceKeys;
  keysM: ReferenceKeys;
  vL: tf.Tensor2D[];
  lca: LcaSaved;
  mlka: MlkaSaved;
  oL: tf.Tensor2D;
  oM: tf.Tensor2D;
  ln1: LayerNormSaved;
  z: tf.Tensor2D;
  hPre: tf.Tensor2D;
  cdf: tf.Tensor2D;
  hAct: tf.Tensor2D;
  ln2: LayerNormSaved;
}

type P1 = tf.Tensor1D;
type P2 = tf.Tensor2D;

/**
 * Forward of one layer.
 * @param y input tokens [B·N, d] (not consumed); @param rh embedded reference [N, d]
 * @returns the output tokens [B·N, d], and with `train` the tensors the backward needs
 */
export function layerForward(
  params: LevelParams,
  s: LayerSettings,
  y: tf.Tensor2D,
  rh: tf.Tensor2D,
  train: boolean,
): { y: tf.Tensor2D; saved: LayerSaved | null } {
  const p = (n: string) => params.get(`${s.prefix}.${n}`)!;
  return tidy(() => {
    // Reference side, once per batch: LCA keys and values, MLKA keys.
    const keysL = referenceKeys(linear(rh, p('lca.wk') as P2, p('lca.bk') as P1), s.heads, train);
    const vL = splitHeads(linear(rh, p('lca.wv') as P2, p('lca.bv') as P1), s.heads);
    const keysM = referenceKeys(linear(rh, p('mlka.wk') as P2, p('mlka.bk') as P1), s.heads, train);
    // Token side.
    const qL = linear(y, p('lca.wq') as P2, p('lca.bq') as P1);
    const qM = linear(y, p('mlka.wq') as P2, p('mlka.bq') as P1);
    const vM = linear(y, p('mlka.wv') as P2, p('mlka.bv') as P1);
    const lca = lcaForward(qL, keysL, vL, s.maskInside, train);
    const mlka = mlkaForward(qM, vM, keysM, s.maskOutside, train);
    const u = tf.add(
      tf.mul(linear(lca.out, p('lca.wo') as P2, p('lca.bo') as P1), s.alpha),
      linear(mlka.out, p('mlka.wo') as P2, p('mlka.bo') as P1),
    ) as tf.Tensor2D;
    const ln1 = layerNorm(u, p('norm1.g') as P1, p('norm1.b') as P1);
    const z = ln1.y;
    const hPre = linear(z, p('fc1.w') as P2, p('fc1.b') as P1);
    const act = gelu(hPre);
    const f = linear(act.y, p('fc2.w') as P2, p('fc2.b') as P1);
    const ln2 = layerNorm(tf.add(z, f) as tf.Tensor2D, p('norm2.g') as P1, p('norm2.b') as P1);
    if (!train) return { y: ln2.y, saved: null };
    const saved: LayerSaved = {
      y: tf.clone(y),
      keysL,
      keysM,
      vL,
      lca: lca.saved!,
      mlka: mlka.saved!,
      oL: lca.out,
      oM: mlka.out,
      ln1: ln1.saved,
      z,
      hPre,
      cdf: act.cdf,
      hAct: act.y,
      ln2: ln2.saved,
    };
    return { y: ln2.y, saved };
  });
}

/** Dispose the tensors a layer saved for its backward. */
export function disposeLayerSaved(saved: LayerSaved): void {
  tf.dispose(saved as unknown as tf.TensorContainer);
}

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
    const heads = s.heads;
    const dh = saved.y.shape[1] / heads;
    // LN₂ and the FFN residual branch.
    const ln2 = layerNormBackward(dOut, saved.ln2, p('norm2.g') as P1);
    g('norm2.g', ln2.dg);
    g('norm2.b', ln2.db);
    const dzf = ln2.dx;
    const dAct = mmNT(dzf, p('fc2.w') as P2);
    g('fc2.w', mmTN(saved.hAct, dzf));
    g('fc2.b', tf.sum(dzf, 0));
    const dHPre = geluBackward(dAct, saved.hPre, saved.cdf);
    g('fc1.w', mmTN(saved.z, dHPre));
    g('fc1.b', tf.sum(dHPre, 0));
    const dz = tf.add(dzf, mmNT(dHPre, p('fc1.w') as P2)) as tf.Tensor2D;
    // LN₁ and the two output projections of α·LCA + MLKA.
    const ln1 = layerNormBackward(dz, saved.ln1, p('norm1.g') as P1);
    g('norm1.g', ln1.dg);
    g('norm1.b', ln1.db);
    const du = ln1.dx;
    const duSum = tf.sum(du, 0);
    const dOL = tf.mul(mmNT(du, p('lca.wo') as P2), s.alpha) as tf.Tensor2D;
    g('lca.wo', tf.mul(mmTN(saved.oL, du), s.alpha));
    g('lca.bo', tf.mul(duSum, s.alpha));
    const dOM = mmNT(du, p('mlka.wo') as P2);
    g('mlka.wo', mmTN(saved.oM, du));
    g('mlka.bo', duSum);
    // Attention cores.
    const lca = lcaBackward(dOL, saved.lca, saved.keysL, saved.vL);
    const mlka = mlkaBackward(dOM, saved.mlka, saved.keysM);
    // Token-side projections.
    const y = saved.y;
    g('lca.wq', mmTN(y, lca.dq));
    g('lca.bq', tf.sum(lca.dq, 0));
    g('mlka.wq', mmTN(y, mlka.dq));
    g('mlka.bq', tf.sum(mlka.dq, 0));
    g('mlka.wv', mmTN(y, mlka.dv));
    g('mlka.bv', tf.sum(mlka.dv, 0));
    const dy = tf.addN([
      mmNT(lca.dq, p('lca.wq') as P2),
      mmNT(mlka.dq, p('mlka.wq') as P2),
      mmNT(mlka.dv, p('mlka.wv') as P2),
    ]) as tf.Tensor2D;
    // Reference-side projections.
    const dKL = keysGradient(lca.dkT, dh);
    const dVL = tf.concat(lca.dv, 1) as tf.Tensor2D;
    const dKM = keysGradient(mlka.dkT, dh);
    g('lca.wk', mmTN(rh, dKL));
    g('lca.bk', tf.sum(dKL, 0));
    g('lca.wv', mmTN(rh, dVL));
    g('lca.bv', tf.sum(dVL, 0));
    g('mlka.wk', mmTN(rh, dKM));
    g('mlka.bk', tf.sum(dKM, 0));
    const drh = tf.addN([
      mmNT(dKL, p('lca.wk') as P2),
      mmNT(dVL, p('lca.wv') as P2),
      mmNT(dKM, p('mlka.wk') as P2),
    ]) as tf.Tensor2D;
    return { dy, drh };
  });
}
