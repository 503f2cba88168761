/**
 * Saving a backbone with a model and rebuilding it from the model directory: calibrated random
 * EfficientNet weights and a tfjs model from a local path come back giving identical features;
 * config-only rebuilds and the failures say what is missing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRLR, memoryStore, parseSafetensors, saveModel, serializeSafetensors, type FeatureExtractor } from '@rlr/core';
import { requireShared, useBackend } from '@rlr/testing';
import {
  BACKBONE_WEIGHTS,
  exportBackboneWeights,
  isRebuildableFromConfig,
  loadBackboneFromStore,
  saveBackboneWeights,
} from './backbone-persistence.js';
import { calibrateBatchNorm } from './efficientnet/bn-calibration.js';
import { EfficientNetExtractor } from './efficientnet/efficientnet.js';
import { efficientNetParamShapes } from './efficientnet/efficientnet-params.js';
import { randomEfficientNetWeights } from './efficientnet/efficientnet-random-init.js';
import { efficientNetArchitecture } from './efficientnet/efficientnet-variants.js';
import { createBackbone as createNodeBackbone, loadBackboneFromStore as loadNodeBackbone } from './node/index.js';
import { createBackbone, type SourceReader } from './registry.js';
import { testImages } from '../test/helpers.js';

beforeAll(() => useBackend('wasm'));

const B0 = 'tf_efficientnet_b0';

/** Every level's features of `images`, as host arrays. */
function features(extractor: FeatureExtractor, images: tf.Tensor4D): Float32Array[] {
  const maps = extractor.extract(images);
  const out = maps.map((m) => m.dataSync() as Float32Array);
  tf.dispose(maps);
  return out;
}

/** A calibrated random B0 at levels 1, 2 (blocks 0..4). */
async function calibratedB0(images: tf.Tensor4D): Promise<FeatureExtractor> {
  return createBackbone(B0, { weights: 'random', seed: 4, outIndices: [1, 2], calibrationImages: images });
}

describe('exportBackboneWeights (EfficientNet)', () => {
  it('writes a timm checkpoint of the blocks it runs, with the calibrated BatchNorm statistics', async () => {
    const images = testImages(3, 64, 64);
    const net = await calibratedB0(images);
    const file = parseSafetensors(await exportBackboneWeights(net));
    const arch = efficientNetArchitecture(B0);
    const blockCount = arch.features[2].blockCount;
    const expected = efficientNetParamShapes(arch, { blockCount, head: false });
    expect([...file.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, shape] of expected) expect(file.tensors.get(name)!.shape, name).toEqual(shape);
    expect(file.metadata).toMatchObject({ format: 'rlr-backbone', backbone: B0, family: 'efficientnet' });
    expect(JSON.parse(file.metadata.config)).toEqual(net.toConfig());

    const calibrated = calibrateBatchNorm(B0, randomEfficientNetWeights(B0, { seed: 4, blockCount, head: false }), images, { blockCount }).weights;
    const lastVar = [...expected.keys()].filter((k) => k.endsWith('.running_var')).at(-1)!; // the deepest block's
    for (const name of ['bn1.running_mean', lastVar]) {
      expect(file.tensors.get(name)!.data).toEqual(calibrated.get(name)!.data);
    }
    expect(file.tensors.get('bn1.running_var')!.data.some((v) => v !== 1)).toBe(true); // not the init's 1
    tf.dispose(images);
    net.dispose();
  });

  it('refuses extractors it did not make', async () => {
    const foreign = { name: 'mine', outIndices: [0], featureInfo: { channels: [1], reductions: [1] }, extract: () => [], toConfig: () => ({}), dispose() {} };
    await expect(exportBackboneWeights(foreign)).rejects.toThrow(/"mine" is not an extractor made by @rlr\/backbones/);
  });
});

