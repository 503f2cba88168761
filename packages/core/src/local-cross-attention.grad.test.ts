import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { lcaBackward, lcaForward, lcaHeadReference, lcaTiles, type LcaTileTensors } from './local-cross-attention.js';
import { Rng } from './rng.js';
import { windowMasks } from './window-mask.js';
import { plainHead, relativeError } from '../test/plain-rlr.js';

const randn = (rng: Rng, shape: [number, number], std = 1) => tf.tensor2d(rng.fillNormal(new Float32Array(shape[0] * shape[1]), 0, std), shape);

// One LCA head computed in row tiles against tf.grads of the dense masked attention
// softmax(Q·Kᵀ + M_inside)·V over the whole grid. The per-tile key gradients are added into
// their key rows here (tiles overlap), as the layer does.
describe.each(TEST_BACKENDS)('lca backward (%s)', (backend) => {
  it.each([
    [1, 4, 4, 3, 4],
    [2, 6, 5, 3, 1],
    [2, 7, 4, 5, 2],
  ])('batch %i, grid %ix%i, window %i, %i rows per tile: dq, dk, dv equal tf.grads of the dense attention', async (batch, h, w, win, tileRows) => {
    await useBackend(backend);
    const rng = new Rng(31 + h);
    const n = h * w;
    const dh = 4;
    const before = tf.memory().numTensors;
    const tiles: LcaTileTensors[] = lcaTiles(h, w, win, tileRows).map((t) => ({ ...t, mask: tf.tensor2d(t.mask, [t.q1 - t.q0, t.k1 - t.k0]) }));
    const inside = tf.tensor2d(windowMasks(h, w, win).inside, [n, n]);
    const q = randn(rng, [batch * n, dh]);
    const k = randn(rng, [n, dh], 0.7);
    const v = randn(rng, [n, dh]);
    const dOut = randn(rng, [batch * n, dh]);
    const ref = lcaHeadReference(k, v, tiles, true);
    const { out, saved } = lcaForward(q, ref, tiles, n, true);
    const got = lcaBackward(dOut, saved!, ref, tiles, n);
    // Sum the tiles' [dh, K_t] key and value gradients into [N, dh].
    const scatter = (parts: tf.Tensor2D[]) =>
      tf.tidy(() => tf.addN(parts.map((g, i) => tf.pad(tf.transpose(g), [[tiles[i].k0, n - tiles[i].k1], [0, 0]]))));
    const dk = scatter(got.dkT);
    const dv = scatter(got.dvT);
    const dense = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
      tf.concat(Array.from({ length: batch }, (_, b) => plainHead(tf.slice(qq, [b * n, 0], [n, dh]), tf.transpose(kk), vv, inside)), 0);
    const outRef = tf.tidy(() => dense(q, k, v));
    const [dqRef, dkRef, dvRef] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(dense(a, b, c), dOut)))([q, k, v]);
    expect(relativeError(out, outRef)).toBeLessThan(1e-5);
    expect(relativeError(got.dq, dqRef)).toBeLessThan(1e-4);
    expect(relativeError(dk, dkRef)).toBeLessThan(1e-4);
    expect(relativeError(dv, dvRef)).toBeLessThan(1e-4);
    tf.dispose([
      ...tiles.map((t) => t.mask),
      inside, q, k, v, dOut, out, dk, dv, outRef, dqRef, dkRef, dvRef,
      ref as unknown as tf.TensorContainer,
      saved as unknown as tf.TensorContainer,
      got,
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
