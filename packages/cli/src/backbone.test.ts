import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone } from '@rlr/backbones/node';
import type { FeatureExtractor } from '@rlr/core';
import { useBackend } from '@rlr/testing';
import { openRunBackbone, saveRunBackbone } from './backbone.js';
import { CliError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { Logger } from './log.js';
import type { RunManifest } from './run-dir.js';

beforeAll(() => useBackend('wasm'));

const images = () => tf.randomUniform([3, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;

function features(e: FeatureExtractor, x: tf.Tensor4D): Float32Array[] {
  const maps = e.extract(x);
  const out = maps.map((m) => m.dataSync() as Float32Array);
  tf.dispose(maps);
  return out;
}

/** The run.json fields openRunBackbone reads. */
function manifest(extra: Partial<RunManifest> = {}): RunManifest {
  return {
    version: 1,
    preset: 'demo',
    data: { format: 'mvtec', root: '/data' },
    model: { backbone: 'tf_efficientnet_b0', outIndices: [1, 2], imageSize: [64, 64], resize: 64, layers: 1, hidden: [32, 32], heads: 4, ffnRatio: 4, alpha: 2, jitterScale: 4 },
    train: { epochs: 1, batchSize: 4, lr: 1e-3, seed: 3 },
    weights: 'random',
    status: 'done',
    created: '',
    updated: '',
    epochsDone: 1,
    backend: 'wasm',
    pretrained: false,
    backboneWeights: 'random (seed 3), BatchNorm calibrated on 3 training images',
    versions: {},
    ...extra,
  };
}

const options = { offline: true, cwd: tmpdir(), log: new Logger('quiet') };

describe("a run's backbone", () => {
  it('is saved with the model when its weights are random, and rebuilt from there without the training images', async () => {
    const calibration = images();
    const trained = await createBackbone('tf_efficientnet_b0', { weights: 'random', seed: 3, outIndices: [1, 2], calibrationImages: calibration });
    const modelDir = join(await mkdtemp(join(tmpdir(), 'rlr-run-')), 'model');
    expect(await saveRunBackbone(modelDir, trained)).toBe(true);
    expect(existsSync(join(modelDir, 'backbone.safetensors'))).toBe(true);
    const opened = await openRunBackbone(modelDir, trained.toConfig(), manifest(), options);
    expect(opened.pretrained).toBe(false);
    expect(opened.weightsDescription).toMatch(/BatchNorm calibrated/);
    expect(features(opened.extractor, calibration)).toEqual(features(trained, calibration));
    opened.extractor.dispose();

    trained.dispose();
    calibration.dispose();
  });

  it('--weights random at eval: a usage error, as only training images could calibrate a new random backbone', async () => {
    const modelDir = join(await mkdtemp(join(tmpdir(), 'rlr-run-')), 'model');
    const err = await openRunBackbone(modelDir, undefined, manifest(), { ...options, weights: 'random' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.usage);
    expect((err as CliError).hint).toMatch(/drop --weights/);
  });

  it('without backbone.safetensors or calibration images: a model error saying what to do', async () => {
    const modelDir = join(await mkdtemp(join(tmpdir(), 'rlr-run-')), 'model');
    const config = { name: 'tf_efficientnet_b0', outIndices: [1, 2], smooth: true, weights: 'random', seed: 3, calibrationImageCount: 32 };
    const err = await openRunBackbone(modelDir, config, manifest(), options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.model);
    expect((err as CliError).message).toMatch(/cannot rebuild the backbone of .*model: .*calibrated on 32 images.*no backbone\.safetensors/);
    expect((err as CliError).hint).toMatch(/--weights .*retrain/);
  });
});
