import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { ATTENTION_VARIANTS } from './attention-variants.js';
import type { LevelConfig } from './config.js';
import { levelParamDefs, levelParamsFromValues } from './level-params.js';
import { Rng } from './rng.js';
import { RLRLevel } from './rlr-level.js';
import { randomLevelValues } from '../test/plain-rlr.js';

/** The inference cache of the reference side (`RLRLevel.cacheReference`). */

const base: LevelConfig = { grid: [6, 6], channels: 5, d: 8, heads: 2, layers: 2, ffnHidden: 12, window: 3, alpha: 2 };

describe.each(TEST_BACKENDS)('RLRLevel reference cache (%s)', (backend) => {
  it.each(ATTENTION_VARIANTS)('%s: gives the uncached reconstruction, follows assigned parameters and holds a fixed set of tensors', async (attention) => {
    await useBackend(backend);
    const cfg: LevelConfig = { ...base, attention };
    const before = tf.memory().numTensors;
    const values = randomLevelValues(levelParamDefs(cfg), 5);
    const plain = new RLRLevel(cfg, levelParamsFromValues(cfg, values, 'test'));
    const cached = new RLRLevel(cfg, levelParamsFromValues(cfg, values, 'test'));
    cached.cacheReference = true;
    const rng = new Rng(3);
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(2 * 36 * 5)), [72, 5]);
    const same = async () => {
      const a = plain.reconstruct(x);
      const b = cached.reconstruct(x);
      const [va, vb] = [await a.data(), await b.data()];
      tf.dispose([a, b]);
      expect(Array.from(vb)).toEqual(Array.from(va));
    };
    await same();
    const afterFirst = tf.memory().numTensors;
    await same();
    expect(tf.memory().numTensors).toBe(afterFirst);
    // A changed reference-side parameter (as an optimizer step or a checkpoint load assigns it).
    for (const name of ['ref', 'layers.1.mlka.wk', 'layers.0.lca.bv', 'layers.0.lca.wk']) {
      if (!plain.params.has(name)) continue;
      const next = tf.tidy(() => tf.add(plain.params.get(name)!, 0.5));
      plain.params.get(name)!.assign(next);
      cached.params.get(name)!.assign(next);
      next.dispose();
      await same();
      expect(tf.memory().numTensors).toBe(afterFirst);
    }
    x.dispose();
    plain.dispose();
    cached.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
