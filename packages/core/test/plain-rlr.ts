import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers op gradients only when asked; tf.grads of the plain forward needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import type { LevelConfig } from '../src/config.js';
import { sinCosPosition2D } from '../src/sincos-position.js';
import { windowMasks } from '../src/window-mask.js';
import { Rng } from '../src/rng.js';

/**
 * The RLR level written the obvious way (SPEC section 3) from differentiable tfjs ops only:
 * dense masked attention over rank-4 [B, heads, N, dh] tensors, the textbook layer norm and
 * GELU, no tiles, no fused projections, no custom kernels. `tf.grads` of these functions is the
 * reference the hand-written backward passes are checked against (`*.grad.test.ts`).
 * Parameters use the internal names and `[in, out]` layouts of `level-params.ts`.
 */

/** Parameter values by internal name. */
export type PlainParams = Record<string, tf.Tensor>;

/** Layer norm over the last axis with PyTorch's biased variance and eps 1e-5. */
export function plainLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const c = tf.sub(x, mean);
  const variance = tf.mean(tf.square(c), -1, true);
  return tf.add(tf.mul(tf.div(c, tf.sqrt(tf.add(variance, 1e-5))), g), b);
}

/** Exact GELU x·(1 + erf(x/√2))/2. */
export function plainGelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** Row softmax(q·kT + mask)·v of one attention head; q [M, dh], kT [dh, K], v [K, dh], mask [M, K]. */
export function plainHead(q: tf.Tensor, kT: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.matMul(tf.softmax(tf.add(tf.matMul(q, kT), mask)), v);
}

/**
 * Multi-head attention as `nn.MultiheadAttention` computes it.
 * @param q query tokens [B, N, d]; @param k key tokens [B, N, d]; @param v value tokens [B, N, d]
 * @param mask additive [N, N]
 * @returns [B, N, d] after the output projection
 */
export function plainMha(p: PlainParams, name: string, heads: number, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const [B, N, d] = q.shape;
  const dh = d / heads;
  const proj = (x: tf.Tensor, w: string, b: string) =>
    tf.transpose(tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * N, d]), p[`${name}.${w}`]), p[`${name}.${b}`]), [B, N, heads, dh]), [0, 2, 1, 3]);
  const qh = proj(q, 'wq', 'bq');
  const kh = proj(k, 'wk', 'bk');
  const vh = proj(v, 'wv', 'bv');
  const s = tf.add(tf.div(tf.matMul(qh, kh, false, true), Math.sqrt(dh)), mask);
  const o = tf.matMul(tf.softmax(s), vh); // [B, H, N, dh]
  const cat = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * N, d]);
  return tf.reshape(tf.add(tf.matMul(cat, p[`${name}.wo`]), p[`${name}.bo`]), [B, N, d]);
}

/** Window masks and position code of a level, as tensors (the caller disposes them). */
export function plainConstants(cfg: LevelConfig): { inside: tf.Tensor2D; outside: tf.Tensor2D; pos: tf.Tensor2D } {
  const [h, w] = cfg.grid;
  const n = h * w;
  const m = windowMasks(h, w, cfg.window);
  return {
    inside: tf.tensor2d(m.inside, [n, n]),
    outside: tf.tensor2d(m.outside, [n, n]),
    pos: tf.tensor2d(sinCosPosition2D(h, w, cfg.d), [n, cfg.d]),
  };
}

/**
 * One encoder layer: Z = LN₁(α·LCA(Y, Rₕ, Rₕ) + MLKA(Y, Rₕ, Y)), Y' = LN₂(Z + FFN(Z)); with
 * `cfg.attention` set, the attention sublayer of that ablation variant (docs/variants.md):
 * `cross+mlka` LN₁(α·CA + MLKA), `lca` LN₁(LCA), `cross` LN₁(CA), `residual-cross` LN₁(Y + CA),
 * `residual-self` LN₁(Y + SA(Y, Y, Y)), where CA and SA attend to every token.
 * @param y [B, N, d]; @param rh embedded reference [N, d] (unused by `residual-self`) → [B, N, d]
 */
