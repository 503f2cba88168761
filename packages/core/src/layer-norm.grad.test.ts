import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import { Rng } from './rng.js';
import { plainLayerNorm, relativeError } from '../test/plain-rlr.js';

// The hand-written layer-norm backward against tf.grads of the textbook formula.
describe.each(TEST_BACKENDS)('layerNorm backward (%s)', (backend) => {
  it('gives dx, dg and db equal to tf.grads of (x − μ)/√(σ² + ε)·g + b', async () => {
    await useBackend(backend);
    const rng = new Rng(12);
    const [m, d] = [10, 24];
    const before = tf.memory().numTensors;
    // Rows with different offsets and spreads, so rstd differs per row.
    const raw = rng.fillNormal(new Float32Array(m * d), 0, 1);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) raw[i * d + j] = raw[i * d + j] * (0.5 + i / 3) + i - 4;
    const x = tf.tensor2d(raw, [m, d]);
    const g = tf.tensor1d(rng.fillNormal(new Float32Array(d), 1, 0.5));
    const b = tf.tensor1d(rng.fillNormal(new Float32Array(d), 0, 0.5));
    const dy = tf.tensor2d(rng.fillNormal(new Float32Array(m * d), 0, 1), [m, d]);
    const { y, saved } = layerNorm(x, g, b);
    const got = layerNormBackward(dy, saved, g);
    const yRef = tf.tidy(() => plainLayerNorm(x, g, b));
    const [dx, dg, db] = tf.grads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(plainLayerNorm(a, c, e), dy)))([x, g, b]);
    expect(relativeError(y, yRef)).toBeLessThan(1e-5);
    expect(relativeError(got.dx, dx)).toBeLessThan(1e-4);
    expect(relativeError(got.dg, dg)).toBeLessThan(1e-5);
    expect(relativeError(got.db, db)).toBeLessThan(1e-5);
    tf.dispose([x, g, b, dy, y, saved.xhat, saved.rstd, got.dx, got.dg, got.db, yRef, dx, dg, db]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
