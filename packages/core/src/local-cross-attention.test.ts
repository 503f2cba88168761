import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { requireShared, TEST_BACKENDS, useBackend } from '@rlr/testing';
import { lcaTiles } from './local-cross-attention.js';
import { windowMembership, MASKED } from './window-mask.js';
import { presets, resolveLevels } from './config.js';
import { fromOfficial, levelParamsFromValues, toOfficial } from './level-params.js';
import { RLRLevel } from './rlr-level.js';
import { disposeGradients } from './gradients.js';
import { loadRlrFixture, maxAbsDiff } from '../test/rlr-fixture.js';

describe('lcaTiles', () => {
  it.each([
    [8, 8, 3, 1],
    [8, 8, 3, 3],
    [16, 16, 5, 4],
    [7, 12, 5, 2],
    [32, 32, 7, 4],
  ])('covers every query once and reproduces the window mask (grid %ix%i, window %i, %i rows per tile)', (h, w, win, rows) => {
    const n = h * w;
    const member = windowMembership(h, w, win);
    const seen = new Uint8Array(n);
    let wrong = 0;
    for (const t of lcaTiles(h, w, win, rows)) {
      const k = t.k1 - t.k0;
      for (let qi = t.q0; qi < t.q1; qi++) {
        seen[qi]++;
        // Inside the tile's key range the mask is the window; outside it every key is out of the window.
        for (let kj = 0; kj < n; kj++) {
          const inside = member[qi * n + kj] === 1;
          if (kj < t.k0 || kj >= t.k1) wrong += inside ? 1 : 0;
          else wrong += t.mask[(qi - t.q0) * k + (kj - t.k0)] === (inside ? 0 : MASKED) ? 0 : 1;
        }
      }
    }
    expect(wrong).toBe(0);
    expect([...seen].every((c) => c === 1)).toBe(true);
  });
});

const manifest = requireShared('fixtures/rlr/manifest.json');

describe.skipIf(!manifest)('tiled local cross-attention equals the reference (fixtures/rlr)', () => {
  const fx = manifest ? loadRlrFixture(manifest) : undefined;
  for (const backend of TEST_BACKENDS) {
    it(`${backend}: every tile height gives the reference reconstruction (1e-4 x max) and gradients (1e-3 x max)`, async () => {
      await useBackend(backend);
      const config = { ...presets.paper, ...fx!.config };
      const levels = resolveLevels(fx!.spec, config);
      for (let i = 0; i < levels.length; i++) {
        const cfg = levels[i];
        const t = (name: string) => fx!.tensors.get(`level${i}.${name}`)!;
        for (const tileRows of backend === 'cpu' ? [3] : [1, 3]) {
          const params = levelParamsFromValues(cfg, fromOfficial(cfg, fx!.params[i], 'fixture'), 'fixture');
          const level = new RLRLevel(cfg, params, tileRows);
          const x = tf.tensor4d(t('input').data as Float32Array, t('input').shape as [number, number, number, number]);
          const xj = tf.tensor4d(t('jittered').data as Float32Array, t('jittered').shape as [number, number, number, number]);
          const rec = level.reconstruct(x);
          const r = maxAbsDiff(rec.dataSync(), t('reconstruction_eval').data);
          expect(r.diff, `level ${i}, ${tileRows} rows per tile`).toBeLessThanOrEqual(1e-4 * r.scale);
          const { loss, grads } = level.lossAndGradients(xj, x);
          const values = new Map<string, Float32Array>();
          for (const [name, g] of grads) values.set(name, g.dataSync() as Float32Array);
          for (const [name, got] of toOfficial(cfg, values)) {
            const g = maxAbsDiff(got.data, fx!.grads[i].get(name)!.data);
            expect(g.diff, `gradient of level${i}.${name} with ${tileRows} rows per tile`).toBeLessThanOrEqual(1e-3 * g.scale);
          }
          disposeGradients(grads);
          tf.dispose([x, xj, rec, loss]);
          level.dispose();
        }
      }
    });
  }
});
