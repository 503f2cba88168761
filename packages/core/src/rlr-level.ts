import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import type { LevelConfig } from './config.js';
import { embed2D, embed2DBackward } from './embedding-2d.js';
import { columnSum, linear, mmNT, weightGradient } from './fast-matmul.js';
import { accumulate, disposeGradients, type GradientMap } from './gradients.js';
import { gatherRows } from './row-kernels.js';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import type { LevelParams } from './level-params.js';
import { reconstructionLossAndGrad } from './loss.js';
import { disposeLayerSaved, layerBackward, layerForward, layerReference, type LayerReference, type LayerSaved, type LayerSettings } from './rlr-layer.js';
import { sinCosPosition2D } from './sincos-position.js';
import { windowMasks } from './window-mask.js';
import { defaultTileRows, lcaTiles } from './local-cross-attention.js';
import { denseTiles, variantParts } from './attention-variants.js';
import {
  disposeSingleLayerSaved,
  singleLayerBackward,
  singleLayerForward,
  type SingleLayerSaved,
  type SingleLayerSettings,
} from './single-attention-layer.js';

/** A layer of either structure: the paper's two attentions, or one attention (ablation variants). */
type AnyLayerSettings = { two: LayerSettings; one?: undefined } | { one: SingleLayerSettings; two?: undefined };
type AnyLayerSaved = { two: LayerSaved; one?: undefined } | { one: SingleLayerSaved; two?: undefined };

/**
 * One level of RLR: a complete model of its own (levels share nothing).
 *   Rₕ = Emb_ref(R);  Y₀ = Emb_in(F);  Y_k = layer_k(Y_{k−1}, Rₕ);  F_rec = Linear(LN(Y_L))
 * Tokens of a batch are rows of 2-D tensors: features [B·N, C] with row b·N + n the token at
 * grid position n = row·w + col of image b (the NHWC order of the backbone maps).
 * `config.attention` picks the layer structure (`attention-variants.ts`); `residual-self` has no
 * reference, so Rₕ is absent there.
 */
export class RLRLevel {
  readonly config: LevelConfig;
  readonly params: LevelParams;
  /** Sin-cos position code [N, d]. */
  readonly pos: tf.Tensor2D;
  private readonly layerSettings: AnyLayerSettings[];
  private readonly masks: tf.Tensor2D[];
  /**
   * Keep the reference side of inference (Rₕ and every layer's reference keys and values, which
   * depend only on the parameters) from one {@link reconstruct} to the next, rebuilt when a
   * parameter it depends on is replaced or assigned. Off by default (those tensors then live as
   * long as the level); the workers' inference replicas turn it on.
   */
  cacheReference = false;
  private referenceCache: { key: unknown[]; rh: tf.Tensor2D | null; layers: (LayerReference | null)[] } | null = null;

  /**
   * @param tileRows grid rows per local-attention tile (default: about 128 query tokens); any
   *   value gives the same result, only the speed changes
   */
  constructor(config: LevelConfig, params: LevelParams, tileRows?: number) {
    this.config = config;
    this.params = params;
    const [h, w] = config.grid;
    const n = h * w;
    this.pos = tf.tensor2d(sinCosPosition2D(h, w, config.d), [n, config.d]);
    const parts = variantParts(config.attention);
    const rows = tileRows ?? defaultTileRows(h, w);
    const tiles = (parts.windowed ? lcaTiles(h, w, config.window, rows) : denseTiles(h, w, rows)).map((t) => ({
      ...t,
      mask: tf.tensor2d(t.mask, [t.q1 - t.q0, t.k1 - t.k0]),
    }));
    this.masks = tiles.map((t) => t.mask);
    const prefix = (k: number) => `layers.${k}`;
    if (parts.modules.includes('mlka')) {
      const outside = tf.tensor2d(windowMasks(h, w, config.window).outside, [n, n]);
      this.masks.unshift(outside);
      this.layerSettings = Array.from({ length: config.layers }, (_, k) => ({
        two: { prefix: prefix(k), heads: config.heads, alpha: config.alpha, tokens: n, tiles, maskOutside: outside },
      }));
    } else {
      const self = parts.modules.includes('sa');
      const zeroMask = self ? tf.zeros([n, n]) as tf.Tensor2D : null;
      if (zeroMask) this.masks.push(zeroMask);
      this.layerSettings = Array.from({ length: config.layers }, (_, k) => ({
        one: { prefix: prefix(k), heads: config.heads, tokens: n, kind: self ? 'self' : 'reference', residual: parts.residual, tiles, zeroMask },
      }));
    }
  }

