import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { memoryStore } from './blob-store.js';
import type { RLRSpec } from './config.js';
import { greedyCoreset } from './coreset.js';
import { FeatureBank } from './feature-bank.js';
import { buildKnnModel, KnnModel } from './knn-model.js';
import { isKnnModel, KNN_BANK, loadKnnModel, saveKnnModel } from './knn-model-io.js';
import { loadModel, MODEL_CONFIG, saveModel } from './model-io.js';
import { deriveSeed, Rng } from './rng.js';
import { createRLR } from './rlr-model.js';
import { scoreFromTokens } from './scoring.js';

const spec: RLRSpec = {
  imageSize: [32, 32],
  levels: [
    { grid: [8, 8], channels: 6, reduction: 4 },
    { grid: [4, 4], channels: 10, reduction: 8 },
  ],
};

function features(images: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return spec.levels.map((l) => rng.fillNormal(new Float32Array(images * l.grid[0] * l.grid[1] * l.channels), 1, 1));
}

function bank(images: number, seed: number): FeatureBank {
  return FeatureBank.fromArrays(
    spec.levels.map((l) => ({ grid: l.grid, channels: l.channels })),
    features(images, seed),
  );
}

function tensors(arrays: Float32Array[], images: number): tf.Tensor4D[] {
  return arrays.map((a, i) => tf.tensor4d(a, [images, spec.levels[i].grid[0], spec.levels[i].grid[1], spec.levels[i].channels]));
}

/** min_j ‖q_i − b_j‖ in double precision. */
function bruteForce(queries: Float32Array, b: Float32Array, C: number): Float32Array {
  const out = new Float32Array(queries.length / C);
  for (let i = 0; i < out.length; i++) {
    let best = Infinity;
    for (let j = 0; j < b.length / C; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (queries[i * C + c] - b[j * C + c]) ** 2;
      best = Math.min(best, s);
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

function expectRelClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(rel * Math.max(Math.abs(want[i]), 1e-6));
}

describe('KnnModel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('keeps every training token at coreset 1, scores them 0, and scores new tokens by their nearest distance', async () => {
    const train = bank(3, 1);
    const model = await buildKnnModel(spec, train, { coreset: 1 });
    expect(model.bankSizes).toEqual([3 * 64, 3 * 16]);
    const t = tensors(train.levels.map((_, i) => train.level(i)), 3);
    const own = await model.tokenScores(t);
    expect(own.every((s) => s.every((v) => v === 0))).toBe(true);
    tf.dispose(t);
    const test = features(2, 2);
    const q = tensors(test, 2);
    const scores = await model.tokenScores(q);
    scores.forEach((s, i) => expectRelClose(s, bruteForce(test[i], model.banks[i], spec.levels[i].channels), 1e-5));
    tf.dispose(q);
    model.dispose();
  });

  it('subsamples each level with the seeded greedy coreset and scores against the subsample', async () => {
    const train = bank(4, 3);
    const model = await buildKnnModel(spec, train, { coreset: 0.25, seed: 11 });
    expect(model.bankSizes).toEqual([64, 16]);
    for (let i = 0; i < spec.levels.length; i++) {
      const C = spec.levels[i].channels;
      const chosen = await greedyCoreset(train.level(i), C, model.bankSizes[i], { seed: deriveSeed(11, i) });
      const expected = new Float32Array(chosen.length * C);
      chosen.forEach((k, j) => expected.set(train.level(i).subarray(k * C, (k + 1) * C), j * C));
      expect(Array.from(model.banks[i])).toEqual(Array.from(expected));
    }
    const test = features(2, 4);
    const q = tensors(test, 2);
    const p = await model.predict(q);
    // The same map path as RLR: the brute-force token distances through scoreFromTokens.
    const ref = scoreFromTokens(
      test.map((f, i) => ({ data: bruteForce(f, model.banks[i], spec.levels[i].channels), grid: spec.levels[i].grid })),
      2,
      spec.imageSize,
    );
    expect(p.size).toEqual([32, 32]);
    expectRelClose(p.scores, ref.scores, 1e-5);
    expectRelClose(p.maps, ref.maps, 1e-5);
    tf.dispose(q);
    model.dispose();
  });

  it('rejects a coreset fraction outside (0, 1] and features of the wrong shape', async () => {
    await expect(buildKnnModel(spec, bank(1, 1), { coreset: 0 })).rejects.toThrow(/coreset.*\(0, 1\]/);
    await expect(buildKnnModel(spec, bank(1, 1), { coreset: 1.5 })).rejects.toThrow(/coreset.*\(0, 1\]/);
    const model = await buildKnnModel(spec, bank(1, 1), { coreset: 1 });
    const wrong = [tf.zeros([1, 8, 8, 5]) as tf.Tensor4D, tf.zeros([1, 4, 4, 10]) as tf.Tensor4D];
    await expect(model.predict(wrong)).rejects.toThrow(/level 0 features have shape \[1,8,8,5\]/);
    tf.dispose(wrong);
    model.dispose();
  });
});

describe('saveKnnModel / loadKnnModel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('round-trips the banks and metadata; the loaded model gives the same scores', async () => {
    const model = await buildKnnModel(spec, bank(2, 5), { coreset: 0.5, seed: 2 });
    model.metadata = { note: 'kept' };
    const store = memoryStore('mem://knn');
    await saveKnnModel(model, store, { backbone: { name: 'x' } });
    expect([...store.blobs.keys()].sort()).toEqual([KNN_BANK, MODEL_CONFIG].sort());
    const cfg = JSON.parse(new TextDecoder().decode(await store.read(MODEL_CONFIG)));
    expect(cfg).toMatchObject({ format: 'rlr-model', kind: 'knn', config: { coreset: 0.5, seed: 2 }, levels: [{ bankSize: 64 }, { bankSize: 16 }] });
    expect(await isKnnModel(store)).toBe(true);
    const loaded = await loadKnnModel(store);
    expect(loaded).toBeInstanceOf(KnnModel);
    expect(loaded.metadata).toEqual({ note: 'kept', backbone: { name: 'x' } });
    const q = tensors(features(2, 6), 2);
    const [a, b] = [await model.predict(q), await loaded.predict(q)];
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(Array.from(b.maps)).toEqual(Array.from(a.maps));
    tf.dispose(q);
    // Each loader names the other when given the wrong kind of folder.
    await expect(loadModel(store)).rejects.toThrow(/knn.*loadKnnModel/);
    const rlr = memoryStore('mem://rlr');
    const r = createRLR(spec, { d: 16, heads: 2, layers: 1, window: 3 });
    await saveModel(r, rlr);
    r.dispose();
    await expect(loadKnnModel(rlr)).rejects.toThrow(/RLR model.*loadModel/);
    model.dispose();
    loaded.dispose();
  });

  it('refuses a bank file that changed after saving (checksum in config.json)', async () => {
    const model = await buildKnnModel(spec, bank(1, 7), { coreset: 1 });
    const store = memoryStore('mem://knn2');
    const manifest = await saveKnnModel(model, store);
    expect(manifest.checksums?.[KNN_BANK]).toMatch(/^[0-9a-f]{64}$/);
    const bytes = store.blobs.get(KNN_BANK)!;
    bytes[bytes.length - 1] ^= 0x40; // flip one bit of the last float
    await expect(loadKnnModel(store)).rejects.toThrow(/bank\.safetensors: checksum mismatch/);
    model.dispose();
  });
});
