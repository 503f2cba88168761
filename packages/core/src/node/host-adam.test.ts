import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { Adam } from '../adam.js';
import type { GradientMap } from '../gradients.js';
import { Rng } from '../rng.js';
import { hostAdamStep, shardRanges } from './host-adam.js';

describe.each(TEST_BACKENDS)('hostAdamStep (%s)', (backend) => {
  it('sums gradient slots and steps exactly like Adam.apply with the summed gradients, bit for bit, shard by shard', async () => {
    await useBackend(backend);
    const n = 5000;
    const rng = new Rng(11);
    const p0 = rng.fillNormal(new Float32Array(n));
    const options = { lr: 3e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const params = new Map([['w', tf.variable(tf.tensor1d(p0))]]);
    const adam = new Adam(params, options);
    // Three workers, each stepping its share of the parameters.
    const p = p0.slice();
    const shards = shardRanges(n, 3).map(([lo, hi]) => ({ lo, hi, step: 0, m: new Float32Array(hi - lo), v: new Float32Array(hi - lo) }));
    for (let step = 0; step < 3; step++) {
      // Three workers' slots, with magnitudes that make float32 rounding matter.
      const slots = rng.fillNormal(new Float32Array(3 * n), 0, 10 ** (step - 2));
      let sum = slots.slice(0, n);
      for (let w = 1; w < 3; w++) sum = sum.map((x, i) => Math.fround(x + slots[w * n + i]));
      const grads: GradientMap = new Map([['w', tf.tensor1d(sum)]]);
      adam.apply(grads);
      tf.dispose([...grads.values()]);
      for (const shard of shards) hostAdamStep(p, shard, slots, 3, options);
    }
    const state = await adam.getState();
    expect(shards.map((s) => s.step)).toEqual([3, 3, 3]);
    const joined = (k: 'm' | 'v') => shards.flatMap((s) => Array.from(s[k]));
    expect(joined('m')).toEqual(Array.from(state.m.get('w')!));
    expect(joined('v')).toEqual(Array.from(state.v.get('w')!));
    expect(Array.from(p)).toEqual(Array.from(params.get('w')!.dataSync()));
    adam.dispose();
    params.get('w')!.dispose();
  });
});
