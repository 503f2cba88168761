/**
 * Integrity of what @rlr/core persists and reports: model weights carry a sha256 in config.json
 * and are checked for NaN at load; a non-finite score is an error, never a score; checkpoints are
 * checksummed and a damaged newest one falls back to the previous one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { memoryStore } from '../src/blob-store.js';
import { FeatureBank } from '../src/feature-bank.js';
import { loadModel, saveModel, MODEL_CONFIG, MODEL_WEIGHTS } from '../src/model-io.js';
import { createRLR } from '../src/rlr-model.js';
import { parseSafetensors, serializeSafetensors } from '../src/safetensors.js';
import { sha256Hex } from '../src/sha256.js';
import { Trainer } from '../src/trainer.js';
import { CHECKPOINT_INDEX, readTrainerCheckpoint } from '../src/trainer-checkpoint.js';
import { readLevelValues } from '../src/level-params.js';
import { syntheticFeatures, tinyConfig as config, tinyLevels as levels, tinySpec as spec } from './synthetic-features.js';

const json = async (store: ReturnType<typeof memoryStore>, name: string) => JSON.parse(new TextDecoder().decode(await store.read(name)));

/** `bytes` with the float at `index` of tensor `name` set to NaN (header untouched). */
function poisonTensor(bytes: Uint8Array, name: string, index = 0): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + headerLen)));
  const [start] = header[name].data_offsets as [number, number];
  view.setFloat32(8 + headerLen + start + index * 4, NaN, true);
  return out;
}

