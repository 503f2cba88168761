import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { COSINE_EPS, reconstructionLoss, reconstructionLossAndGrad } from './loss.js';
import { Rng } from './rng.js';

/** The loss of SPEC section 3 computed in float64 from the same float32 values. */
function loss64(r: ArrayLike<number>, t: ArrayLike<number>, m: number, c: number): number {
  let sq = 0;
  let cos = 0;
  for (let i = 0; i < m; i++) {
    let rr = 0;
    let tt = 0;
    let rt = 0;
    for (let j = i * c; j < (i + 1) * c; j++) {
      sq += (r[j] - t[j]) ** 2;
      rr += r[j] * r[j];
      tt += t[j] * t[j];
      rt += r[j] * t[j];
    }
    cos += rt / (Math.max(Math.sqrt(rr), COSINE_EPS) * Math.max(Math.sqrt(tt), COSINE_EPS));
  }
  return sq / (m * c) + 1 - cos / m;
}

/** A reconstruction close to its target (as after training): target + small noise, with a large mean offset. */
function pair(m: number, c: number, seed: number): { r: Float32Array; t: Float32Array } {
  const rng = new Rng(seed);
  const t = rng.fillNormal(new Float32Array(m * c));
  const noise = rng.fillNormal(new Float32Array(m * c));
  for (let i = 0; i < t.length; i++) t[i] = 2 + t[i];
  const r = t.map((x, i) => x + 0.3 * noise[i]);
  return { r, t };
}

describe.each(TEST_BACKENDS)('reconstruction loss on %s', (backend) => {
  it('equals a float64 computation to 1e-6 relative on a paper-sized level (32x32 tokens x 72 channels x batch 4)', async () => {
    await useBackend(backend);
    const [m, c] = [4 * 32 * 32, 72];
    const { r, t } = pair(m, c, 11);
    const expected = loss64(r, t, m, c);
    const rec = tf.tensor2d(r, [m, c]);
    const target = tf.tensor2d(t, [m, c]);
    const before = tf.memory().numTensors;
    const withGrad = reconstructionLossAndGrad(rec, target);
    const plain = reconstructionLoss(rec, target);
    expect(tf.memory().numTensors).toBe(before + 3);
    for (const l of [withGrad.loss, plain]) expect(Math.abs(l.dataSync()[0] - expected)).toBeLessThanOrEqual(1e-6 * expected);
    tf.dispose([rec, target, withGrad.loss, withGrad.grad, plain]);
  });

  it('has the gradient of that loss (central differences of the float64 loss along random directions)', async () => {
    await useBackend(backend);
    const [m, c] = [48, 8];
    const { r, t } = pair(m, c, 12);
    const rec = tf.tensor2d(r, [m, c]);
    const target = tf.tensor2d(t, [m, c]);
    const { loss, grad } = reconstructionLossAndGrad(rec, target);
    const g = grad.dataSync();
    const rng = new Rng(13);
    for (let k = 0; k < 3; k++) {
      const v = rng.fillNormal(new Float32Array(m * c));
      const h = 1e-3;
      const plus = Float64Array.from(r, (x, i) => x + h * v[i]);
      const minus = Float64Array.from(r, (x, i) => x - h * v[i]);
      const numeric = (loss64(plus, t, m, c) - loss64(minus, t, m, c)) / (2 * h);
      let analytic = 0;
      for (let i = 0; i < g.length; i++) analytic += g[i] * v[i];
      expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(1e-4 * Math.abs(numeric) + 1e-7);
    }
    tf.dispose([rec, target, loss, grad]);
  });
});
