import * as tf from '@tensorflow/tfjs-core';
import { columnSum, linear, mmNT, weightGradient } from './fast-matmul.js';
import { gelu, geluBackward } from './gelu.js';
import { layerNorm, layerNormBackward, type LayerNormSaved } from './layer-norm.js';

/**
 * The part every encoder layer shares after its attention (the RLR layer and the ablation
 * variants alike): z = LN₁(u), then the feed-forward branch with its residual,
 * out = LN₂(z + FC₂(GELU(FC₁·z))). Parameter names under the layer's prefix: `norm1.*`, `fc1.*`,
 * `fc2.*`, `norm2.*`.
 */

type P1 = tf.Tensor1D;
type P2 = tf.Tensor2D;

/** What the tail keeps for its backward (part of each layer's saved tensors). */
export interface LayerTailSaved {
  ln1: LayerNormSaved;
  z: tf.Tensor2D;
  hPre: tf.Tensor2D;
  cdf: tf.Tensor2D;
  hAct: tf.Tensor2D;
  ln2: LayerNormSaved;
}

/** Forward of the tail on the attention output `u` [B·N, d]; `p` looks a parameter up by its name in the layer. */
export function layerTailForward(p: (name: string) => tf.Tensor, u: P2): { out: P2; saved: LayerTailSaved } {
  const ln1 = layerNorm(u, p('norm1.g') as P1, p('norm1.b') as P1);
  const z = ln1.y;
  const hPre = linear(z, p('fc1.w') as P2, p('fc1.b') as P1);
  const act = gelu(hPre);
  const f = linear(act.y, p('fc2.w') as P2, p('fc2.b') as P1);
  const ln2 = layerNorm(tf.add(z, f) as P2, p('norm2.g') as P1, p('norm2.b') as P1);
  return { out: ln2.y, saved: { ln1: ln1.saved, z, hPre, cdf: act.cdf, hAct: act.y, ln2: ln2.saved } };
}

/**
 * Backward of the tail given dOut [B·N, d]: adds the gradients of `norm1`, `fc1`, `fc2` and
 * `norm2` through `g` (name in the layer, gradient).
 * @returns du [B·N, d], the gradient of the attention output
 */
export function layerTailBackward(p: (name: string) => tf.Tensor, g: (name: string, t: tf.Tensor) => void, saved: LayerTailSaved, dOut: P2): P2 {
  // LN₂ and the FFN branch.
  const ln2 = layerNormBackward(dOut, saved.ln2, p('norm2.g') as P1);
  g('norm2.g', ln2.dg);
  g('norm2.b', ln2.db);
  const dzf = ln2.dx;
  const dAct = mmNT(dzf, p('fc2.w') as P2);
  g('fc2.w', weightGradient([saved.hAct], [dzf]));
  g('fc2.b', columnSum(dzf));
  const dHPre = geluBackward(dAct, saved.hPre, saved.cdf);
  g('fc1.w', weightGradient([saved.z], [dHPre]));
  g('fc1.b', columnSum(dHPre));
  const dz = tf.add(dzf, mmNT(dHPre, p('fc1.w') as P2)) as P2;
  // LN₁.
  const ln1 = layerNormBackward(dz, saved.ln1, p('norm1.g') as P1);
  g('norm1.g', ln1.dg);
  g('norm1.b', ln1.db);
  return ln1.dx;
}
