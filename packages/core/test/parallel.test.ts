/**
 * Data-parallel training, inference and extraction on a worker pool (`@rlr/core/node`): results
 * equal the serial ones up to floating-point summation order, a resumed parallel run repeats an
 * uninterrupted one exactly, nothing leaks, workers end, and errors inside workers reach the
 * caller with the worker, the request and the cause.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { memoryStore } from '../src/blob-store.js';
import { FeatureBank } from '../src/feature-bank.js';
import { readLevelValues } from '../src/level-params.js';
import { createRLR, type RLRModel } from '../src/rlr-model.js';
import { Trainer, TrainingDivergedError, type TrainerOptions } from '../src/trainer.js';
import type { BatchReport } from '../src/training-progress.js';
import { createWorkerPool, WorkerTaskError, type WorkerPool } from '../src/node/index.js';
import { syntheticFeatures, tinyConfig as config, tinyLevels as levels, tinySpec as spec } from './synthetic-features.js';

const fixtures = new URL('./fixtures/worker-extractors.ts', import.meta.url).href;
const wasm = { backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm' } as const;

function bankOf(count: number, seed: number): FeatureBank {
  return FeatureBank.fromArrays(levels, syntheticFeatures(levels, count, new Array(count).fill(false), seed).features);
}

/** Train a fresh model; per-batch losses and the final parameters. */
async function train(bank: FeatureBank, options: Partial<TrainerOptions>) {
  const model = createRLR(spec, config);
  const batches: number[][] = [];
  const trainer = new Trainer(model, { epochs: 3, batchSize: 4, lr: 1e-3, onBatch: (r) => void batches.push(r.losses), ...options });
  await trainer.fit(bank);
  trainer.dispose();
  const params = await Promise.all(model.levels.map((l) => readLevelValues(l.params)));
  model.dispose();
  return { batches, params };
}

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('worker pool (wasm, 2 workers)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    await useBackend('wasm');
    pool = await createWorkerPool({ ...wasm, workers: 2 });
  });

  afterAll(async () => {
    await pool?.close();
  });

  it('trains like the serial trainer: losses within 1e-5 relative, parameters within 1e-3·lr per step, no leaked tensors', async () => {
    // 10 images, batch 4: batches of 4, 4 and 2 images are split 2+2, 2+2 and 1+1.
    const bank = bankOf(10, 1);
    const serial = await train(bank, {});
    const mainBefore = tf.memory().numTensors;
    const workersBefore = await pool.memory();
    const parallel = await train(bank, { pool });
    expect(tf.memory().numTensors).toBe(mainBefore);
    expect(await pool.memory()).toEqual(workersBefore);
    expect(parallel.batches).toHaveLength(9);
    parallel.batches.forEach((losses, b) =>
      losses.forEach((l, i) => expect(Math.abs(l - serial.batches[b][i]) / serial.batches[b][i], `batch ${b} level ${i}`).toBeLessThan(1e-5)),
    );
    serial.params.forEach((values, i) => {
      for (const [name, v] of values) {
        // Key biases have an exact gradient of 0; Adam turns rounding noise there into steps of ~lr.
        if (name.endsWith('.bk')) continue;
        expect(maxRelative(parallel.params[i].get(name)!, v) * Math.max(...v.map(Math.abs)), `level ${i} ${name}`).toBeLessThan(1e-3 * 1e-3 * 9);
      }
    });
  });

  it('with one worker is bit-identical to the serial trainer', async () => {
    const bank = bankOf(6, 2);
    const one = await createWorkerPool({ ...wasm, workers: 1 });
    try {
      const serial = await train(bank, { epochs: 2 });
      const parallel = await train(bank, { epochs: 2, pool: one });
      expect(parallel.batches).toEqual(serial.batches);
      expect(parallel.params[1].get('ref')).toEqual(serial.params[1].get('ref'));
    } finally {
      await one.close();
    }
  });

  it('resumes an interrupted parallel run with losses and weights identical to an uninterrupted one', async () => {
    const bank = bankOf(10, 3);
    const run = async (stopAfter: number | null) => {
      const batches: number[][] = [];
      const store = memoryStore();
      let model: RLRModel = createRLR(spec, config);
       
      let trainer: Trainer;
      const onBatch = (r: BatchReport) => {
        batches.push(r.losses);
        if (stopAfter !== null && batches.length === stopAfter) trainer.requestStop();
      };
      trainer = new Trainer(model, { epochs: 3, batchSize: 4, lr: 5e-4, store, onBatch, pool });
      let result = await trainer.fit(bank);
      if (stopAfter !== null) {
        expect(result.stopped).toBe(true);
        trainer.dispose();
        model.dispose();
        // A new process: fresh model and trainer, state only from the store.
        model = createRLR(spec, { ...config, seed: 999 });
        trainer = new Trainer(model, { epochs: 3, store, onBatch, pool });
        expect(await trainer.resume(store, { history: result.history })).toEqual({ epoch: 1, batch: 2 });
        result = await trainer.fit(bank);
      }
      const weights = await Promise.all(model.levels.map((l) => readLevelValues(l.params)));
      trainer.dispose();
      model.dispose();
      return { batches, history: result.history.map((h) => h.losses), weights };
    };
    const straight = await run(null);
    const resumed = await run(5); // 3 batches per epoch: stops inside epoch 2
    expect(resumed.batches).toEqual(straight.batches);
    expect(resumed.history).toEqual(straight.history);
    for (const name of ['ref', 'layers.0.fc1.w', 'layers.0.lca.bk']) expect(resumed.weights[0].get(name), name).toEqual(straight.weights[0].get(name));
  });

  it('stops on a NaN loss without applying the step, in the workers and in the model', async () => {
    const bank = bankOf(8, 4);
    bank.level(1)[17] = NaN;
    const model = createRLR(spec, config);
    const before = await readLevelValues(model.levels[1].params);
    const trainer = new Trainer(model, { epochs: 1, batchSize: 8, pool });
    await expect(trainer.fit(bank)).rejects.toThrow(TrainingDivergedError);
    expect(await readLevelValues(model.levels[1].params)).toEqual(before);
    expect((await pool.memory()).map((m) => m.sessions)).toEqual([0, 0]);
    trainer.dispose();
    model.dispose();
  });

  it('predicts exactly what the model predicts, from tensors or arrays, and releases its replicas', async () => {
    const model = createRLR(spec, config);
    const set = syntheticFeatures(levels, 5, [false, true, false, true, false], 5);
    const feats = set.features.map((f, i) => tf.tensor4d(f, [5, levels[i].grid[0], levels[i].grid[1], levels[i].channels]));
    const serial = await model.predict(feats, { batchSize: 2 });
    const before = tf.memory().numTensors;
    const predictor = await pool.predictor(model);
    expect((await pool.memory()).map((m) => m.models)).toEqual([1, 1]);
    const fromTensors = await predictor.predict(feats, { batchSize: 2 });
    const fromArrays = await predictor.predict(set.features);
    await predictor.close();
    expect(tf.memory().numTensors).toBe(before);
    expect((await pool.memory()).map((m) => m.models)).toEqual([0, 0]);
    for (const p of [fromTensors, fromArrays]) {
      expect(p.batch).toBe(5);
      expect(p.size).toEqual([32, 32]);
      expect(maxRelative(p.scores, serial.scores)).toBeLessThanOrEqual(1e-5);
      expect(maxRelative(p.maps, serial.maps)).toBeLessThanOrEqual(1e-5);
      expect(maxRelative(p.smoothedMaps, serial.smoothedMaps)).toBeLessThanOrEqual(1e-5);
      p.tokenScores.forEach((t, i) => expect(maxRelative(t, serial.tokenScores[i])).toBeLessThanOrEqual(1e-5));
    }
    await expect(predictor.predict(feats)).rejects.toThrow(/closed/);
    tf.dispose(feats);
    model.dispose();
  });

  it('extracts and scores images in the workers like the extractor and model in this thread', async () => {
    const { poolingExtractor } = await import('./fixtures/worker-extractors.js');
    const local = poolingExtractor();
    const remote = await pool.createExtractor({ module: fixtures, exportName: 'poolingExtractor', args: [] });
    expect(remote.featureInfo).toEqual(local.featureInfo);
    const images = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const maps = local.extract(images);
    const got = await remote.extract(images);
    got.forEach((m, i) => {
      expect(m.shape).toEqual(maps[i].shape);
      expect(Array.from(m.data)).toEqual(Array.from(maps[i].dataSync()));
    });
    const bank = new FeatureBank([{ grid: [8, 8], channels: 3 }, { grid: [4, 4], channels: 3 }]);
    const data = (await images.data()) as Float32Array;
    const n = await remote.extractFeatures([{ images: data, height: 16, width: 16 }, { images: data.slice(0, 16 * 16 * 3), height: 16, width: 16 }], bank);
    expect(n).toBe(4);
    expect(Array.from(bank.level(1).subarray(0, 3 * 48))).toEqual(Array.from(maps[1].dataSync()));
    // Extraction and scoring in one request per worker.
    const model = createRLR({ imageSize: [16, 16], levels: [{ grid: [8, 8], channels: 3 }, { grid: [4, 4], channels: 3 }] }, { d: 16, heads: 2, layers: 1, window: 3, seed: 1 });
    const serial = await model.predict(maps);
    const predictor = await pool.predictor(model);
    const scored = await predictor.scoreImages(remote, data, 16, 16);
    expect(maxRelative(scored.maps, serial.maps)).toBeLessThanOrEqual(1e-5);
    await predictor.close();
    await remote.dispose();
    expect((await pool.memory()).map((m) => m.extractors)).toEqual([0, 0]);
    tf.dispose([images, ...maps]);
    model.dispose();
  });

  it('reports an error thrown inside a worker with the worker, the request and the cause, and stays usable', async () => {
    const failing = pool.createExtractor({ module: fixtures, exportName: 'throwingExtractor', args: ['colour'] });
    await expect(failing).rejects.toThrow(WorkerTaskError);
    await expect(failing).rejects.toThrow(/^worker \d failed in "extractor\.create": bad extractor setting "colour"/);
    await expect(pool.createExtractor({ module: fixtures, exportName: 'nothing', args: [] })).rejects.toThrow(/has no exported function "nothing"/);
    expect((await pool.memory()).map((m) => m.extractors)).toEqual([0, 0]);
  });
});

