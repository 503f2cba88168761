/**
 * node-train-eval: the RLR library API end to end in Node, on a generated dataset.
 *
 *   npm start -w @rlr/example-node-train-eval                  # under a minute on two cores
 *   npm start -w @rlr/example-node-train-eval -- --quick       # the reduced run its test makes
 *   npm start -w @rlr/example-node-train-eval -- --data ./mvtec_ad --weights hf://timm/tf_efficientnet_b0.aa_in1k/model.safetensors
 *
 * Steps: pick the tfjs backend → generate and list a dataset → build a frozen backbone →
 * extract training features once → train RLR → score the test set and compute the metrics →
 * save the model directory → load it back and check it scores identically.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createBackbone, saveBackboneWeights } from '@rlr/backbones/node';
import {
  createRLR,
  extractFeatures,
  extractorLevels,
  FeatureBank,
  loadModel,
  presets,
  saveModel,
  specFromFeatureInfo,
  Trainer,
  type FeatureExtractor,
  type RLRModel,
} from '@rlr/core';
import { batches, generateDataset, loadMvtec, type Sample } from '@rlr/data/node';
import { fileStore } from '@rlr/core/node';
import { evaluateCategories, type CategoryInput, type EvaluationReport } from '@rlr/metrics';

export interface RunOptions {
  /** Folder for the generated data and the model (created). */
  out: string;
  /** The reduced run: 64x64 images, two categories, few epochs. */
  quick?: boolean;
  /** An existing MVTec AD-layout dataset instead of a generated one. */
  data?: string;
  /** Backbone weights: `random` (BatchNorm-calibrated, offline), a path, URL or hf:// id. */
  weights?: string;
  epochs?: number;
  /** Adam learning rate (default 1e-3: the tiny models here train in few epochs). */
  lr?: number;
  log?: (line: string) => void;
}

export interface RunResult {
  report: EvaluationReport;
  modelDir: string;
  /** Test images, in the order of `scores`. */
  testImages: string[];
  /** Test-set image scores of the trained model and of the model loaded back from disk. */
  scores: Float32Array;
  reloadedScores: Float32Array;
  /** Mean loss of the first and the last epoch. */
  firstLoss: number;
  lastLoss: number;
}

const BACKBONE = 'tf_efficientnet_b0';
const OUT_INDICES = [2, 3];

/** Read the first `count` samples as one `[B, H, W, 3]` tensor. */
async function imagesOf(samples: Sample[], size: number): Promise<tf.Tensor4D> {
  for await (const b of batches(samples, { batchSize: samples.length, resize: size, crop: size })) {
    return tf.tensor4d(b.images, [b.samples.length, b.height, b.width, 3]);
  }
  throw new Error('no images to read');
}

/**
 * An offline backbone: timm's random initialisation, with BatchNorm statistics taken from the
 * training images so the features are well scaled. `saveBackboneWeights` keeps those statistics
 * with the model (a browser or a service cannot recompute them without the images).
 */
async function calibratedRandomBackbone(train: Sample[], size: number): Promise<FeatureExtractor> {
  // Spread the calibration images over the whole training set (every category): statistics of
  // one category alone make the features of the others explode.
  const step = Math.max(1, Math.floor(train.length / 16));
  const images = await imagesOf(train.filter((_, i) => i % step === 0).slice(0, 16), size);
  try {
    return await createBackbone(BACKBONE, { weights: 'random', seed: 0, outIndices: OUT_INDICES, calibrationImages: images });
  } finally {
    images.dispose();
  }
}

/** Image scores, pixel maps, masks and labels of `samples`, batch by batch. */
async function scoreSamples(model: RLRModel, backbone: FeatureExtractor, samples: Sample[], size: number) {
  const scores: number[] = [];
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  // #region predict
  for await (const batch of batches(samples, { batchSize: 8, resize: size, crop: size })) {
    const images = tf.tensor4d(batch.images, [batch.samples.length, batch.height, batch.width, 3]);
    const features = backbone.extract(images); // one smoothed [B, h, w, C] map per level
    const prediction = await model.predict(features); // host arrays: scores [B], maps [B, H, W]
    tf.dispose([images, ...features]);
    scores.push(...prediction.scores);
    maps.push(prediction.maps);
    masks.push(batch.masks);
  }
  // #endregion predict
  const concat = <T extends Float32Array | Uint8Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    scores: Float32Array.from(scores),
    maps: concat(maps, (n) => new Float32Array(n)),
    masks: concat(masks, (n) => new Uint8Array(n)),
    labels: samples.map((s) => s.label),
  };
}

