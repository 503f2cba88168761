import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { smoothFeatures } from '../feature-smoothing.js';
import { EfficientNetExtractor } from './efficientnet.js';
import { randomEfficientNetWeights } from './efficientnet-random-init.js';
import { testImages } from '../../test/helpers.js';

beforeAll(() => useBackend('wasm'));

describe('loading timm checkpoints', () => {
  const b0 = randomEfficientNetWeights('tf_efficientnet_b0', { seed: 3 });

  it('names a missing tensor and the checkpoint', () => {
    const broken = new Map(b0);
    broken.delete('blocks.2.0.conv_dw.weight');
    expect(() => new EfficientNetExtractor('tf_efficientnet_b0', broken, { weightsSource: 'my-b0.safetensors' })).toThrow(
      /my-b0\.safetensors: tensor "blocks\.2\.0\.conv_dw\.weight" is missing/,
    );
  });

  it('names a tensor with the wrong shape and both shapes', () => {
    const broken = new Map(b0);
    broken.set('blocks.1.1.bn2.running_var', { dtype: 'F32', shape: [7], data: new Float32Array(7) });
    expect(() => new EfficientNetExtractor('tf_efficientnet_b0', broken)).toThrow(
      /tensor "blocks\.1\.1\.bn2\.running_var" has shape \[7\] but tf_efficientnet_b0 expects \[144\]/,
    );
  });

  it('ignores extra tensors and needs only the blocks of the deepest requested stage', () => {
    // B6 weights for blocks 0..14 only (up to stage 2), plus an unrelated tensor.
    const partial = randomEfficientNetWeights('tf_efficientnet_b6', { seed: 1, blockCount: 15, head: false });
    partial.set('some.other.tensor', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    const ok = new EfficientNetExtractor('tf_efficientnet_b6', partial, { outIndices: [1, 2] });
    expect(ok.blockCount).toBe(15);
    ok.dispose();
    expect(() => new EfficientNetExtractor('tf_efficientnet_b6', partial, { outIndices: [2, 3] })).toThrow(
      /tensor "blocks\.3\.0\.conv_pw\.weight" is missing/,
    );
  });
});

describe('EfficientNet extraction', () => {
  it('returns [B, ceil(H/r), ceil(W/r), C] per out index, also for odd sizes', () => {
    const net = new EfficientNetExtractor('tf_efficientnet_b0', randomEfficientNetWeights('tf_efficientnet_b0'), {
      outIndices: [3, 1],
    });
    const images = testImages(2, 65, 97);
    const outs = net.extract(images);
    expect(outs.map((o) => o.shape)).toEqual([
      [2, 5, 7, 112],
      [2, 17, 25, 24],
    ]);
    expect(net.featureInfo).toEqual({ channels: [112, 24], reductions: [16, 4] });
    expect(net.toConfig()).toMatchObject({ name: 'tf_efficientnet_b0', outIndices: [3, 1], smooth: true });
    tf.dispose([...outs, images]);
    net.dispose();
  });

  it('smooth: true equals smoothFeatures() of the raw maps', () => {
    const w = randomEfficientNetWeights('tf_efficientnet_b0', { seed: 5 });
    const smooth = new EfficientNetExtractor('tf_efficientnet_b0', w, { outIndices: [2] });
    const raw = new EfficientNetExtractor('tf_efficientnet_b0', w, { outIndices: [2], smooth: false });
    const images = testImages(1, 64, 64);
    const [a] = smooth.extract(images);
    const [r] = raw.extract(images);
    const b = smoothFeatures(r);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(a, r))).dataSync()[0]).toBeGreaterThan(1e-3); // smoothing did something
    tf.dispose([a, r, b, images]);
    smooth.dispose();
    raw.dispose();
  });

  it('rejects images that are not [B, H, W, 3] float32, naming the expected layout', () => {
    const net = new EfficientNetExtractor('tf_efficientnet_b0', randomEfficientNetWeights('tf_efficientnet_b0'), {
      outIndices: [0],
    });
    const gray = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => net.extract(gray)).toThrow(/\[B, H, W, 3\] RGB in \[0, 1\]; got shape \[1, 32, 32, 1\]/);
    gray.dispose();
    net.dispose();
    const images = testImages(1, 32, 32);
    expect(() => net.extract(images)).toThrow(/after dispose/);
    images.dispose();
  });

  it('leaks nothing: tf.memory().numTensors is unchanged by 100 extractions and back to the start after dispose', () => {
    const start = tf.memory().numTensors;
    const net = new EfficientNetExtractor('tf_efficientnet_b0', randomEfficientNetWeights('tf_efficientnet_b0'), {
      outIndices: [2, 3],
    });
    const images = testImages(1, 64, 64);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(net.extract(images));
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
