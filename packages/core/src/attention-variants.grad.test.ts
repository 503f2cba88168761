import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { ATTENTION_VARIANTS, denseTiles, variantParts } from './attention-variants.js';
import type { LevelConfig } from './config.js';
import { disposeGradients } from './gradients.js';
import { levelParamDefs, levelParamsFromValues } from './level-params.js';
import { Rng } from './rng.js';
import { RLRLevel } from './rlr-level.js';
import { plainConstants, plainLevelLoss, randomLevelValues, relativeError } from '../test/plain-rlr.js';

/**
 * The training gradient of a level for every attention variant (the one-attention layers of
 * `single-attention-layer.ts`, and `cross+mlka`: the paper's layer with dense tiles) against
 * tf.grads of the plain level (`test/plain-rlr.ts`), whose layer spells each variant out with
 * dense masked attention. Small shapes, several tiles, two layers; no fixtures.
 */

const variants = ATTENTION_VARIANTS.filter((v) => v !== 'mlka+lca');

describe('attention variant structure', () => {
  it('holds only the parameters a variant uses', () => {
    const base: LevelConfig = { grid: [4, 4], channels: 3, d: 8, heads: 2, layers: 1, ffnHidden: 8, window: 3, alpha: 2 };
    const names = (attention?: LevelConfig['attention']) => levelParamDefs({ ...base, attention }).map((p) => p.name);
    expect(names().filter((n) => n.includes('.lca.') || n.includes('.mlka.'))).toHaveLength(16);
    expect(names('lca').some((n) => n.includes('.mlka.'))).toBe(false);
    expect(names('residual-self').filter((n) => n.startsWith('ref'))).toEqual([]);
    expect(names('residual-self').filter((n) => n.includes('.sa.'))).toHaveLength(8);
    expect(names('cross+mlka')).toEqual(names());
    expect(variantParts('residual-cross')).toMatchObject({ modules: ['lca'], windowed: false, residual: true });
  });

  it('dense tiles cover every query row once and every key', () => {
    const tiles = denseTiles(5, 3, 2);
    expect(tiles.map((t) => [t.q0, t.q1, t.k0, t.k1])).toEqual([
      [0, 6, 0, 15],
      [6, 12, 0, 15],
      [12, 15, 0, 15],
    ]);
    expect(tiles.every((t) => t.mask.every((m) => m === 0))).toBe(true);
  });
});

describe.each(TEST_BACKENDS)('attention variant gradients (%s)', (backend) => {
  it.each(variants)('%s: loss and every parameter gradient equal tf.grads of the plain level', async (attention) => {
    await useBackend(backend);
    const cfg: LevelConfig = { grid: [4, 5], channels: 5, d: 8, heads: 2, layers: 2, ffnHidden: 12, window: 3, alpha: 1.5, attention };
    const n = 20;
    const batch = 2;
    const before = tf.memory().numTensors;
    const values = randomLevelValues(levelParamDefs(cfg), 91);
    // One grid row per tile: the dense and windowed tiles both split the queries.
    const level = new RLRLevel(cfg, levelParamsFromValues(cfg, values, 'test'), 1);
    const rng = new Rng(17);
    const t = tf.tensor2d(rng.fillNormal(new Float32Array(batch * n * 5), 0.3, 1), [batch * n, 5]);
    const x = tf.tidy(() => tf.add(t, tf.mul(tf.tensor2d(rng.fillNormal(new Float32Array(batch * n * 5), 0, 1), [batch * n, 5]), 0.2))) as tf.Tensor2D;
    const { loss, grads } = level.lossAndGradients(x, t);
    const names = [...level.params.keys()];
    const c = plainConstants(cfg);
    const plain = (...ps: tf.Tensor[]) => plainLevelLoss(Object.fromEntries(names.map((k, i) => [k, ps[i]])), cfg, c, x, t);
    const { value, grads: ref } = tf.valueAndGrads(plain)(names.map((k) => level.params.get(k)!));
    expect(Math.abs(loss.dataSync()[0] - value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(value.dataSync()[0]));
    expect(grads.size).toBe(names.length);
    const scale = Math.max(...ref.map((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])));
    // Floor 1e-3 of the largest gradient: key biases have a true gradient of 0 (softmax shift).
    const worst = names.map((k, i) => [k, relativeError(grads.get(k)!, ref[i], 1e-3 * scale)] as const).filter(([, e]) => e > 5e-4);
    expect(worst).toEqual([]);
    // The reconstruction the scores use runs the same forward.
    const rec = level.reconstruct(x);
    expect(rec.shape).toEqual([batch * n, 5]);
    disposeGradients(grads);
    tf.dispose([loss, value, ...ref, x, t, c.inside, c.outside, c.pos, rec]);
    level.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
