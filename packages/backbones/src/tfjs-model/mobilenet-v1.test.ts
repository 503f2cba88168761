/**
 * MobileNetV1 (Keras, alpha 0.75, ImageNet) from the shared weights: stage taps at any input size,
 * and classification through the tapped trunk agrees with the original 224x224 model.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireShared, useBackend } from '@rlr/testing';
import { createBackbone, fileModelHandler } from '../node/index.js';
import { mobileNetV1Definition } from './mobilenet-v1.js';
import { TfjsModelBackbone } from './tfjs-model-backbone.js';
import { testImages } from '../../test/helpers.js';

const dir = requireShared('weights/mobilenet_v1_0.75_224/model.json')
  ? requireShared('weights/mobilenet_v1_0.75_224')
  : undefined;

describe.skipIf(!dir)('MobileNetV1 0.75 from tfjs layers weights', () => {
  let full: tfl.LayersModel;
  let labels: string[];
  beforeAll(async () => {
    await useBackend('wasm');
    full = await tfl.loadLayersModel(await fileModelHandler(dir!)); // the original, fixed at 224x224
    labels = (JSON.parse(readFileSync(join(dir!, 'metadata.json'), 'utf8')) as { labels: string[] }).labels;
  });

  it('yields the documented stage shapes at 256x256 (strides 2..32, 48..768 channels) and at 224x320', async () => {
    const net = await createBackbone('mobilenet_v1_0.75', { weights: dir, outIndices: [0, 1, 2, 3, 4] });
    expect(net.featureInfo).toEqual({ channels: [48, 96, 192, 384, 768], reductions: [2, 4, 8, 16, 32] });
    const square = testImages(2, 256, 256);
    const outs = net.extract(square);
    expect(outs.map((o) => o.shape)).toEqual([
      [2, 128, 128, 48],
      [2, 64, 64, 96],
      [2, 32, 32, 192],
      [2, 16, 16, 384],
      [2, 8, 8, 768],
    ]);
    const wide = testImages(1, 224, 320);
    const wideOuts = net.extract(wide);
    expect(wideOuts[4].shape).toEqual([1, 7, 10, 768]);
    tf.dispose([...outs, ...wideOuts, square, wide]);
    net.dispose();
  });

  it('taps equal the original model at 224x224 (max error ≤ 1e-5 x max)', async () => {
    const net = await createBackbone('mobilenet_v1_0.75', { weights: dir, outIndices: [1, 4], smooth: false });
    const reference = tfl.model({
      inputs: full.inputs,
      outputs: ['conv_pw_3_relu', 'conv_pw_13_relu'].map((n) => full.getLayer(n).output as tfl.SymbolicTensor),
    });
    const images = testImages(2, 224, 224, 3);
    const ours = net.extract(images);
    const theirs = tf.tidy(() => reference.predict(tf.sub(tf.mul(images, 2), 1)) as tf.Tensor[]);
    ours.forEach((o, k) => {
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(o, theirs[k]))).dataSync()[0]);
      const max = tf.tidy(() => tf.max(tf.abs(theirs[k])).dataSync()[0]);
      expect(err).toBeLessThanOrEqual(1e-5 * max);
    });
    tf.dispose([...ours, ...theirs, images]);
    net.dispose();
  });

  it('classifies through the tapped trunk like the full model; confident top classes survive small noise', async () => {
    const net = await createBackbone('mobilenet_v1_0.75', { weights: dir, outIndices: [4], smooth: false });
    const [kernel, bias] = full.getLayer('conv_preds').getWeights() as [tf.Tensor4D, tf.Tensor1D]; // [1, 1, 768, 1000]
    const classify = (images: tf.Tensor4D) =>
      tf.tidy(() => {
        const [f] = net.extract(images); // [B, 7, 7, 768] at 224
        const pooled = tf.mean(f, [1, 2]) as tf.Tensor2D;
        return tf.softmax(tf.add(tf.matMul(pooled, tf.reshape(kernel, [768, 1000])), bias)) as tf.Tensor2D;
      });
    const images = testImages(4, 224, 224, 3);
    const ours = classify(images);
    const theirs = full.predict(tf.sub(tf.mul(images, 2), 1)) as tf.Tensor2D;
    const top = [...tf.argMax(theirs, 1).dataSync()];
    expect([...tf.argMax(ours, 1).dataSync()]).toEqual(top);
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-4);

    // Noise of ±2/255 must not change a prediction that leads the runner-up by at least 0.1.
    const best2 = tf.topk(theirs, 2).values.arraySync();
    const confident = best2.map(([p1, p2]) => p1 - p2 >= 0.1);
    expect(confident.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    const noisy = tf.tidy(() =>
      tf.clipByValue(tf.add(images, tf.randomUniform(images.shape, -2 / 255, 2 / 255, 'float32', 42)), 0, 1),
    ) as tf.Tensor4D;
    const noisyProbs = classify(noisy);
    const noisyTop = [...tf.argMax(noisyProbs, 1).dataSync()];
    confident.forEach((sure, i) => {
      if (sure) expect(noisyTop[i], `image ${i}: ${labels[top[i]]} became ${labels[noisyTop[i]]}`).toBe(top[i]);
    });
    tf.dispose([ours, theirs, images, noisy, noisyProbs]);
    net.dispose();
  });

  it('names a missing tap layer and a channel mismatch', async () => {
    const bad = {
      ...mobileNetV1Definition(0.75),
      taps: ['conv_pw_1_relu', 'conv_pw_99_relu'],
      reductions: [2, 4],
      channels: [48, 96],
    };
    await expect(TfjsModelBackbone.load('custom', bad, await fileModelHandler(dir!), { outIndices: [1] })).rejects.toThrow(
      /no layer "conv_pw_99_relu"; its layers include input_1, conv1/,
    );
    const wrongWidth = mobileNetV1Definition(1);
    await expect(
      TfjsModelBackbone.load('mobilenet_v1', wrongWidth, await fileModelHandler(dir!), { outIndices: [2] }),
    ).rejects.toThrow(/layer "conv_pw_5_relu" has 192 channels but the definition says 256/);
  });

  it('keeps the saved input size with freeInputSize: false', async () => {
    const fixed = { ...mobileNetV1Definition(0.75), freeInputSize: false };
    const net = await TfjsModelBackbone.load('fixed', fixed, await fileModelHandler(dir!), { outIndices: [4] });
    const ok = testImages(1, 224, 224);
    const bad = testImages(1, 256, 256);
    tf.dispose(net.extract(ok));
    expect(() => net.extract(bad)).toThrow(/224/);
    tf.dispose([ok, bad]);
    net.dispose();
  });

  it('leaks nothing over 100 extractions', async () => {
    const net = await createBackbone('mobilenet_v1_0.75', { weights: dir });
    const images = testImages(1, 64, 64);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(net.extract(images));
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    net.dispose();
  });
});