  private runLayer(
    s: AnyLayerSettings,
    y: tf.Tensor2D,
    rh: tf.Tensor2D | null,
    train: boolean,
    reference?: LayerReference,
  ): { y: tf.Tensor2D; saved: AnyLayerSaved | null } {
    if (s.one) {
      const r = singleLayerForward(this.params, s.one, y, rh, train);
      return { y: r.y, saved: r.saved && { one: r.saved } };
    }
    if (!rh) throw new Error('RLRLevel: the attention layers need the embedded reference');
    const r = layerForward(this.params, s.two, y, rh, train, reference);
    return { y: r.y, saved: r.saved && { two: r.saved } };
  }

  private runLayerBackward(s: AnyLayerSettings, saved: AnyLayerSaved, rh: tf.Tensor2D | null, dOut: tf.Tensor2D, grads: GradientMap) {
    if (s.one && saved.one) return singleLayerBackward(this.params, s.one, saved.one, rh, dOut, grads);
    if (s.two && saved.two && rh) return layerBackward(this.params, s.two, saved.two, rh, dOut, grads);
    throw new Error('RLRLevel: a layer backward got the saved tensors of another layer structure');
  }

  private static disposeSaved(saved: AnyLayerSaved): void {
    if (saved.one) disposeSingleLayerSaved(saved.one);
    else disposeLayerSaved(saved.two);
  }

  /** Tokens per image N = h·w. */
  get tokens(): number {
    return this.config.grid[0] * this.config.grid[1];
  }

  private p1(n: string): tf.Tensor1D {
    return this.params.get(n) as tf.Variable<tf.Rank.R1>;
  }

  private p2(n: string): tf.Tensor2D {
    return this.params.get(n) as tf.Variable<tf.Rank.R2>;
  }

  /** Embedded reference Rₕ [N, d]; null for a variant without reference. */
  private embeddedReference(): tf.Tensor2D | null {
    if (!this.params.has('ref')) return null;
    return embed2D(this.p2('ref'), this.p2('refEmbed.w'), this.p1('refEmbed.b'), this.pos);
  }

  /** Check x is [B·N, C] for this level (or [B, h, w, C], which is reshaped). */
  toRows(x: tf.Tensor, what: string): tf.Tensor2D {
    const { channels: C, grid } = this.config;
    const n = this.tokens;
    if (x.rank === 4) {
      const [, h, w, c] = x.shape;
      if (h !== grid[0] || w !== grid[1] || c !== C) {
        throw new Error(`${what}: got a [${x.shape}] map, this level expects [B, ${grid[0]}, ${grid[1]}, ${C}]`);
      }
      return tf.reshape(x, [-1, C]);
    }
    if (x.rank !== 2 || x.shape[1] !== C || x.shape[0] % n !== 0) {
      throw new Error(`${what}: got shape [${x.shape}], this level expects [B·${n}, ${C}] or [B, ${grid[0]}, ${grid[1]}, ${C}]`);
    }
    return x as tf.Tensor2D;
  }

  /**
   * Reconstruct features (inference).
   * @param x features [B, h, w, C] or [B·N, C] → reconstruction [B·N, C]
   */
  reconstruct(x: tf.Tensor): tf.Tensor2D {
    const cached = this.cacheReference ? this.cachedReference() : null;
    return tidy(() => {
      const rows = this.toRows(x, 'RLRLevel.reconstruct');
      const rh = cached ? cached.rh : this.embeddedReference();
      let y = embed2D(rows, this.p2('embed.w'), this.p1('embed.b'), this.pos);
      this.layerSettings.forEach((s, k) => {
        y = this.runLayer(s, y, rh, false, cached?.layers[k] ?? undefined).y;
      });
      return linear(layerNorm(y, this.p1('norm.g'), this.p1('norm.b')).y, this.p2('proj.w'), this.p1('proj.b'));
    });
  }

