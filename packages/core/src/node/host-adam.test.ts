import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { Adam } from '../adam.js';
import type { GradientMap } from '../gradients.js';
import { Rng } from '../rng.js';
import { hostAdamStep } from './host-adam.js';

describe.each(TEST_BACKENDS)('hostAdamStep (%s)', (backend) => {
  it('sums gradient slots and steps exactly like Adam.apply with the summed gradients, bit for bit', async () => {
    await useBackend(backend);
    const n = 5000;
    const rng = new Rng(11);
    const p0 = rng.fillNormal(new Float32Array(n));
    const options = { lr: 3e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]]);
    const adam = new Adam(params, options);
    const host = { step: 0, p: p0.slice(), m: new Float32Array(n), v: new Float32Array(n) };
    for (let step = 0; step < 3; step++) {
      // Three workers' slots, with magnitudes that make float32 rounding matter.
      const slots = rng.fillNormal(new Float32Array(3 * n), 0, 10 ** (step - 2));
      let sum = slots.slice(0, n);
      for (let w = 1; w < 3; w++) sum = sum.map((x, i) => Math.fround(x + slots[w * n + i]));
      const grads: GradientMap = new Map([['w', tf.tensor1d(sum)]]);
      adam.apply(grads);
      tf.dispose([...grads.values()]);
      hostAdamStep(host, slots, 3, options);
    }
    const state = await adam.getState();
    expect(host.step).toBe(3);
    expect(Array.from(host.m)).toEqual(Array.from(state.m.get('w')!));
    expect(Array.from(host.v)).toEqual(Array.from(state.v.get('w')!));
    expect(Array.from(host.p)).toEqual(Array.from(params.get('w')!.dataSync()));
    adam.dispose();
    params.get('w')!.dispose();
  });
});
