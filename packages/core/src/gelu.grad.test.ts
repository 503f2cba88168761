import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { gelu, geluBackward } from './gelu.js';
import { Rng } from './rng.js';
import { plainGelu, relativeError } from '../test/plain-rlr.js';

// The hand-written GELU backward against tf.grad of the textbook formula; no fixtures needed.
describe.each(TEST_BACKENDS)('gelu backward (%s)', (backend) => {
  it('matches tf.grad of x·Φ(x), and the forward matches the formula', async () => {
    await useBackend(backend);
    const rng = new Rng(11);
    const before = tf.memory().numTensors;
    // Values from −4 to 4 cover both tails and the curved middle.
    const x = tf.tensor2d(rng.fillUniform(new Float32Array(6 * 40), -4, 4), [6, 40]);
    const dy = tf.tensor2d(rng.fillNormal(new Float32Array(6 * 40), 0, 1), [6, 40]);
    const { y, cdf } = gelu(x);
    const dx = geluBackward(dy, x, cdf);
    const ref = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(plainGelu(v), dy)))(x);
    const yRef = tf.tidy(() => plainGelu(x));
    expect(relativeError(y, yRef)).toBeLessThan(1e-6);
    expect(relativeError(dx, ref)).toBeLessThan(1e-5);
    tf.dispose([x, dy, y, cdf, dx, ref, yRef]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
