/**
 * Every attention variant is a real model: it trains on generated features (the loss falls),
 * saves and loads with the variant recorded (the loaded model scores identically), and trains
 * on the worker pool exactly as in the main thread.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { ATTENTION_VARIANTS, type AttentionVariant } from '../src/attention-variants.js';
import { memoryStore } from '../src/blob-store.js';
import type { RLRConfig } from '../src/config.js';
import { FeatureBank } from '../src/feature-bank.js';
import { loadModel, MODEL_CONFIG, saveModel } from '../src/model-io.js';
import { parseSafetensors } from '../src/safetensors.js';
import { createRLR } from '../src/rlr-model.js';
import { Trainer, type TrainerOptions } from '../src/trainer.js';
import { createWorkerPool, type WorkerPool } from '../src/node/index.js';
import { syntheticFeatures, tinyConfig, tinyLevels as levels, tinySpec as spec } from './synthetic-features.js';

const bankOf = (count: number, seed: number) => FeatureBank.fromArrays(levels, syntheticFeatures(levels, count, new Array(count).fill(false), seed).features);

function featureTensors(count: number, seed: number, anomalous: boolean[]): tf.Tensor4D[] {
  const set = syntheticFeatures(levels, count, anomalous, seed);
  return set.features.map((f, i) => tf.tensor4d(f, [count, levels[i].grid[0], levels[i].grid[1], levels[i].channels]));
}

async function train(attention: RLRConfig['attention'], options: Partial<TrainerOptions>) {
  const model = createRLR(spec, { ...tinyConfig, attention });
  const epochs: number[] = [];
  const batches: number[][] = [];
  const trainer = new Trainer(model, {
    epochs: 6,
    batchSize: 4,
    lr: 2e-3,
    onEpoch: (r) => void epochs.push(r.loss),
    onBatch: (r) => void batches.push(r.losses),
    ...options,
  });
  await trainer.fit(bankOf(8, 1));
  trainer.dispose();
  return { model, epochs, batches };
}

describe('attention variants train, save and load (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const cases: [string, AttentionVariant | AttentionVariant[]][] = [
    ...ATTENTION_VARIANTS.map((v) => [v, v] as [string, AttentionVariant]),
    ['per level lca, residual-self', ['lca', 'residual-self']],
  ];

  it.each(cases)('%s: the loss falls; save → load rebuilds the same model and scores', async (_, attention) => {
    const before = tf.memory().numTensors;
    const { model, epochs } = await train(attention, {});
    expect(epochs).toHaveLength(6);
    expect(epochs.every(Number.isFinite)).toBe(true);
    expect(epochs[5]).toBeLessThan(0.8 * epochs[0]);

    const store = memoryStore('mem://variant');
    await saveModel(model, store);
    const manifest = JSON.parse(new TextDecoder().decode(await store.read(MODEL_CONFIG))) as { config: RLRConfig; levels: { attention?: string }[] };
    expect(manifest.config.attention).toEqual(attention);
    const expected = Array.isArray(attention) ? attention : [attention, attention];
    expect(manifest.levels.map((l) => l.attention ?? 'mlka+lca')).toEqual(expected);
    const weights = parseSafetensors(await store.read('weights.safetensors')).tensors;
    expected.forEach((v, i) => {
      expect(weights.has(`level${i}.ref_mca`), `level ${i} reference`).toBe(v !== 'residual-self');
      expect(weights.has(`level${i}.encoder.encode_layers.0.nsa.in_proj_weight`), `level ${i} MLKA`).toBe(v.includes('mlka'));
    });

    const loaded = await loadModel(store);
    expect(loaded.levelConfigs).toEqual(model.levelConfigs);
    const x = featureTensors(3, 9, [false, true, true]);
    const [a, b] = [await model.predict(x), await loaded.predict(x)];
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(b.maps).toEqual(a.maps);
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an unknown variant, naming the setting and the choices', () => {
    expect(() => createRLR(spec, { ...tinyConfig, attention: 'mlka' as AttentionVariant })).toThrow(/attention "mlka" is not one of mlka\+lca, cross\+mlka/);
  });
});

describe('attention variants on the worker pool (wasm, 2 workers)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    await useBackend('wasm');
    pool = await createWorkerPool({ backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm', workers: 2 });
  });

  afterAll(async () => {
    await pool?.close();
  });

  it.each([['residual-self', 'cross'] as AttentionVariant[], ['lca', 'residual-cross'] as AttentionVariant[]])('%s / %s per level: parallel losses and scores equal the serial ones', async (...attention) => {
    const serial = await train(attention, { epochs: 2 });
    const parallel = await train(attention, { epochs: 2, pool });
    expect(parallel.batches).toHaveLength(4);
    parallel.batches.forEach((losses, b) =>
      losses.forEach((l, i) => expect(Math.abs(l - serial.batches[b][i]) / serial.batches[b][i], `batch ${b} level ${i}`).toBeLessThan(1e-5)),
    );
    // The workers' replicas rebuild the variant from the level configs.
    const x = featureTensors(4, 5, [false, true, false, true]);
    const own = await parallel.model.predict(x);
    const predictor = await pool.predictor(parallel.model);
    const onPool = await predictor.predict(x);
    await predictor.close();
    onPool.scores.forEach((v, i) => expect(Math.abs(v - own.scores[i]) / Math.abs(own.scores[i]), `image ${i}`).toBeLessThanOrEqual(1e-5));
    tf.dispose(x);
    serial.model.dispose();
    parallel.model.dispose();
  });
});
