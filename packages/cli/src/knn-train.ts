import { buildKnnModel, specFromFeatureInfo, type KnnModel } from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import { fileStore } from '@rlr/core/node';
import { initBackend, type BackendName } from './backend.js';
import { saveRunBackbone, type LoadedBackbone } from './backbone.js';
import { loadTrainingBackbone } from './training-backbone.js';
import { describeDataset, loadDataset, trainSamples } from './dataset.js';
import { InterruptedError } from './errors.js';
import { trainingFeatures } from './features.js';
import { saveKnnModelDir } from './model-io.js';
import { modelGeometry, preprocessingRecord } from './input-geometry.js';
import { claimRunFolder, runPath, writeManifest, type RunManifest } from './run-dir.js';
import { DEFAULT_CORESET, type RunSettings } from './run-settings.js';
import { runVersions } from './version.js';
import { startWorkers } from './workers.js';
import type { TrainRunOptions } from './train-run-options.js';


/** What building a knn run returns (`rlr train --model knn`). */
export interface KnnTrainOutcome {
  runDir: string;
  manifest: RunManifest;
  backbone: LoadedBackbone;
  model: KnnModel;
  backend: BackendName;
  seconds: { extract: number; build: number; total: number };
}

/**
 * Build a nearest-neighbour run: load the data, build the backbone, extract (or reuse) the
 * training features in the run's `features/` cache exactly as for RLR, then fill and subsample
 * the memory bank and save it in `model/` (config.json + bank.safetensors). No epochs.
 */
export async function trainKnnRun(settings: RunSettings, o: TrainRunOptions): Promise<KnnTrainOutcome> {
  const t0 = performance.now();
  const backend = await initBackend(o.backend);
  const pool = await startWorkers(backend, o.workers ?? 'auto', o.log);
  try {
    return await buildOn(backend, pool, settings, o, t0);
  } finally {
    await pool?.close();
  }
}

async function buildOn(backend: BackendName, pool: WorkerPool | undefined, settings: RunSettings, o: TrainRunOptions, t0: number): Promise<KnnTrainOutcome> {
  const { log } = o;
  const coreset = settings.knn?.coreset ?? DEFAULT_CORESET;
  const ds = await loadDataset(settings.data, settings.train.seed, log);
  const train = trainSamples(ds);
  log.info(`data: ${describeDataset(ds)}`);
  const g = modelGeometry(settings.model);
  const backbone = await loadTrainingBackbone(settings, o, train);
  const now = new Date().toISOString();
  const manifest: RunManifest = {
    version: 1,
    ...settings,
    kind: 'knn',
    knn: { coreset },
    status: 'training',
    created: now,
    updated: now,
    epochsDone: 0,
    backend,
    backboneWeights: backbone.weightsDescription,
    pretrained: backbone.pretrained,
    versions: runVersions(),
  };
  // The folder's marker first: a failed build leaves a folder the same command may reuse.
  await claimRunFolder(o.runDir);
  await writeManifest(o.runDir, manifest);
  const spec = specFromFeatureInfo(backbone.extractor.featureInfo, settings.model.imageSize);
  let model: KnnModel;
  let extractS: number;
  const tBuild = { start: 0, end: 0 };
  try {
    const features = await trainingFeatures(train, backbone.extractor, g, fileStore(runPath(o.runDir, 'features')), {
      batchSize: Math.max(settings.train.batchSize, 8),
      log,
      signal: o.signal,
      pool,
    });
    extractS = features.seconds;
    const tokens = features.source.size * spec.levels.reduce((n, l) => n + l.grid[0] * l.grid[1], 0);
    const task = log.progress(`memory bank (coreset ${coreset})`, Math.max(1, Math.round(tokens * coreset)), 'token');
    const done = spec.levels.map(() => 0);
    tBuild.start = performance.now();
    try {
      model = await buildKnnModel(spec, features.source, { coreset, seed: settings.train.seed }, {
        signal: o.signal,
        onProgress: (level, chosen) => {
          task.tick(chosen - done[level]);
          done[level] = chosen;
        },
      });
    } finally {
      task.done();
    }
    tBuild.end = performance.now();
  } catch (e) {
    backbone.extractor.dispose();
    if (o.signal.aborted) throw new InterruptedError('interrupted while building the memory bank (nothing to resume)', 'rerun the same rlr train command (the feature cache is reused)');
    throw e;
  }
  const buildS = (tBuild.end - tBuild.start) / 1000;
  log.event('bank', { coreset, bank_tokens: model.bankSizes, seconds: buildS });
  // The backbone first: a model folder with a config.json is complete.
  await saveRunBackbone(runPath(o.runDir, 'model'), backbone.extractor);
  await saveKnnModelDir(model, runPath(o.runDir, 'model'), {
    backbone: backbone.extractor.toConfig(),
    preprocessing: preprocessingRecord(g),
    preset: settings.preset,
    build: { images: train.length, seconds: buildS },
  });
  manifest.status = 'done';
  await writeManifest(o.runDir, manifest);
  return { runDir: o.runDir, manifest, backbone, model, backend, seconds: { extract: extractS, build: buildS, total: (performance.now() - t0) / 1000 } };
}
