/**
 * @rlr/core in one file: build a small RLR model, train it on cached features, score a batch,
 * save and load it. Random "features" stand in for a backbone's maps so this runs anywhere:
 *
 *   npx tsx examples/quickstart.ts
 *
 * With a real backbone, get the spec from `specFromFeatureInfo(extractor.featureInfo, 256)` and
 * fill the bank with `extractFeatures(extractor, imageBatches, bank)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm'; // the application picks the backend, never the library
import { createRLR, FeatureBank, loadModel, memoryStore, presets, Rng, saveModel, Trainer, type RLRSpec } from '@rlr/core';

export async function quickstart(log: (line: string) => void = console.log): Promise<{ scores: Float32Array; loss: number[] }> {
  await tf.setBackend('wasm');
  // Two feature levels, as tf_efficientnet stages at stride 8 and 16 of a 64x64 crop.
  const spec: RLRSpec = {
    imageSize: [64, 64],
    levels: [
      { grid: [8, 8], channels: 24, reduction: 8 },
      { grid: [4, 4], channels: 40, reduction: 16 },
    ],
  };
  const model = createRLR(spec, presets.demo); // d = 4 × stride (32, 64), windows by grid (5, 3)

  // Training features: one [N, h, w, C] array per level (normally extracted once by the backbone).
  const rng = new Rng(1);
  const n = 16;
  const bank = FeatureBank.fromArrays(
    spec.levels,
    spec.levels.map((l) => rng.fillNormal(new Float32Array(n * l.grid[0] * l.grid[1] * l.channels))),
  );

  const trainer = new Trainer(model, {
    epochs: 3,
    batchSize: 4,
    lr: 1e-3,
    onEpoch: (r) => log(`epoch ${r.epoch}/${r.epochs}: loss ${r.loss.toFixed(4)} (${r.imagesPerSecond.toFixed(1)} images/s)`),
  });
  const { history } = await trainer.fit(bank);
  trainer.dispose();

  // Score a batch: image scores, pixel anomaly maps at the crop size, token scores per level.
  const features = spec.levels.map((l, i) =>
    tf.tensor4d(bank.level(i).subarray(0, 2 * l.grid[0] * l.grid[1] * l.channels), [2, l.grid[0], l.grid[1], l.channels]),
  );
  const prediction = await model.predict(features);
  tf.dispose(features);
  log(`image scores ${Array.from(prediction.scores, (s) => s.toFixed(3)).join(', ')}; map ${prediction.size.join('x')}`);

  // Save (config.json + weights.safetensors) and load back; in Node use fileStore(dir) from @rlr/data/node.
  const store = memoryStore();
  await saveModel(model, store, { preprocessing: { resize: 64, crop: 64 } });
  const loaded = await loadModel(store);
  log(`saved ${[...store.blobs.keys()].join(' + ')}; loaded ${loaded.levels.length} levels`);
  loaded.dispose();
  model.dispose();
  return { scores: prediction.scores, loss: history.map((h) => h.loss) };
}

// Run when executed directly (not when imported by the test that keeps this example working).
if (import.meta.url === `file://${process.argv[1]}`) {
  await quickstart();
}
