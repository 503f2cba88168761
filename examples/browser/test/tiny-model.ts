import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone, saveBackboneWeights } from '@rlr/backbones/node';
import {
  createRLR,
  extractFeatures,
  extractorLevels,
  FeatureBank,
  presets,
  saveModel,
  specFromFeatureInfo,
  Trainer,
} from '@rlr/core';
import { batches, generateDataset, loadMvtec, type AnomalyDataset } from '@rlr/data/node';
import { fileStore } from '@rlr/core/node';

/** The crop the tiny model works at; the generated images have exactly this size. */
export const SIZE = 64;
const BACKBONE = 'tf_efficientnet_b0';
const OUT_INDICES = [2, 3];

export interface TinyModel {
  modelDir: string;
  data: AnomalyDataset;
}

/**
 * Train a small RLR model in Node with the library API and save it as a model directory the
 * page can load by URL: `config.json`, `weights.safetensors` and the backbone's weights
 * (`backbone.safetensors`: a randomly initialised EfficientNet-B0 whose BatchNorm statistics
 * come from the training images, so it needs no download). Expects the wasm backend active.
 */
export async function trainTinyModel(dir: string): Promise<TinyModel> {
  const root = join(dir, 'data');
  await generateDataset({ root, categories: ['disc'], trainCount: 12, testCount: 9, size: SIZE, seed: 5 });
  const data = await loadMvtec(root);

  let calibration: tf.Tensor4D | undefined;
  for await (const b of batches(data.train, { batchSize: data.train.length, resize: SIZE, crop: SIZE })) {
    calibration = tf.tensor4d(b.images, [b.samples.length, SIZE, SIZE, 3]);
  }
  const backbone = await createBackbone(BACKBONE, { weights: 'random', seed: 3, outIndices: OUT_INDICES, calibrationImages: calibration });
  calibration!.dispose();

  const model = createRLR(specFromFeatureInfo(backbone.featureInfo, SIZE), presets.demo);
  const bank = new FeatureBank(extractorLevels(backbone, SIZE));
  await extractFeatures(backbone, batches(data.train, { batchSize: 6, resize: SIZE, crop: SIZE }), bank);
  const trainer = new Trainer(model, { epochs: 4, lr: 1e-3, batchSize: 4 });
  await trainer.fit(bank);
  trainer.dispose();

  const modelDir = join(dir, 'model');
  const store = fileStore(modelDir);
  await saveModel(model, store, { backbone: backbone.toConfig(), preprocessing: { resize: SIZE, crop: SIZE } });
  await saveBackboneWeights(store, backbone); // random weights calibrated on the training images: always written
  model.dispose();
  backbone.dispose();
  return { modelDir, data };
}