export function plainLayer(
  p: PlainParams,
  prefix: string,
  cfg: LevelConfig,
  c: { inside: tf.Tensor; outside: tf.Tensor },
  y: tf.Tensor,
  rh: tf.Tensor,
): tf.Tensor {
  const [B, N, d] = y.shape;
  const pre = (s: string) => `${prefix}.${s}`;
  const none = () => tf.zeros([N, N]);
  let u: tf.Tensor;
  if (cfg.attention === 'residual-self') {
    u = tf.add(y, plainMha(p, pre('sa'), cfg.heads, y, y, y, none()));
  } else {
    const r = tf.tile(tf.reshape(rh, [1, N, d]), [B, 1, 1]);
    const variant = cfg.attention ?? 'mlka+lca';
    const windowed = variant === 'mlka+lca' || variant === 'lca';
    const ca = plainMha(p, pre('lca'), cfg.heads, y, r, r, windowed ? c.inside : none());
    if (variant === 'mlka+lca' || variant === 'cross+mlka') u = tf.add(tf.mul(ca, cfg.alpha), plainMha(p, pre('mlka'), cfg.heads, y, r, y, c.outside));
    else u = variant === 'residual-cross' ? tf.add(y, ca) : ca;
  }
  const z = plainLayerNorm(u, p[pre('norm1.g')], p[pre('norm1.b')]);
  const z2 = tf.reshape(z, [B * N, d]);
  const hid = plainGelu(tf.add(tf.matMul(z2, p[pre('fc1.w')]), p[pre('fc1.b')]));
  const f = tf.reshape(tf.add(tf.matMul(hid, p[pre('fc2.w')]), p[pre('fc2.b')]), [B, N, d]);
  return plainLayerNorm(tf.add(z, f), p[pre('norm2.g')], p[pre('norm2.b')]);
}

/** Loss of SPEC section 3: MSE over elements + mean over rows of 1 − cos (norms clamped at 1e-8). */
export function plainLoss(rec: tf.Tensor, t: tf.Tensor): tf.Scalar {
  const nr = tf.maximum(tf.sqrt(tf.sum(tf.square(rec), -1)), 1e-8);
  const nt = tf.maximum(tf.sqrt(tf.sum(tf.square(t), -1)), 1e-8);
  const cos = tf.div(tf.sum(tf.mul(rec, t), -1), tf.mul(nr, nt));
  return tf.add(tf.mean(tf.square(tf.sub(rec, t))), tf.mean(tf.sub(1, cos))) as tf.Scalar;
}

/**
 * Training loss of a whole level for features x, target t [B·N, C].
 * Rₕ = Emb_ref(R), Y₀ = Emb_in(x), L layers, F_rec = Linear(LN(Y_L)).
 */
export function plainLevelLoss(
  p: PlainParams,
  cfg: LevelConfig,
  c: { inside: tf.Tensor; outside: tf.Tensor; pos: tf.Tensor },
  x: tf.Tensor,
  t: tf.Tensor,
): tf.Scalar {
  const n = cfg.grid[0] * cfg.grid[1];
  const B = x.shape[0] / n;
  const d = cfg.d;
  const rh = p['ref'] ? tf.add(tf.add(tf.matMul(p['ref'], p['refEmbed.w']), p['refEmbed.b']), c.pos) : tf.zeros([n, d]);
  let y = tf.add(tf.reshape(tf.add(tf.matMul(x, p['embed.w']), p['embed.b']), [B, n, d]), c.pos);
  for (let k = 0; k < cfg.layers; k++) y = plainLayer(p, `layers.${k}`, cfg, c, y, rh);
  const out = tf.add(tf.matMul(tf.reshape(plainLayerNorm(y, p['norm.g'], p['norm.b']), [B * n, d]), p['proj.w']), p['proj.b']);
  return plainLoss(out, t);
}

/** Largest |a − b| relative to the largest |b| (at least `floor`). */
export function relativeError(a: tf.Tensor, b: tf.Tensor, floor = 1e-6): number {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) throw new Error(`relativeError: sizes ${x.length} and ${y.length} differ`);
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}

/**
 * Random values for every parameter of a level (internal names): weights N(0, 1/fan_in),
 * biases and norm offsets N(0, 0.1²), norm gains N(1, 0.2²), the reference N(0, 1) — non-zero
 * everywhere, unlike the initialisation, so every gradient path carries signal.
 */
export function randomLevelValues(defs: { name: string; shape: number[] }[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  for (const { name, shape } of defs) {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name === 'ref') rng.fillNormal(out, 0, 1);
    else if (shape.length === 2) rng.fillNormal(out, 0, 1 / Math.sqrt(shape[0]));
    else if (name.endsWith('.g')) rng.fillNormal(out, 1, 0.2);
    else rng.fillNormal(out, 0, 0.1);
    values.set(name, out);
  }
  return values;
}
