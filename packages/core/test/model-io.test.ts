/**
 * Model directories (config.json + weights.safetensors) through blob stores, and import of the
 * official checkpoint layout (the fixture's params.safetensors has exactly that layout).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStore } from '../src/node/file-store.js';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireShared, useBackend } from '@rlr/testing';
import { memoryStore, urlStore } from '../src/blob-store.js';
import { importOfficialCheckpoint } from '../src/checkpoint-import.js';
import { loadModel, saveModel, MODEL_CONFIG, MODEL_WEIGHTS } from '../src/model-io.js';
import { createRLR } from '../src/rlr-model.js';
import { parseSafetensors } from '../src/safetensors.js';
import { VERSION } from '../src/version.js';
import { loadRlrFixture, maxAbsDiff } from './rlr-fixture.js';

const spec = { imageSize: [32, 32] as [number, number], levels: [{ grid: [8, 8] as [number, number], channels: 12, reduction: 4 }] };
const manifest = requireShared('fixtures/rlr/manifest.json');

describe('saveModel / loadModel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('round-trips a model with its metadata, and the loaded model predicts identically', async () => {
    const model = createRLR(spec, { d: 32, heads: 4, layers: 2, window: 3, seed: 11 });
    const store = memoryStore('mem://model');
    const backbone = { name: 'tf_efficientnet_b6', outIndices: [2] };
    await saveModel(model, store, { backbone, preprocessing: { resize: 256, crop: 256 } });
    const cfg = JSON.parse(new TextDecoder().decode(await store.read(MODEL_CONFIG)));
    expect(cfg.library).toEqual({ name: '@rlr/core', version: VERSION });
    expect(cfg.backbone).toEqual(backbone);
    expect(cfg.levels[0]).toMatchObject({ grid: [8, 8], channels: 12, d: 32, heads: 4, layers: 2, window: 3, alpha: 2 });
    // Official names with a level prefix, PyTorch layouts.
    const weights = parseSafetensors(await store.read(MODEL_WEIGHTS)).tensors;
    expect(weights.get('level0.encoder.encode_layers.1.mca.in_proj_weight')?.shape).toEqual([96, 32]);
    expect(weights.get('level0.embedding.project_embedding.project.weight')?.shape).toEqual([32, 12, 1]);

    const loaded = await loadModel(store);
    expect(loaded.metadata.backbone).toEqual(backbone);
    expect(loaded.levelConfigs).toEqual(model.levelConfigs);
    const x = tf.randomNormal([3, 8, 8, 12], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [a, b] = [await model.predict([x]), await loaded.predict([x])];
    expect(b.maps).toEqual(a.maps);
    expect(b.scores).toEqual(a.scores);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('saves to and loads from a directory (Node path, through a file store)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-model-'));
    try {
      const model = createRLR(spec, { d: 32, heads: 4, layers: 1, window: 3, seed: 2 });
      await saveModel(model, fileStore(dir), { preprocessing: { resize: 36, crop: 32 } });
      expect((await readdir(dir)).sort()).toEqual(['config.json', 'weights.safetensors']);
      const loaded = await loadModel(fileStore(dir));
      expect(loaded.metadata.preprocessing).toEqual({ resize: 36, crop: 32 });
      const x = tf.randomNormal([1, 8, 8, 12], 0, 1, 'float32', 9) as tf.Tensor4D;
      expect((await loaded.predict([x])).scores).toEqual((await model.predict([x])).scores);
      x.dispose();
      model.dispose();
      loaded.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads from a URL store (browser path)', async () => {
    const model = createRLR(spec, { d: 32, heads: 4, layers: 1, window: 3 });
    const files = memoryStore();
    await saveModel(model, files);
    const fakeFetch = (async (input: string | URL | Request) => {
      const name = String(input).replace('https://models.example/rlr/', '');
      return files.blobs.has(name) ? new Response(files.blobs.get(name)!.slice().buffer) : new Response('missing', { status: 404, statusText: 'Not Found' });
    }) as typeof fetch;
    const loaded = await loadModel(urlStore('https://models.example/rlr', fakeFetch));
    expect(loaded.levelConfigs).toEqual(model.levelConfigs);
    await expect(loadModel(urlStore('https://models.example/none', fakeFetch))).rejects.toThrow(/config\.json/);
    model.dispose();
    loaded.dispose();
  });

  it('refuses a directory that is not a model, naming the file', async () => {
    const store = memoryStore('mem://x');
    await store.write(MODEL_CONFIG, new TextEncoder().encode('{"format":"something-else"}'));
    await expect(loadModel(store)).rejects.toThrow(/mem:\/\/x\/config\.json.*"rlr-model"/);
  });

  it('keeps the library version equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});

describe.skipIf(!manifest)('importOfficialCheckpoint', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('builds the fixture model from its official tensors and reproduces the reference reconstruction (1e-4 x max)', () => {
    const fx = loadRlrFixture(manifest!);
    const model = importOfficialCheckpoint(fx.paramsBytes, { imageSize: 32, heads: [4, 8], window: [3, 5] }, 'params.safetensors');
    expect(model.levelConfigs.map((l) => [l.d, l.layers, l.ffnHidden, l.grid[0]])).toEqual([
      [32, 2, 128, 8],
      [64, 2, 256, 16],
    ]);
    const inputs = fx.manifest.levels.map((_, i) => {
      const t = fx.tensors.get(`level${i}.input`)!;
      return tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]);
    });
    const recs = model.reconstruct(inputs);
    recs.forEach((r, i) => {
      const { diff, scale } = maxAbsDiff(r.dataSync(), fx.tensors.get(`level${i}.reconstruction_eval`)!.data);
      expect(diff).toBeLessThanOrEqual(1e-4 * scale);
    });
    tf.dispose([...inputs, ...recs]);
    model.dispose();
  });

  it('names the missing tensor when the file is not an RLR checkpoint', async () => {
    const { serializeSafetensors } = await import('../src/safetensors.js');
    const bytes = serializeSafetensors({ 'level0.something': { shape: [1], data: new Float32Array(1) } });
    expect(() => importOfficialCheckpoint(bytes, {}, 'x.safetensors')).toThrow(/x\.safetensors: tensor "level0\.projection\.weight" is missing/);
  });
});
