/**
 * Parallel extraction (`@rlr/core/node` pool + `backboneRecipe`) gives exactly the features of
 * the extractor it copies — here a random EfficientNet whose BatchNorm statistics were calibrated
 * on images the workers never see — and the copies are released.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { FeatureBank } from '@rlr/core';
import { createWorkerPool, type WorkerPool } from '@rlr/core/node';
import { testImages } from '../../test/helpers.js';
import { createBackbone } from './index.js';
import { backboneRecipe } from './backbone-recipe.js';

describe('backboneRecipe on a worker pool (wasm, 2 workers)', () => {
  let pool: WorkerPool;

  beforeAll(async () => {
    await useBackend('wasm');
    pool = await createWorkerPool({ backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm', workers: 2 });
  });

  afterAll(async () => {
    await pool?.close();
  });

  it('extracts exactly the features of a calibrated random EfficientNet, batch split 3 + 2', async () => {
    const calibration = testImages(4, 64, 64, 9);
    const local = await createBackbone('tf_efficientnet_b0', { weights: 'random', seed: 3, outIndices: [1, 2], calibrationImages: calibration });
    const remote = await pool.createExtractor(await backboneRecipe(local));
    expect(remote.featureInfo).toEqual(local.featureInfo);
    expect(remote.toConfig()).toEqual(local.toConfig());

    const images = testImages(5, 64, 64, 2);
    const expected = local.extract(images);
    const got = await remote.extract(images);
    expect(got.map((m) => m.shape)).toEqual(expected.map((m) => m.shape));
    got.forEach((m, i) => expect(Array.from(m.data), `level ${i}`).toEqual(Array.from(expected[i].dataSync())));

    // The training-feature path: batches in, a feature bank filled in order.
    const data = (await images.data()) as Float32Array;
    const bank = new FeatureBank(expected.map((m) => ({ grid: [m.shape[1], m.shape[2]], channels: m.shape[3] })));
    const before = tf.memory().numTensors;
    await remote.extractFeatures([{ images: data.slice(0, 2 * 64 * 64 * 3), height: 64, width: 64 }, { images: data.slice(2 * 64 * 64 * 3), height: 64, width: 64 }], bank);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(bank.level(0))).toEqual(Array.from(expected[0].dataSync()));

    await remote.dispose();
    expect((await pool.memory()).map((m) => m.extractors)).toEqual([0, 0]);
    tf.dispose([calibration, images, ...expected]);
    local.dispose();
  });
});
