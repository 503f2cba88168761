import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@rlr/testing';
import { createRLR, KnnModel, resolveKnnConfig, specFromFeatureInfo, type RLRSpec } from '@rlr/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectRelativeClose, onnxScores, randomImages, tfjsScores } from './parity-helpers.js';
import { tinyLayersBackbone } from './tiny-models.js';

function randomBanks(spec: RLRSpec, tokens: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return spec.levels.map((l) => Float32Array.from({ length: tokens * l.channels }, () => 3 * rand()));
}

describe('ONNX export of a tiny generated detector equals the tfjs path (onnxruntime-node)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  for (const size of [[32, 32], [32, 48]] as [number, number][]) {
    it(`RLR at ${size[0]}x${size[1]}: maps and scores within 1e-4 relative, tensors freed`, async () => {
      const backbone = await tinyLayersBackbone(7);
      const spec = specFromFeatureInfo(backbone.featureInfo, size);
      const model = createRLR(spec, { heads: 2, layers: 2, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 11, dPerStride: 4 });
      const pixels = randomImages(2, size[0], size[1], 3);
      const before = tf.memory().numTensors;
      const want = await tfjsScores(backbone, model, pixels, 2, size[0], size[1]);
      expect(tf.memory().numTensors).toBe(before);
      const got = await onnxScores(backbone, model, pixels, 2, size[0], size[1]);
      expect(tf.memory().numTensors).toBe(before);
      expectRelativeClose(got.maps, want.maps, 1e-4, 'map', false);
      expectRelativeClose(got.scores, want.scores, 1e-4, 'score', true);
      expect(got.labels).toBeNull();
      expect(Array.from(got.normalizedScores)).toEqual(Array.from(got.scores));
      model.dispose();
      backbone.dispose();
    });
  }

  it('knn baseline at 32x48 within 1e-4 relative', async () => {
    const backbone = await tinyLayersBackbone(8);
    const spec = specFromFeatureInfo(backbone.featureInfo, [32, 48]);
    const model = new KnnModel(spec, resolveKnnConfig(), randomBanks(spec, 40, 5));
    const pixels = randomImages(2, 32, 48, 9);
    const want = await tfjsScores(backbone, model, pixels, 2, 32, 48);
    const got = await onnxScores(backbone, model, pixels, 2, 32, 48);
    expectRelativeClose(got.maps, want.maps, 1e-4, 'map', false);
    expectRelativeClose(got.scores, want.scores, 1e-4, 'score', true);
    model.dispose();
    backbone.dispose();
  });

  it('stores the threshold and min-max normalisation as outputs', async () => {
    const backbone = await tinyLayersBackbone(7);
    const spec = specFromFeatureInfo(backbone.featureInfo, [32, 32]);
    const model = createRLR(spec, { heads: 2, layers: 1, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 3, dPerStride: 4 });
    const pixels = randomImages(3, 32, 32, 21);
    const plain = await onnxScores(backbone, model, pixels, 3, 32, 32);
    const sorted = Array.from(plain.scores).sort((a, b) => a - b);
    const threshold = (sorted[0] + sorted[1]) / 2; // one image below, two above
    const min = sorted[0] - 0.01;
    const max = sorted[2] - 0.001; // the top image clips to 1
    const post = await onnxScores(backbone, model, pixels, 3, 32, 32, { postProcessing: { threshold, min, max } });
    expect(Array.from(post.scores)).toEqual(Array.from(plain.scores));
    expect(Array.from(post.labels!)).toEqual(Array.from(plain.scores, (s) => (s >= threshold ? 1 : 0)));
    expect(post.labels!.reduce((a, b) => a + b, 0)).toBe(2);
    post.normalizedScores.forEach((n, i) => expect(n).toBeCloseTo(Math.min(1, Math.max(0, (plain.scores[i] - min) / (max - min))), 5));
    expect(Math.max(...post.normalizedScores)).toBe(1);
    model.dispose();
    backbone.dispose();
  });
});
