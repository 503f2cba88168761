import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import type { LevelConfig } from './config.js';
import { disposeGradients, type GradientMap } from './gradients.js';
import { levelParamDefs, levelParamsFromValues } from './level-params.js';
import { lcaTiles } from './local-cross-attention.js';
import { Rng } from './rng.js';
import { layerBackward, layerForward, disposeLayerSaved, type LayerSettings } from './rlr-layer.js';
import { windowMasks } from './window-mask.js';
import { plainConstants, plainLayer, randomLevelValues, relativeError } from '../test/plain-rlr.js';

// A whole encoder layer (fused projections, tiled LCA, dense MLKA, both layer norms, the FFN)
// against tf.grads of the plain layer: every parameter gradient and both input gradients.
describe.each(TEST_BACKENDS)('rlr layer backward (%s)', (backend) => {
  it.each([
    [2, 4, 5, 3, 2, 1],
    [1, 6, 6, 5, 4, 2],
  ])('batch %i, grid %ix%i, window %i, %i heads, %i rows per tile', async (batch, h, w, win, heads, tileRows) => {
    await useBackend(backend);
    const d = 8;
    const cfg: LevelConfig = { grid: [h, w], channels: 6, d, heads, layers: 1, ffnHidden: 16, window: win, alpha: 1.7 };
    const n = h * w;
    const before = tf.memory().numTensors;
    const values = randomLevelValues(levelParamDefs(cfg), 41 + h);
    const params = levelParamsFromValues(cfg, values, 'test');
    const tiles = lcaTiles(h, w, win, tileRows).map((t) => ({ ...t, mask: tf.tensor2d(t.mask, [t.q1 - t.q0, t.k1 - t.k0]) }));
    const maskOutside = tf.tensor2d(windowMasks(h, w, win).outside, [n, n]);
    const s: LayerSettings = { prefix: 'layers.0', heads, alpha: cfg.alpha, tokens: n, tiles, maskOutside };
    const rng = new Rng(5);
    const y = tf.tensor2d(rng.fillNormal(new Float32Array(batch * n * d), 0, 1), [batch * n, d]);
    const rh = tf.tensor2d(rng.fillNormal(new Float32Array(n * d), 0, 1), [n, d]);
    const dOut = tf.tensor2d(rng.fillNormal(new Float32Array(batch * n * d), 0, 1), [batch * n, d]);

    const fwd = layerForward(params, s, y, rh, true);
    const grads: GradientMap = new Map();
    const back = layerBackward(params, s, fwd.saved!, rh, dOut, grads);

    const c = plainConstants(cfg);
    const names = [...params.keys()].filter((k) => k.startsWith('layers.0.'));
    const plain = (yy: tf.Tensor, rr: tf.Tensor, ...ps: tf.Tensor[]) =>
      tf.reshape(plainLayer(Object.fromEntries(names.map((k, i) => [k, ps[i]])), 'layers.0', cfg, c, tf.reshape(yy, [batch, n, d]), rr), [batch * n, d]);
    const outRef = tf.tidy(() => plain(y, rh, ...names.map((k) => params.get(k)!)));
    const ref = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(plain(xs[0], xs[1], ...xs.slice(2)), dOut)))([y, rh, ...names.map((k) => params.get(k)!)]);

    expect(relativeError(fwd.y, outRef)).toBeLessThan(1e-5);
    expect(relativeError(back.dy, ref[0])).toBeLessThan(2e-4);
    expect(relativeError(back.drh, ref[1])).toBeLessThan(2e-4);
    // Key biases shift every logit of a query by the same amount, which softmax ignores: their
    // true gradient is 0 and both sides hold rounding noise, so errors are measured against a
    // floor of 1e-3 of the largest parameter gradient.
    const scale = Math.max(...ref.slice(2).map((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])));
    for (const k of ['layers.0.lca.bk', 'layers.0.mlka.bk']) {
      expect(tf.tidy(() => tf.max(tf.abs(grads.get(k)!)).dataSync()[0])).toBeLessThan(1e-4 * scale);
    }
    const worst = names.map((k, i) => [k, relativeError(grads.get(k)!, ref[i + 2], 1e-3 * scale)] as const).filter(([, e]) => e > 2e-4);
    expect(worst).toEqual([]);
    expect(grads.size).toBe(names.length);

    disposeLayerSaved(fwd.saved!);
    disposeGradients(grads);
    tf.dispose([fwd.y, back.dy, back.drh, outRef, ...ref, y, rh, dOut, maskOutside, ...tiles.map((t) => t.mask), c.inside, c.outside, c.pos]);
    for (const v of params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
