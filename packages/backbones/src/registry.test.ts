import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireShared, useBackend } from '@rlr/testing';
import {
  backboneFeatureInfo,
  createBackbone as createBrowserBackbone,
  listBackbones,
  registerTfjsBackbone,
} from './registry.js';
import { createBackbone, cachePathFor } from './node/index.js';
import { EFFICIENTNET_NAMES } from './efficientnet/efficientnet-variants.js';
import { mobileNetV1Definition } from './tfjs-model/mobilenet-v1.js';
import { testImages } from '../test/helpers.js';

beforeAll(() => useBackend('wasm'));

describe('registry', () => {
  it('is keyed by timm / Keras names and knows every stage without weights', () => {
    const names = listBackbones().map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining([...EFFICIENTNET_NAMES, 'mobilenet_v1_0.75', 'mobilenet_v1']));
    expect(backboneFeatureInfo('tf_efficientnet_b6')).toEqual({ channels: [72, 200], reductions: [8, 16] }); // RLR default [2, 3]
    expect(backboneFeatureInfo('mobilenet_v1_0.75')).toEqual({ channels: [192, 384], reductions: [8, 16] });
    expect(backboneFeatureInfo('mobilenet_v1', [0, 4])).toEqual({ channels: [64, 1024], reductions: [2, 32] });
    expect(listBackbones().find((b) => b.name === 'tf_efficientnet_b6')?.defaultWeights).toBe(
      'hf://timm/tf_efficientnet_b6.aa_in1k/model.safetensors',
    );
  });

  it('names unknown backbones and options that do not apply', async () => {
    expect(() => backboneFeatureInfo('resnet50')).toThrow(/unknown backbone "resnet50"; registered: tf_efficientnet_b0, /);
    await expect(createBrowserBackbone('mobilenet_v1', { weights: 'random' })).rejects.toThrow(/only available for EfficientNet/);
  });

  it('the browser-safe entry refuses local paths and points to the Node entry', async () => {
    await expect(createBrowserBackbone('tf_efficientnet_b0', { weights: '/models/b0.safetensors' })).rejects.toThrow(
      /look like a local path.*'@rlr\/backbones\/node'/,
    );
  });

  it("weights: 'random' is seeded, and calibration makes it depend on the calibration images", async () => {
    const images = testImages(2, 64, 64);
    const run = async (seed: number, calibrationImages?: tf.Tensor4D) => {
      const net = await createBrowserBackbone('tf_efficientnet_b0', {
        weights: 'random',
        seed,
        calibrationImages,
        outIndices: [2],
      });
      const [f] = net.extract(images);
      const data = f.dataSync().slice();
      const config = net.toConfig();
      f.dispose();
      net.dispose();
      return { data, config };
    };
    const a = await run(1);
    expect((await run(1)).data).toEqual(a.data);
    expect((await run(2)).data).not.toEqual(a.data);
    // toConfig() is enough to rebuild the same extractor.
    const rebuilt = await createBrowserBackbone(a.config.name as string, a.config);
    const [g] = rebuilt.extract(images);
    expect(g.dataSync()).toEqual(a.data);
    g.dispose();
    rebuilt.dispose();
    const calibrated = await run(1, images);
    expect(calibrated.data).not.toEqual(a.data);
    expect(calibrated.config).toEqual({
      name: 'tf_efficientnet_b0',
      outIndices: [2],
      smooth: true,
      weights: 'random',
      seed: 1,
      calibrationImageCount: 2,
    });
    images.dispose();
  });

  it('registers a custom tfjs model definition', () => {
    registerTfjsBackbone(
      'my_mobilenet',
      { ...mobileNetV1Definition(0.25), defaultOutIndices: [1] },
      'https://example.org/m/model.json',
    );
    expect(backboneFeatureInfo('my_mobilenet')).toEqual({ channels: [32], reductions: [4] });
    expect(() => registerTfjsBackbone('tf_efficientnet_b0', mobileNetV1Definition(1), 'x')).toThrow(/built-in/);
  });
});

const b0File = requireShared('fixtures/efficientnet/tf_efficientnet_b0.safetensors');
const mobilenetDir = requireShared('weights/mobilenet_v1_0.75_224/model.json')
  ? requireShared('weights/mobilenet_v1_0.75_224')
  : undefined;

describe.skipIf(!b0File || !mobilenetDir)('Node createBackbone: local paths and cached downloads', () => {
  let server: Server;
  let base: string;
  let cacheDir: string;
  const requests: string[] = [];
  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'rlr-registry-test-'));
    server = createServer((req, res) => {
      const url = req.url ?? '';
      requests.push(url);
      const file =
        url === '/b0/model.safetensors'
          ? b0File!
          : url.startsWith('/mobilenet/')
          ? join(mobilenetDir!, url.slice('/mobilenet/'.length))
          : '';
      if (!file || !existsSync(file)) return void res.writeHead(404).end();
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('loads a timm safetensors file from a local path', async () => {
    const net = await createBackbone('tf_efficientnet_b0', { weights: b0File, outIndices: [1, 2] });
    expect(net.toConfig()).toMatchObject({ name: 'tf_efficientnet_b0', weights: b0File, outIndices: [1, 2] });
    const images = testImages(1, 96, 96);
    const outs = net.extract(images);
    expect(outs.map((o) => o.shape)).toEqual([
      [1, 24, 24, 24],
      [1, 12, 12, 40],
    ]);
    tf.dispose([...outs, images]);
    net.dispose();
  });

  it('downloads a checkpoint once into the cache and reuses it offline', async () => {
    const url = `${base}/b0/model.safetensors`;
    const progress: number[] = [];
    const first = await createBackbone('tf_efficientnet_b0', {
      weights: url,
      cache: { cacheDir },
      onProgress: (p) => progress.push(p.loaded),
    });
    first.dispose();
    expect(existsSync(cachePathFor(url, cacheDir))).toBe(true);
    expect(progress.at(-1)).toBe(readFileSync(b0File!).length);
    const count = requests.length;
    const again = await createBackbone('tf_efficientnet_b0', { weights: url, cache: { cacheDir, offline: true } });
    again.dispose();
    expect(requests.length).toBe(count);
  });

  it('caches a tfjs model.json with all its shards and loads it from the cache', async () => {
    const url = `${base}/mobilenet/model.json`;
    const net = await createBackbone('mobilenet_v1_0.75', { weights: url, cache: { cacheDir } });
    expect(requests.filter((r) => r.startsWith('/mobilenet/'))).toHaveLength(1 + 55);
    net.dispose();
    const offline = await createBackbone('mobilenet_v1_0.75', { weights: url, cache: { cacheDir, offline: true } });
    const images = testImages(1, 64, 64);
    const outs = offline.extract(images);
    expect(outs.map((o) => o.shape)).toEqual([
      [1, 8, 8, 192],
      [1, 4, 4, 384],
    ]);
    tf.dispose([...outs, images]);
    offline.dispose();
  });
});