  /** Parameters the reference side depends on, with their data: the inference cache's key. */
  private referenceKey(): unknown[] {
    const names = ['ref', 'refEmbed.w', 'refEmbed.b'];
    for (const s of this.layerSettings) {
      if (s.two) for (const n of ['lca.wk', 'lca.bk', 'lca.wv', 'lca.bv', 'mlka.wk', 'mlka.bk']) names.push(`${s.two.prefix}.${n}`);
    }
    // assign() gives a variable a new dataId; a replaced variable is a new object.
    return names.flatMap((n) => {
      const v = this.params.get(n);
      return [v, v?.dataId];
    });
  }

  /** The inference reference side, made again when its parameters changed. */
  private cachedReference(): { rh: tf.Tensor2D | null; layers: (LayerReference | null)[] } {
    const key = this.referenceKey();
    const c = this.referenceCache;
    if (c && c.key.length === key.length && c.key.every((k, i) => k === key[i])) return c;
    this.dropReferenceCache();
    const built = tidy(() => {
      const rh = this.embeddedReference();
      // Only the paper's two-attention layers have a reference side to keep.
      return { rh, layers: this.layerSettings.map((s) => (s.two && rh ? layerReference(this.params, s.two, rh, false) : null)) };
    });
    // Kept out of any caller's tidy scope: the cache outlives the call.
    keepAll(built);
    this.referenceCache = { key, ...built };
    return this.referenceCache;
  }

  private dropReferenceCache(): void {
    if (!this.referenceCache) return;
    tf.dispose([this.referenceCache.rh ?? [], ...this.referenceCache.layers.map((l) => (l ?? []) as unknown as tf.TensorContainer)]);
    this.referenceCache = null;
  }

  /**
   * Loss of one training batch and the gradient of every parameter.
   * @param input jittered features [B·N, C] or [B, h, w, C]; @param target clean features, same shape
   * @param imagesPerPass run the forward/backward on at most this many images at a time and
   *   combine the results (the loss is a mean over images, so the gradient is the image-weighted
   *   mean of the chunks' gradients): bounds memory — on wasm the heap is limited to 4 GB and the
   *   official level 32x32 needs ~0.45 GB per image — at the cost of recomputing the reference
   *   side per chunk. Default: the whole batch.
   * @returns the loss (a scalar the caller disposes) and gradients by internal parameter name
   *   (the caller disposes them, e.g. with `disposeGradients`)
   */
  lossAndGradients(input: tf.Tensor, target: tf.Tensor, imagesPerPass = Infinity): { loss: tf.Scalar; grads: GradientMap } {
    const x = this.toRows(input, 'RLRLevel.lossAndGradients input');
    const t = this.toRows(target, 'RLRLevel.lossAndGradients target');
    if (x.shape[0] !== t.shape[0]) {
      throw new Error(`RLRLevel.lossAndGradients: input has ${x.shape[0]} tokens but target has ${t.shape[0]}`);
    }
    const n = this.tokens;
    const batch = x.shape[0] / n;
    const per = Math.max(1, Math.floor(imagesPerPass));
    try {
      if (batch <= per) return this.lossAndGradientsOnce(x, t);
      const grads: GradientMap = new Map();
      let loss = tf.scalar(0);
      for (let b0 = 0; b0 < batch; b0 += per) {
        const nb = Math.min(per, batch - b0);
        const xc = gatherRows(x, [[b0 * n, nb * n]]);
        const tc = gatherRows(t, [[b0 * n, nb * n]]);
        const part = this.lossAndGradientsOnce(xc, tc);
        tf.dispose([xc, tc]);
        const w = nb / batch;
        const next = tidy(() => tf.add(loss, tf.mul(part.loss, w)) as tf.Scalar);
        tf.dispose([loss, part.loss]);
        loss = next;
        for (const [name, g] of part.grads) accumulate(grads, name, tidy(() => tf.mul(g, w)));
        disposeGradients(part.grads);
      }
      return { loss, grads };
    } finally {
      if (x !== input) x.dispose();
      if (t !== target) t.dispose();
    }
  }