export async function run(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? console.log;
  const out = resolve(options.out);
  const quick = options.quick ?? false;
  const size = quick ? 64 : 128;
  const epochs = options.epochs ?? (quick ? 6 : 10);

  // #region backend
  // The application picks the backend; the @rlr libraries never import one.
  await tf.setBackend('wasm');
  await tf.ready();
  // #endregion backend
  log(`backend: ${tf.getBackend()}`);

  // #region data
  let root = options.data;
  if (!root) {
    root = join(out, 'data');
    await generateDataset({
      root,
      categories: quick ? ['weave', 'disc'] : ['weave', 'grid', 'disc', 'bracket'],
      trainCount: quick ? 12 : 24,
      testCount: quick ? 9 : 18,
      size,
      seed: 0,
      overwrite: true,
    });
  }
  const data = await loadMvtec(root);
  // #endregion data
  log(`data: ${data.categories.join(', ')}; ${data.train.length} training and ${data.test.length} test images`);

  // #region backbone
  const weights = options.weights ?? 'random';
  const backbone =
    weights === 'random' ? await calibratedRandomBackbone(data.train, size) : await createBackbone(BACKBONE, { weights, outIndices: OUT_INDICES });
  // #endregion backbone
  log(`backbone: ${backbone.name}, levels of ${backbone.featureInfo.channels.join(' and ')} channels at strides ${backbone.featureInfo.reductions.join(', ')}`);

  // #region model
  const spec = specFromFeatureInfo(backbone.featureInfo, size); // crop size + one grid per level
  const model = createRLR(spec, presets.demo); // d = 4 × stride, 1 layer: small enough for seconds on a CPU
  // #endregion model

  // #region features
  // The backbone is frozen: run it once per training image and train from the stored maps.
  const bank = new FeatureBank(extractorLevels(backbone, size));
  await extractFeatures(backbone, batches(data.train, { batchSize: 8, resize: size, crop: size }), bank);
  // #endregion features

  // #region train
  const losses: number[] = [];
  const trainer = new Trainer(model, {
    epochs,
    lr: options.lr ?? 1e-3,
    batchSize: 4,
    onEpoch: (r) => {
      losses.push(r.loss);
      log(`epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toFixed(4)}  ${r.imagesPerSecond.toFixed(1)} images/s`);
    },
  });
  await trainer.fit(bank);
  trainer.dispose();
  // #endregion train

  // #region evaluate
  const inputs: CategoryInput[] = [];
  for (const category of data.categories) {
    const test = data.test.filter((s) => s.category === category);
    const r = await scoreSamples(model, backbone, test, size);
    inputs.push({ category, labels: r.labels, scores: r.scores, maps: r.maps, masks: r.masks, height: size, width: size });
  }
  const report = evaluateCategories(inputs);
  // #endregion evaluate
  for (const [name, c] of Object.entries(report.categories)) {
    log(`${name.padEnd(10)} image AUROC ${c.image.auroc.toFixed(3)}  pixel AUROC ${c.pixel?.auroc.toFixed(3) ?? 'n/a'}  AU-PRO ${c.pixel?.aupro.toFixed(3) ?? 'n/a'}`);
  }
  log(`mean       image AUROC ${report.mean.image.auroc.toFixed(3)}  pixel AUROC ${report.mean.pixel?.auroc.toFixed(3) ?? 'n/a'}`);

  // #region save
  const modelDir = join(out, 'model');
  const store = fileStore(modelDir);
  await saveModel(model, store, {
    backbone: backbone.toConfig(), // name, outIndices and where the weights came from
    preprocessing: { resize: size, crop: size },
  });
  // Random or local weights cannot be fetched again: backbone.safetensors keeps them with the model.
  await saveBackboneWeights(store, backbone);
  // #endregion save
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'metrics.json'), JSON.stringify(report, null, 2));
  log(`model saved in ${modelDir}, metrics in ${join(out, 'metrics.json')}`);

  // #region load
  const reloaded = await loadModel(fileStore(modelDir));
  const again = await scoreSamples(reloaded, backbone, data.test, size);
  // #endregion load
  const first = await scoreSamples(model, backbone, data.test, size);
  reloaded.dispose();
  model.dispose();
  backbone.dispose();
  return { report, modelDir, testImages: data.test.map((s) => s.path), scores: first.scores, reloadedScores: again.scores, firstLoss: losses[0], lastLoss: losses[losses.length - 1] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'runs/node-train-eval' },
      quick: { type: 'boolean', default: false },
      data: { type: 'string' },
      weights: { type: 'string', default: 'random' },
      epochs: { type: 'string' },
    },
  });
  const t0 = Date.now();
  run({
    out: values.out,
    quick: values.quick,
    data: values.data,
    weights: values.weights,
    epochs: values.epochs === undefined ? undefined : Number(values.epochs),
  }).then(
    () => console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`),
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
