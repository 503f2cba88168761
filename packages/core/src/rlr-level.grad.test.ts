import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import type { LevelConfig } from './config.js';
import { disposeGradients } from './gradients.js';
import { levelParamDefs, levelParamsFromValues } from './level-params.js';
import { reconstructionLoss, reconstructionLossAndGrad } from './loss.js';
import { Rng } from './rng.js';
import { RLRLevel } from './rlr-level.js';
import { plainConstants, plainLevelLoss, plainLoss, randomLevelValues, relativeError } from '../test/plain-rlr.js';

/**
 * The full training gradient of a level, `RLRLevel.lossAndGradients` (embedding, reference,
 * every layer, final norm, projection, loss), against tf.grads of the plain level written with
 * tfjs ops (`test/plain-rlr.ts`), and against central finite differences of the loss. Small
 * shapes; no fixtures, so it runs on any clone.
 */

const cfgOf = (grid: [number, number], window: number, layers: number): LevelConfig => ({
  grid,
  channels: 5,
  d: 8,
  heads: 2,
  layers,
  ffnHidden: 12,
  window,
  alpha: 2,
});

function features(rng: Rng, rows: number, c: number) {
  const t = tf.tensor2d(rng.fillNormal(new Float32Array(rows * c), 0.3, 1), [rows, c]);
  const x = tf.tidy(() => tf.add(t, tf.mul(tf.tensor2d(rng.fillNormal(new Float32Array(rows * c), 0, 1), [rows, c]), 0.2))) as tf.Tensor2D;
  return { x, t };
}

describe.each(TEST_BACKENDS)('rlr level gradients (%s)', (backend) => {
  it('reconstructionLossAndGrad equals tf.grad of the plain loss', async () => {
    await useBackend(backend);
    const rng = new Rng(61);
    const before = tf.memory().numTensors;
    const { x: rec, t } = features(rng, 12, 7);
    const got = reconstructionLossAndGrad(rec, t);
    const lossRef = reconstructionLoss(rec, t);
    const ref = tf.grad((r: tf.Tensor) => plainLoss(r, t))(rec);
    expect(Math.abs(got.loss.dataSync()[0] - lossRef.dataSync()[0])).toBeLessThan(1e-6);
    expect(relativeError(got.grad, ref)).toBeLessThan(1e-5);
    tf.dispose([rec, t, got.loss, got.grad, lossRef, ref]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [[4, 4], 3, 1, 2, Infinity, undefined],
    [[5, 6], 3, 2, 3, 2, 1],
  ] as const)('grid %j, window %i, %i layers, batch %i, %s images per pass, %s tile rows: every parameter gradient equals tf.grads', async (grid, win, layers, batch, perPass, tileRows) => {
    await useBackend(backend);
    const cfg = cfgOf([grid[0], grid[1]], win, layers);
    const n = grid[0] * grid[1];
    const before = tf.memory().numTensors;
    const values = randomLevelValues(levelParamDefs(cfg), 71 + layers);
    const level = new RLRLevel(cfg, levelParamsFromValues(cfg, values, 'test'), tileRows);
    const { x, t } = features(new Rng(7), batch * n, cfg.channels);
    const { loss, grads } = level.lossAndGradients(x, t, perPass);
    const names = [...level.params.keys()];
    const c = plainConstants(cfg);
    const plain = (...ps: tf.Tensor[]) => plainLevelLoss(Object.fromEntries(names.map((k, i) => [k, ps[i]])), cfg, c, x, t);
    const { value, grads: ref } = tf.valueAndGrads(plain)(names.map((k) => level.params.get(k)!));
    expect(Math.abs(loss.dataSync()[0] - value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(value.dataSync()[0]));
    const scale = Math.max(...ref.map((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])));
    expect(grads.size).toBe(names.length);
    // Floor 1e-3 of the largest gradient: key biases have a true gradient of 0 (softmax shift).
    const worst = names.map((k, i) => [k, relativeError(grads.get(k)!, ref[i], 1e-3 * scale)] as const).filter(([, e]) => e > 5e-4);
    expect(worst).toEqual([]);
    disposeGradients(grads);
    tf.dispose([loss, value, ...ref, x, t, c.inside, c.outside, c.pos]);
    level.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the gradient predicts the loss change along random directions (central differences)', async () => {
    await useBackend(backend);
    const cfg = cfgOf([4, 5], 3, 1);
    const values = randomLevelValues(levelParamDefs(cfg), 81);
    const { x, t } = features(new Rng(8), 2 * 20, cfg.channels);
    const level = new RLRLevel(cfg, levelParamsFromValues(cfg, values, 'test'));
    const { loss, grads } = level.lossAndGradients(x, t);
    loss.dispose();
    const lossAt = (step: number, dir: Map<string, Float32Array>) => {
      const shifted = new Map([...values].map(([k, v]) => [k, v.map((a, i) => a + step * dir.get(k)![i])]));
      const probe = new RLRLevel(cfg, levelParamsFromValues(cfg, shifted, 'probe'));
      const out = tf.tidy(() => probe.lossAndGradients(x, t).loss.dataSync()[0]);
      probe.dispose();
      return out;
    };
    const rng = new Rng(9);
    for (let trial = 0; trial < 3; trial++) {
      const dir = new Map([...values].map(([k, v]) => [k, rng.fillNormal(new Float32Array(v.length), 0, 1)]));
      let predicted = 0;
      for (const [k, g] of grads) {
        const gv = g.dataSync();
        const dv = dir.get(k)!;
        for (let i = 0; i < gv.length; i++) predicted += gv[i] * dv[i];
      }
      // float32 loss: a step of 1e-2 keeps rounding (~1e-7/1e-2) and curvature (~1e-4) small.
      const eps = 1e-2;
      const measured = (lossAt(eps, dir) - lossAt(-eps, dir)) / (2 * eps);
      expect(Math.abs(measured - predicted)).toBeLessThan(0.02 * Math.abs(predicted) + 1e-4);
    }
    disposeGradients(grads);
    tf.dispose([x, t]);
    level.dispose();
  });
});