describe('worker pool failures and shutdown', () => {
  it('fails to start with the backend module and the fix in the message', async () => {
    await expect(createWorkerPool({ backend: 'wasm', backendModule: 'no-such-tfjs-backend', workers: 1 })).rejects.toThrow(
      /worker 0 failed to start: cannot import the backend module "no-such-tfjs-backend"/,
    );
    await expect(createWorkerPool({ backend: 'webgpu', backendModule: '@tensorflow/tfjs-backend-cpu', workers: 1 })).rejects.toThrow(
      /backend "webgpu" is not available after importing @tensorflow\/tfjs-backend-cpu; pass the backend package/,
    );
    await expect(createWorkerPool({ ...wasm, workers: 0 })).rejects.toThrow(/workers must be 'auto' or a positive integer, got 0/);
  });

  it('turns a worker that dies into a clear error for the pending and every later request', async () => {
    const pool = await createWorkerPool({ ...wasm, workers: 2 });
    try {
      await expect(pool.createExtractor({ module: fixtures, exportName: 'exitingExtractor', args: [] })).rejects.toThrow(/^worker \d exited \(code 3\) during "extractor\.create"/);
      await expect(pool.memory()).rejects.toThrow(/WorkerPool: unusable since worker \d exited \(code 3\)/);
    } finally {
      await pool.close();
    }
    await expect(pool.memory()).rejects.toThrow(/the pool is closed/);
  });

  it('lets the process exit after close(), and even when the pool is never closed', async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const script = fileURLToPath(new URL('./fixtures/pool-exit.ts', import.meta.url));
    const runChild = (mode: string) =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', tsx, script, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`child (${mode}) still running after 60 s: ${out}`));
        }, 60_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const [closed, forgotten] = await Promise.all([runChild('close'), runChild('forget')]);
    expect(closed).toMatchObject({ code: 0 });
    expect(closed.out).toContain('trained 1 epoch(s)');
    expect(forgotten).toMatchObject({ code: 0 });
    expect(forgotten.out).toContain('trained 1 epoch(s)');
  });
});
