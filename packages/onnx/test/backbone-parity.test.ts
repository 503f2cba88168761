/**
 * Export parity with real backbones: MobileNetV1 0.75 with its ImageNet weights from ../shared
 * (skipped without it) and EfficientNet-B0 with seeded random weights (no download), each with
 * an RLR model and the knn baseline, at a square and a non-square size.
 */
import { EfficientNetExtractor, randomEfficientNetWeights } from '@rlr/backbones';
import { createBackbone } from '@rlr/backbones/node';
import { createRLR, KnnModel, resolveKnnConfig, specFromFeatureInfo, type FeatureExtractor, type RLRSpec } from '@rlr/core';
import { requireShared, useBackend } from '@rlr/testing';
import { beforeAll, describe, it } from 'vitest';
import { expectRelativeClose, onnxScores, randomImages, tfjsScores } from './parity-helpers.js';

const mobilenet = requireShared('weights/mobilenet_v1_0.75_224/model.json') ? requireShared('weights/mobilenet_v1_0.75_224') : undefined;
const SIZES: [number, number][] = [
  [64, 64],
  [64, 96],
];
const RLR_CONFIG = { heads: 2, layers: 1, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 5, dPerStride: 2 };

function bankFrom(spec: RLRSpec, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return spec.levels.map((l) => Float32Array.from({ length: 64 * l.channels }, () => rand()));
}

async function checkBoth(extractor: FeatureExtractor, size: [number, number], seed: number): Promise<void> {
  const spec = specFromFeatureInfo(extractor.featureInfo, size);
  const pixels = randomImages(2, size[0], size[1], seed);
  const rlr = createRLR(spec, RLR_CONFIG);
  const knn = new KnnModel(spec, resolveKnnConfig(), bankFrom(spec, seed));
  try {
    for (const model of [rlr, knn]) {
      const want = await tfjsScores(extractor, model, pixels, 2, size[0], size[1]);
      const got = await onnxScores(extractor, model, pixels, 2, size[0], size[1]);
      const what = `${extractor.name} ${'kind' in model ? 'knn' : 'rlr'} ${size.join('x')}`;
      expectRelativeClose(got.maps, want.maps, 1e-4, `${what} map`, false);
      expectRelativeClose(got.scores, want.scores, 1e-4, `${what} score`, true);
    }
  } finally {
    rlr.dispose();
    knn.dispose();
  }
}

describe('ONNX export parity with real backbones (onnxruntime-node vs tfjs wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('EfficientNet-B0 (random weights, stages 1 and 2): RLR and knn at 64x64 and 64x96', async () => {
    const name = 'tf_efficientnet_b0';
    const weights = randomEfficientNetWeights(name, { blockCount: 5, seed: 3 });
    const net = new EfficientNetExtractor(name, weights, { outIndices: [1, 2], weightsSource: 'random' });
    try {
      for (const size of SIZES) await checkBoth(net, size, 17);
    } finally {
      net.dispose();
    }
  });

  it.skipIf(!mobilenet)('MobileNetV1 0.75 (ImageNet weights from ../shared): RLR and knn at 64x64 and 64x96', async () => {
    const net = await createBackbone('mobilenet_v1_0.75', { weights: mobilenet, outIndices: [2, 3] });
    try {
      for (const size of SIZES) await checkBoth(net, size, 29);
    } finally {
      net.dispose();
    }
  });
});