describe('model and checkpoint integrity (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('saveModel records the sha256 of weights.safetensors; loadModel refuses changed bytes and NaN weights, naming the file', async () => {
    const model = createRLR(spec, config);
    const store = memoryStore('mem://model');
    const manifest = await saveModel(model, store);
    const weights = await store.read(MODEL_WEIGHTS);
    expect(manifest.checksums).toEqual({ [MODEL_WEIGHTS]: await sha256Hex(weights) });
    expect((await json(store, MODEL_CONFIG)).checksums[MODEL_WEIGHTS]).toBe(await sha256Hex(weights));
    const name = 'level1.encoder.encode_layers.0.mca.in_proj_weight';
    expect(parseSafetensors(weights).tensors.has(name)).toBe(true);
    const poisoned = poisonTensor(weights, name, 7);

    // The checksum catches it first.
    await store.write(MODEL_WEIGHTS, poisoned);
    await expect(loadModel(store)).rejects.toThrow(/mem:\/\/model\/weights\.safetensors: checksum mismatch: .*Restore weights\.safetensors and config\.json/);
    // A manifest without checksums (older models): the finiteness check still refuses it.
    const cfg = await json(store, MODEL_CONFIG);
    delete cfg.checksums;
    await store.write(MODEL_CONFIG, new TextEncoder().encode(JSON.stringify(cfg)));
    await expect(loadModel(store)).rejects.toThrow(
      new RegExp(`mem://model/weights\\.safetensors: tensor "${name.replace(/\./g, '\\.')}" holds 1 non-finite value \\(NaN at index 7\\)`),
    );
    // The untouched bytes load (with or without the checksum).
    await store.write(MODEL_WEIGHTS, weights);
    (await loadModel(store)).dispose();
    model.dispose();
  });

  it('a non-finite score is an error naming the image, never a score', async () => {
    const model = createRLR(spec, config);
    const w = model.levels[0].params.get('ref')!;
    w.assign(tf.tidy(() => tf.where(tf.equal(tf.reshape(tf.range(0, w.size), w.shape), 3), tf.fill(w.shape, NaN), w)));
    const feats = levels.map((l) => tf.randomNormal([2, l.grid[0], l.grid[1], l.channels], 0, 1, 'float32', 1) as tf.Tensor4D);
    await expect(model.predict(feats)).rejects.toThrow(/non-finite anomaly score: image 0 of the batch has \d+ of 64 token scores at level 0 equal to NaN/);
    // The guard stops saving such a model, too.
    await expect(saveModel(model, memoryStore('mem://nan'))).rejects.toThrow(/saveModel\(mem:\/\/nan\): tensor "level0\.ref_mca" holds 1 non-finite value/);
    tf.dispose(feats);
    model.dispose();
  });

  it('checkpoints record a sha256 per tensor blob, keep the last two, and fall back to the older one with a warning', async () => {
    const set = syntheticFeatures(levels, 8, new Array(8).fill(false), 4);
    const bank = FeatureBank.fromArrays(levels, set.features);
    const store = memoryStore('mem://ckpt');
    const model = createRLR(spec, config);
    const trainer = new Trainer(model, { epochs: 3, batchSize: 4, lr: 5e-4, store, checkpointEvery: 1 });
    await trainer.fit(bank);
    trainer.dispose();
    const index = await json(store, CHECKPOINT_INDEX);
    const blobs = [...store.blobs.keys()].filter((k) => k.endsWith('.safetensors')).sort();
    // Exactly the newest and the one before it are kept.
    expect(blobs).toEqual([index.previous.tensors, index.tensors].sort());
    expect(index.previous.epoch).toBeLessThan(index.epoch);
    expect(index.sha256).toBe(await sha256Hex(await store.read(index.tensors)));
    expect(index.previous.sha256).toBe(await sha256Hex(await store.read(index.previous.tensors)));
    const newest = await readLevelValues(model.levels[0].params);

    // 1,000 bytes flipped inside the newest blob's tensor data.
    const bytes = (await store.read(index.tensors)).slice();
    for (let i = bytes.length - 1500; i < bytes.length - 500; i++) bytes[i] ^= 0xff;
    store.blobs.set(index.tensors, bytes);
    const warnings: string[] = [];
    const fresh = createRLR(spec, { ...config, seed: 99 });
    const state = await readTrainerCheckpoint(store, fresh, { onWarning: (m) => warnings.push(m) });
    expect(state.epoch).toBe(index.previous.epoch);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`mem://ckpt/${index.tensors} is damaged (checksum mismatch`);
    expect(warnings[0]).toContain(`resuming from the previous checkpoint ${index.previous.tensors}`);
    // The fallback's weights, not the damaged newest ones.
    expect((await readLevelValues(fresh.levels[0].params)).get('ref')).not.toEqual(newest.get('ref'));

    // Both damaged: an error naming both files.
    const older = (await store.read(index.previous.tensors)).slice();
    older[older.length - 10] ^= 0xff;
    store.blobs.set(index.previous.tensors, older);
    await expect(readTrainerCheckpoint(store, fresh)).rejects.toThrow(
      new RegExp(`${index.tensors}: checksum mismatch[^]*previous checkpoint is damaged too: mem://ckpt/${index.previous.tensors}: checksum mismatch`),
    );
    fresh.dispose();
    model.dispose();
  });

  it('a checkpoint written twice at the same position keeps a valid fallback', async () => {
    const store = memoryStore('mem://same');
    const model = createRLR(spec, config);
    const set = syntheticFeatures(levels, 4, new Array(4).fill(false), 5);
    const bank = FeatureBank.fromArrays(levels, set.features);
    const trainer = new Trainer(model, { epochs: 2, batchSize: 4, lr: 5e-4, store, checkpointEvery: 1 });
    await trainer.fit(bank);
    // Rewrite the last position (what a stop right after a checkpoint does).
    const before = await json(store, CHECKPOINT_INDEX);
    await (trainer as unknown as { checkpoint(): Promise<boolean> }).checkpoint();
    const after = await json(store, CHECKPOINT_INDEX);
    expect(after.tensors).toBe(before.tensors);
    expect(after.previous.tensors).toBe(before.previous.tensors);
    expect(after.previous.sha256).toBe(await sha256Hex(await store.read(after.previous.tensors)));
    trainer.dispose();
    model.dispose();
    void serializeSafetensors;
  });
});