  /** {@link lossAndGradients} in one pass over x, t [B·N, C] (not disposed). */
  private lossAndGradientsOnce(x: tf.Tensor2D, t: tf.Tensor2D): { loss: tf.Scalar; grads: GradientMap } {
    const grads: GradientMap = new Map();
    // Forward, keeping what the backward needs.
    const fwd = tidy(() => {
      const rh = this.embeddedReference();
      let y = embed2D(x, this.p2('embed.w'), this.p1('embed.b'), this.pos);
      const saved: AnyLayerSaved[] = [];
      for (const s of this.layerSettings) {
        const r = this.runLayer(s, y, rh, true);
        saved.push(r.saved!);
        y = r.y;
      }
      const lnf = layerNorm(y, this.p1('norm.g'), this.p1('norm.b'));
      const rec = linear(lnf.y, this.p2('proj.w'), this.p1('proj.b'));
      const { loss, grad } = reconstructionLossAndGrad(rec, t);
      return { rh, saved, lnf, loss, dRec: grad };
    });
    // Backward, releasing each layer's activations as soon as it is done.
    let dy = tidy(() => {
      accumulate(grads, 'proj.w', weightGradient([fwd.lnf.y], [fwd.dRec]));
      accumulate(grads, 'proj.b', columnSum(fwd.dRec));
      const dLnf = mmNT(fwd.dRec, this.p2('proj.w'));
      const ln = layerNormBackward(dLnf, fwd.lnf.saved, this.p1('norm.g'));
      accumulate(grads, 'norm.g', ln.dg);
      accumulate(grads, 'norm.b', ln.db);
      return ln.dx;
    });
    tf.dispose([fwd.lnf.y, fwd.lnf.saved.xhat, fwd.lnf.saved.rstd, fwd.dRec]);
    let drh: tf.Tensor2D | null = null;
    for (let k = this.layerSettings.length - 1; k >= 0; k--) {
      const r = this.runLayerBackward(this.layerSettings[k], fwd.saved[k], fwd.rh, dy, grads);
      RLRLevel.disposeSaved(fwd.saved[k]);
      dy.dispose();
      dy = r.dy;
      if (!r.drh) continue;
      if (drh) {
        const sum = tf.add(drh, r.drh) as tf.Tensor2D;
        drh.dispose();
        r.drh.dispose();
        drh = sum;
      } else drh = r.drh;
    }
    tidy(() => {
      const e = embed2DBackward(dy, x, this.p2('embed.w'), false);
      accumulate(grads, 'embed.w', e.dw);
      accumulate(grads, 'embed.b', e.db);
      if (!drh) return;
      const r = embed2DBackward(drh, this.p2('ref'), this.p2('refEmbed.w'), true);
      accumulate(grads, 'refEmbed.w', r.dw);
      accumulate(grads, 'refEmbed.b', r.db);
      accumulate(grads, 'ref', r.dx!);
    });
    tf.dispose([dy, ...(drh ? [drh] : []), ...(fwd.rh ? [fwd.rh] : [])]);
    return { loss: fwd.loss, grads };
  }

  /** Release the level's parameters and constant tensors. */
  dispose(): void {
    this.dropReferenceCache();
    for (const v of this.params.values()) v.dispose();
    this.pos.dispose();
    for (const m of this.masks) m.dispose();
  }
}

/** tf.keep every tensor reachable through objects and arrays. */
function keepAll(x: unknown): void {
  if (x instanceof tf.Tensor) tf.keep(x);
  else if (Array.isArray(x)) x.forEach(keepAll);
  else if (x && typeof x === 'object') Object.values(x).forEach(keepAll);
}
