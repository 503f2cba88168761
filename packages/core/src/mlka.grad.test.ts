import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { mlkaBackward, mlkaForward } from './mlka.js';
import { Rng } from './rng.js';
import { windowMasks } from './window-mask.js';
import { plainHead, relativeError } from '../test/plain-rlr.js';

const randn = (rng: Rng, shape: [number, number], std = 1) => tf.tensor2d(rng.fillNormal(new Float32Array(shape[0] * shape[1]), 0, std), shape);

// One MLKA head (keys from the reference, queries and values per image, attention outside the
// window) against tf.grads of a dense per-image softmax(Q·K̃ᵀ + M)·V.
describe.each(TEST_BACKENDS)('mlka backward (%s)', (backend) => {
  it.each([
    [1, 4, 4, 3],
    [3, 5, 6, 3],
  ])('batch %i, grid %ix%i, window %i: dq, dv and dkT equal tf.grads of the dense attention', async (batch, h, w, win) => {
    await useBackend(backend);
    const rng = new Rng(21 + batch);
    const n = h * w;
    const dh = 4;
    const before = tf.memory().numTensors;
    const mask = tf.tensor2d(windowMasks(h, w, win).outside, [n, n]);
    const q = randn(rng, [batch * n, dh]);
    const v = randn(rng, [batch * n, dh]);
    const k = randn(rng, [n, dh], 0.7);
    const kT = tf.transpose(k) as tf.Tensor2D;
    const dOut = randn(rng, [batch * n, dh]);
    const { out, saved } = mlkaForward(q, v, kT, mask, true);
    const got = mlkaBackward(dOut, saved!, k);
    const dense = (qq: tf.Tensor, vv: tf.Tensor, kk: tf.Tensor) => {
      const heads = Array.from({ length: batch }, (_, b) => plainHead(tf.slice(qq, [b * n, 0], [n, dh]), kk, tf.slice(vv, [b * n, 0], [n, dh]), mask));
      return tf.concat(heads, 0);
    };
    const outRef = tf.tidy(() => dense(q, v, kT));
    const [dq, dv, dkT] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(dense(a, b, c), dOut)))([q, v, kT]);
    expect(relativeError(out, outRef)).toBeLessThan(1e-5);
    expect(relativeError(got.dq, dq)).toBeLessThan(1e-4);
    expect(relativeError(got.dv, dv)).toBeLessThan(1e-4);
    expect(relativeError(got.dkT, dkT)).toBeLessThan(1e-4);
    tf.dispose([mask, q, v, k, kT, dOut, out, saved as unknown as tf.TensorContainer, got, outRef, dq, dv, dkT]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