describe('loadBackboneFromStore', () => {
  it('rebuilds a calibrated random backbone from backbone.safetensors: identical features and config', async () => {
    const images = testImages(3, 64, 64);
    const net = await calibratedB0(images);
    const store = memoryStore('runs/x/model');
    expect(await saveBackboneWeights(store, net)).toBe(true);
    const again = await loadBackboneFromStore(store, net.toConfig());
    const probe = testImages(2, 64, 96, 7);
    const [a, b] = [features(net, probe), features(again, probe)];
    expect(b.length).toBe(2);
    b.forEach((level, i) => expect(level).toEqual(a[i]));
    expect(again.toConfig()).toEqual(net.toConfig()); // weights: 'random', seed, calibrationImageCount
    // …and it can be exported again, byte for byte.
    expect(await exportBackboneWeights(again)).toEqual(await exportBackboneWeights(net));
    tf.dispose([images, probe]);
    net.dispose();
    again.dispose();
  });

  it("reads the backbone config from the model's config.json when none is given", async () => {
    const images = testImages(2, 64, 64);
    const net = await calibratedB0(images);
    const store = memoryStore('model');
    const model = createRLR({ imageSize: [64, 64], levels: [{ grid: [8, 8], channels: 40 }] }, { d: 16, heads: 2, layers: 1, window: 3 });
    await saveModel(model, store, { backbone: net.toConfig() });
    await saveBackboneWeights(store, net);
    const again = await loadBackboneFromStore(store);
    expect(features(again, images)).toEqual(features(net, images));
    model.dispose();
    net.dispose();
    again.dispose();
    images.dispose();

    const bare = memoryStore('bare');
    await saveModel(createRLR({ imageSize: [64, 64], levels: [{ grid: [8, 8], channels: 40 }] }, { d: 16, heads: 2, layers: 1, window: 3 }), bare);
    await expect(loadBackboneFromStore(bare)).rejects.toThrow(/bare\/config\.json names no backbone; save the model with/);
  });

  it('accepts a plain timm checkpoint as backbone.safetensors, and refuses one of another backbone', async () => {
    const weights = randomEfficientNetWeights(B0, { seed: 2, blockCount: 5, head: false });
    const store = memoryStore('m');
    await store.write(BACKBONE_WEIGHTS, serializeSafetensors(new Map([...weights].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]))));
    const net = await loadBackboneFromStore(store, { name: B0, outIndices: [1, 2], weights: '/gone/b0.safetensors' });
    const direct = new EfficientNetExtractor(B0, weights, { outIndices: [1, 2] });
    const images = testImages(1, 32, 32);
    expect(features(net, images)).toEqual(features(direct, images));
    expect(net.toConfig().weights).toBe('/gone/b0.safetensors');
    net.dispose();
    direct.dispose();
    images.dispose();

    const other = await createBackbone('tf_efficientnet_b1', { weights: 'random', outIndices: [1] });
    await store.write(BACKBONE_WEIGHTS, await exportBackboneWeights(other));
    other.dispose();
    await expect(loadBackboneFromStore(store, { name: B0, outIndices: [1] })).rejects.toThrow(
      /m\/backbone\.safetensors holds weights of tf_efficientnet_b1, but the model's backbone is tf_efficientnet_b0/,
    );
  });

  it('without backbone.safetensors: seeded random weights are rebuilt, remote sources fetched, the rest explained', async () => {
    const store = memoryStore('runs/y/model');
    const seeded = await createBackbone(B0, { weights: 'random', seed: 9, outIndices: [1] });
    expect(isRebuildableFromConfig(seeded.toConfig())).toBe(true);
    expect(await saveBackboneWeights(store, seeded)).toBe(false);
    expect(await store.exists(BACKBONE_WEIGHTS)).toBe(false);
    const again = await loadBackboneFromStore(store, seeded.toConfig());
    const images = testImages(1, 32, 32);
    expect(features(again, images)).toEqual(features(seeded, images));
    again.dispose();

    // A remote source goes through the source reader (the Node entry's is the disk cache).
    const bytes = await exportBackboneWeights(seeded);
    const asked: string[] = [];
    const sources: SourceReader = {
      bytes: async (source) => (asked.push(source), bytes),
      modelHandler: () => Promise.reject(new Error('not used')),
    };
    const hub = 'hf://timm/tf_efficientnet_b0.aa_in1k/model.safetensors';
    expect(isRebuildableFromConfig({ weights: hub })).toBe(true);
    const fetched = await loadBackboneFromStore(store, { name: B0, outIndices: [1], weights: hub }, { sources });
    expect(asked).toEqual([hub]);
    expect(features(fetched, images)).toEqual(features(seeded, images));
    expect(fetched.toConfig().weights).toBe(hub);
    fetched.dispose();
    seeded.dispose();
    images.dispose();

    await expect(loadBackboneFromStore(store, { name: B0, weights: 'random', seed: 0, calibrationImageCount: 32 })).rejects.toThrow(
      /runs\/y\/model: the tf_efficientnet_b0 backbone has random weights whose BatchNorm statistics were calibrated on 32 images, and the directory has no backbone\.safetensors/,
    );
    await expect(loadBackboneFromStore(store, { name: B0, weights: null })).rejects.toThrow(/passed in memory .* saveBackboneWeights/);
    await expect(loadNodeBackbone(store, { name: B0, weights: '/nowhere/b0.safetensors' })).rejects.toThrow(
      /runs\/y\/model: cannot load the tf_efficientnet_b0 backbone from its weights source \/nowhere\/b0\.safetensors .*save them with the model as backbone\.safetensors/,
    );
    await expect(loadBackboneFromStore(store, { name: 'resnet50' })).rejects.toThrow(/unknown backbone "resnet50"/);
  });
});

const mobilenetDir = requireShared('weights/mobilenet_v1_0.75_224/model.json') ? requireShared('weights/mobilenet_v1_0.75_224') : undefined;

describe.skipIf(!mobilenetDir)('a tfjs model (MobileNetV1 from a local folder)', () => {
  it('exports its topology and weights and is rebuilt without the folder: identical features and config', async () => {
    const net = await createNodeBackbone('mobilenet_v1_0.75', { weights: mobilenetDir, outIndices: [1, 2] });
    expect(isRebuildableFromConfig(net.toConfig())).toBe(false); // a local path
    const store = memoryStore('model');
    expect(await saveBackboneWeights(store, net)).toBe(true);
    const file = parseSafetensors(await store.read(BACKBONE_WEIGHTS));
    expect(file.metadata).toMatchObject({ family: 'tfjs-model', backbone: 'mobilenet_v1_0.75' });
    expect(file.tensors.get('conv1/kernel')?.shape).toEqual([3, 3, 3, 24]);

    const again = await loadBackboneFromStore(store, net.toConfig()); // browser entry: no file access
    const images = testImages(2, 64, 64);
    const [a, b] = [features(net, images), features(again, images)];
    b.forEach((level, i) => expect(level).toEqual(a[i]));
    expect(again.toConfig()).toEqual(net.toConfig());
    images.dispose();
    net.dispose();
    again.dispose();
  });
});
