/**
 * The trainer on synthetic features with planted anomalies (until real generated datasets are
 * wired in by the CLI): the loss falls, defects score above normals, memory stays flat, and a
 * run interrupted and resumed reproduces the uninterrupted run's losses exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { memoryStore } from '../src/blob-store.js';
import { FeatureBank } from '../src/feature-bank.js';
import { FeatureCache } from '../src/feature-cache.js';
import { createRLR } from '../src/rlr-model.js';
import { Trainer, TrainingDivergedError, type TrainerOptions } from '../src/trainer.js';
import type { BatchReport } from '../src/training-progress.js';
import { hasTrainerCheckpoint } from '../src/trainer-checkpoint.js';
import { auroc, syntheticFeatures, tinyConfig as config, tinyLevels as levels, tinySpec as spec } from './synthetic-features.js';
import { readLevelValues } from '../src/level-params.js';
import { mergeLevels } from '../src/model-io.js';


function bankOf(count: number, anomalous: boolean[], seed: number): FeatureBank {
  const set = syntheticFeatures(levels, count, anomalous, seed);
  return FeatureBank.fromArrays(levels, set.features);
}

describe('Trainer (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('drives the loss down, scores planted defects above normals and keeps tensor count flat', async () => {
    const train = bankOf(24, new Array(24).fill(false), 1);
    const testFlags = [...new Array(8).fill(false), ...new Array(8).fill(true)];
    const test = syntheticFeatures(levels, 16, testFlags, 2);
    const model = createRLR(spec, config);
    const counts: number[] = [];
    const trainer = new Trainer(model, {
      epochs: 25,
      lr: 1e-3,
      batchSize: 4,
      onEpoch: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    const result = await trainer.fit(train);
    expect(result.epochsCompleted).toBe(25);
    const first = result.history[0].loss;
    const last = result.history[result.history.length - 1].loss;
    expect(last).toBeLessThan(0.5 * first);
    // Every epoch ends with exactly the same live tensors as the first.
    expect(new Set(counts).size).toBe(1);
    const feats = test.features.map((f, i) => tf.tensor4d(f, [16, levels[i].grid[0], levels[i].grid[1], levels[i].channels]));
    const before = tf.memory().numTensors;
    const pred = await model.predict(feats, { batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(feats);
    const auc = auroc(pred.scores, test.labels);
    console.info(`synthetic training: loss ${first.toFixed(4)} -> ${last.toFixed(4)}, image AUROC ${auc.toFixed(3)}`);
    expect(auc).toBeGreaterThanOrEqual(0.9);
    trainer.dispose();
    model.dispose();
  });

  it('resumes after an interrupt with losses identical to an uninterrupted run', async () => {
    const train = bankOf(10, new Array(10).fill(false), 3);
    const run = async (stopAfter: number | null) => {
      const batches: number[][] = [];
      const store = memoryStore();
      let model = createRLR(spec, config);
       
      let trainer: Trainer;
      const onBatch = (r: BatchReport) => {
        batches.push(r.losses);
        if (stopAfter !== null && batches.length === stopAfter) trainer.requestStop();
      };
      trainer = new Trainer(model, { epochs: 3, batchSize: 4, lr: 5e-4, store, onBatch });
      let result = await trainer.fit(train);
      if (stopAfter !== null) {
        expect(result.stopped).toBe(true);
        expect(await hasTrainerCheckpoint(store)).toBe(true);
        // A new process: fresh model and trainer, state only from the store.
        trainer.dispose();
        model.dispose();
        model = createRLR(spec, { ...config, seed: 999 }); // different init: resume must overwrite it
        trainer = new Trainer(model, { epochs: 3, batchSize: 1, lr: 1, store, onBatch, seed: 1 });
        const at = await trainer.resume(store, { history: result.history });
        expect(at).toEqual({ epoch: 1, batch: 2 });
        result = await trainer.fit(train);
      }
      const weights = await readLevelValues(model.levels[1].params);
      trainer.dispose();
      model.dispose();
      return { batches, history: result.history.map((h) => h.losses), weights };
    };
    const straight = await run(null);
    const resumed = await run(5); // 3 batches per epoch: stops inside epoch 2
    expect(resumed.batches).toEqual(straight.batches);
    expect(resumed.history).toEqual(straight.history);
    expect(resumed.weights.get('ref')).toEqual(straight.weights.get('ref'));
  });

  it('gives the same parameters with joint steps, per-level steps, separate per-level trainers, and chunked passes', async () => {
    const train = bankOf(8, new Array(8).fill(false), 7);
    const runWith = async (options: Partial<TrainerOptions>[]) => {
      const model = createRLR(spec, config);
      for (const o of options) {
        const trainer = new Trainer(model, { epochs: 2, batchSize: 4, lr: 1e-3, ...o });
        await trainer.fit(train);
        trainer.dispose();
      }
      const values = await Promise.all(model.levels.map((l) => readLevelValues(l.params)));
      model.dispose();
      return values;
    };
    const perLevel = await runWith([{ stepMode: 'per-level' }]);
    const joint = await runWith([{ stepMode: 'joint' }]);
    const separate = await runWith([{ levels: [1] }, { levels: [0] }]);
    // As two workers would: each trains one level of its own copy, then the copies are merged.
    const worker = async (level: number) => {
      const m = createRLR(spec, config);
      const t = new Trainer(m, { epochs: 2, batchSize: 4, lr: 1e-3, levels: [level] });
      await t.fit(train);
      t.dispose();
      return m;
    };
    const [w0, w1] = [await worker(0), await worker(1)];
    mergeLevels(w0, w1, [1]);
    const merged = await Promise.all(w0.levels.map((l) => readLevelValues(l.params)));
    w0.dispose();
    w1.dispose();
    const chunked = await runWith([{ imagesPerPass: 3 }]);
    for (let i = 0; i < perLevel.length; i++) {
      for (const [name, v] of perLevel[i]) {
        // Identical operations in a different order: bit-identical.
        expect(joint[i].get(name), `joint ${name}`).toEqual(v);
        expect(separate[i].get(name), `separate ${name}`).toEqual(v);
        expect(merged[i].get(name), `merged ${name}`).toEqual(v);
        // Chunks of 3 + 1 images sum the same terms in another order: equal to rounding. After
        // two epochs of Adam (updates of ~lr whatever the gradient size) allow 1e-3 · lr·steps.
        // Key biases are exempt: their exact gradient is 0 (softmax ignores a per-query constant),
        // so Adam amplifies whatever rounding noise each order produces into steps of up to lr.
        if (name.endsWith('.bk')) continue;
        const c = chunked[i].get(name)!;
        let diff = 0;
        for (let j = 0; j < v.length; j++) diff = Math.max(diff, Math.abs(c[j] - v[j]));
        expect(diff, `chunked ${name}`).toBeLessThan(1e-3 * 1e-3 * 4);
      }
    }
  });

  it('checkpoints every N epochs keeping the last two tensor blobs, and stops on an abort signal', async () => {
    const train = bankOf(8, new Array(8).fill(false), 8);
    const store = memoryStore();
    const model = createRLR(spec, config);
    const controller = new AbortController();
    const epochs: { epoch: number; checkpointed: boolean }[] = [];
    const trainer = new Trainer(model, {
      epochs: 5,
      batchSize: 4,
      checkpointEvery: 2,
      store,
      signal: controller.signal,
      onEpoch: (r) => {
        epochs.push({ epoch: r.epoch, checkpointed: r.checkpointed });
      },
      onBatch: (r) => {
        expect(r.levels).toEqual([0, 1]);
        expect(r.losses).toHaveLength(2);
        expect(r.imagesPerSecond).toBeGreaterThan(0);
        if (r.epoch === 3 && r.batch === 1) controller.abort();
      },
    });
    const result = await trainer.fit(train);
    expect(result).toMatchObject({ stopped: true, epochsCompleted: 2 });
    expect(epochs).toEqual([
      { epoch: 1, checkpointed: false },
      { epoch: 2, checkpointed: true },
    ]);
    const index = JSON.parse(new TextDecoder().decode(await store.read('checkpoint.json')));
    expect([index.epoch, index.batch]).toEqual([2, 1]);
    // The newest tensor blob and the one before it (the fallback); nothing older.
    expect(index.previous.tensors).toBe('checkpoint-e0002-b000000.safetensors');
    expect([...store.blobs.keys()].filter((k) => k.endsWith('.safetensors')).sort()).toEqual([index.previous.tensors, index.tensors]);
    trainer.dispose();
    model.dispose();
  });

  it('stops with a clear error on a NaN loss, applying no update and keeping the last checkpoint', async () => {
    const good = bankOf(8, new Array(8).fill(false), 4);
    const store = memoryStore();
    const model = createRLR(spec, config);
    const trainer = new Trainer(model, { epochs: 1, batchSize: 4, store });
    await trainer.fit(good);
    const checkpointBefore = new TextDecoder().decode(await store.read('checkpoint.json'));
    const bad = bankOf(8, new Array(8).fill(false), 5);
    bad.level(1)[17] = NaN;
    const weightsBefore = await readLevelValues(model.levels[1].params);
    const again = new Trainer(model, { epochs: 1, batchSize: 8, store });
    await expect(again.fit(bad)).rejects.toThrow(TrainingDivergedError);
    await expect(again.fit(bad)).rejects.toThrow(/level 1 loss is NaN at epoch 1, batch 1/);
    expect(await readLevelValues(model.levels[1].params)).toEqual(weightsBefore);
    expect(new TextDecoder().decode(await store.read('checkpoint.json'))).toBe(checkpointBefore);
    again.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('trains from a float32 disk cache exactly as from memory, and from float16 closely', async () => {
    const set = syntheticFeatures(levels, 6, new Array(6).fill(false), 6);
    const bank = FeatureBank.fromArrays(levels, set.features);
    const losses = async (source: FeatureBank | FeatureCache) => {
      const model = createRLR(spec, config);
      const trainer = new Trainer(model, { epochs: 2, batchSize: 4 });
      const r = await trainer.fit(source);
      trainer.dispose();
      model.dispose();
      return r.history.map((h) => h.loss);
    };
    const caches: Record<string, FeatureCache> = {};
    for (const dtype of ['float32', 'float16'] as const) {
      const writer = FeatureCache.create(memoryStore(), levels, { dtype, shardSize: 4, meta: { backbone: 'synthetic' } });
      await writer.append(set.features.map((f) => f.subarray(0, f.length / 2)));
      await writer.append(set.features.map((f) => f.subarray(f.length / 2)));
      caches[dtype] = await writer.finish();
      expect(caches[dtype].size).toBe(6);
    }
    const fromBank = await losses(bank);
    expect(await losses(caches.float32)).toEqual(fromBank);
    const f16 = await losses(caches.float16);
    f16.forEach((l, i) => expect(Math.abs(l - fromBank[i])).toBeLessThan(1e-3 * fromBank[i]));
  });
});
