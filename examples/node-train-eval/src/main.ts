/**
 * node-train-eval: the RLR library API end to end in Node, on a generated dataset, through
 * `@rlr/engine`'s Detector (backbone + model + post-processor in one object).
 *
 *   npm start -w @rlr/example-node-train-eval                  # under a minute on two cores
 *   npm start -w @rlr/example-node-train-eval -- --quick       # the reduced run its test makes
 *   npm start -w @rlr/example-node-train-eval -- --data ./mvtec_ad --weights hf://timm/tf_efficientnet_b0.aa_in1k/model.safetensors
 *
 * Steps: pick the tfjs backend → generate and list a dataset → `Detector.fit` (backbone, feature
 * extraction, training, thresholds from held-out normals) → `detector.evaluate` on the test set
 * → `detector.save` → `Detector.load` and check it scores identically.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createBackbone } from '@rlr/backbones/node';
import { presets } from '@rlr/core';
import { generateDataset, loadMvtec } from '@rlr/data/node';
import { Detector, randomBackbone, type DetectorMetrics } from '@rlr/engine/node';

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
  report: DetectorMetrics;
  modelDir: string;
  /** Test images, in the order of `scores`. */
  testImages: string[];
  /** Test-set image scores of the trained detector and of the detector loaded back from disk. */
  scores: Float32Array;
  reloadedScores: Float32Array;
  /** Mean loss of the first and the last epoch. */
  firstLoss: number;
  lastLoss: number;
  /** The image threshold the post-processor fitted on the held-out validation normals. */
  threshold: number;
}

const BACKBONE = 'tf_efficientnet_b0';
const OUT_INDICES = [2, 3];

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

  // #region fit
  const geometry = { resize: size, crop: [size, size] as [number, number] };
  const weights = options.weights ?? 'random';
  const losses: number[] = [];
  const detector = await Detector.fit(data, {
    // Offline: a random EfficientNet whose BatchNorm statistics come from the training images.
    backbone: (train) =>
      weights === 'random' ? randomBackbone(BACKBONE, train, { outIndices: OUT_INDICES, geometry, count: 16 }) : createBackbone(BACKBONE, { weights, outIndices: OUT_INDICES }),
    geometry,
    model: { kind: 'rlr', config: presets.demo }, // d = 4 × stride, 1 layer: seconds on a CPU
    train: { epochs, lr: options.lr ?? 1e-3, batchSize: 4 },
    valFraction: 0.1, // held-out normals: validation loss and the post-processor's thresholds
    onEpoch: (r) => {
      losses.push(r.loss);
      log(`epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toFixed(4)}  ${r.imagesPerSecond.toFixed(1)} images/s`);
    },
  });
  // #endregion fit
  const threshold = detector.postProcessor!.imageThreshold;
  log(`threshold ${threshold.toFixed(4)} (${detector.postProcessor!.state.source}, ${detector.postProcessor!.state.images} images)`);

  // #region evaluate
  const testImages: string[] = [];
  const scores: number[] = [];
  const report = await detector.evaluate(data, {
    onBatch: (batch, r) => {
      testImages.push(...batch.samples.map((s) => s.path));
      scores.push(...r.scores);
    },
  });
  // #endregion evaluate
  for (const [name, c] of Object.entries(report.categories)) {
    log(`${name.padEnd(10)} image AUROC ${c.image.auroc.toFixed(3)}  pixel AUROC ${c.pixel?.auroc.toFixed(3) ?? 'n/a'}  AU-PRO ${c.pixel?.aupro.toFixed(3) ?? 'n/a'}`);
  }
  log(`mean       image AUROC ${report.mean.image.auroc.toFixed(3)}  pixel AUROC ${report.mean.pixel?.auroc.toFixed(3) ?? 'n/a'}`);

  // #region save
  const modelDir = join(out, 'model');
  // config.json + weights.safetensors + backbone.safetensors + postprocessor.json
  await detector.save(modelDir);
  // #endregion save
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'metrics.json'), JSON.stringify(report, null, 2));
  log(`model saved in ${modelDir}, metrics in ${join(out, 'metrics.json')}`);
  detector.dispose();

  // #region load
  const reloaded = await Detector.load(modelDir);
  const again: number[] = [];
  for (const path of testImages) {
    const { score, label, normalizedScore } = await reloaded.predict(path); // also: map, mask
    again.push(score);
    if (again.length === 1) log(`${path}: score ${score.toFixed(4)}, normalised ${normalizedScore!.toFixed(3)}, ${label ? 'anomalous' : 'normal'}`);
  }
  reloaded.dispose();
  // #endregion load
  return { report, modelDir, testImages, scores: Float32Array.from(scores), reloadedScores: Float32Array.from(again), firstLoss: losses[0], lastLoss: losses[losses.length - 1], threshold };
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
