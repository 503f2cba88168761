import { join } from 'node:path';
import { presets } from '@rlr/core';
import { generateDataset, loadMvtec, type AnomalyDataset } from '@rlr/data/node';
import { Detector, randomBackbone } from '@rlr/engine/node';

/** The crop the tiny model works at; the generated images have exactly this size. */
export const SIZE = 64;
const BACKBONE = 'tf_efficientnet_b0';
const OUT_INDICES = [2, 3];

export interface TinyModel {
  modelDir: string;
  data: AnomalyDataset;
}

/**
 * Train a small RLR detector in Node with `@rlr/engine` and save it as a model directory the
 * page can load by URL: `config.json`, `weights.safetensors`, the backbone's weights
 * (`backbone.safetensors`: a randomly initialised EfficientNet-B0 whose BatchNorm statistics
 * come from the training images, so it needs no download) and `postprocessor.json` (the
 * threshold from 3 held-out normals). Expects the wasm backend active.
 */
export async function trainTinyModel(dir: string): Promise<TinyModel> {
  const root = join(dir, 'data');
  await generateDataset({ root, categories: ['disc'], trainCount: 12, testCount: 9, size: SIZE, seed: 5 });
  const data = await loadMvtec(root);
  const geometry = { resize: SIZE, crop: [SIZE, SIZE] as [number, number] };
  const detector = await Detector.fit(data, {
    backbone: (train) => randomBackbone(BACKBONE, train, { outIndices: OUT_INDICES, geometry, seed: 3 }),
    geometry,
    model: { kind: 'rlr', config: presets.demo },
    train: { epochs: 4, lr: 1e-3, batchSize: 4 },
    valFraction: 0.25,
  });
  const modelDir = join(dir, 'model');
  await detector.save(modelDir); // random weights calibrated on the training images: backbone.safetensors always written
  detector.dispose();
  return { modelDir, data };
}
