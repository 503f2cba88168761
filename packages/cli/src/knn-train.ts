import type { KnnModel } from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import { Detector } from '@rlr/engine/node';
import { initBackend, type BackendName } from './backend.js';
import type { LoadedBackbone } from './backbone.js';
import { loadTrainingBackbone } from './training-backbone.js';
import { describeDataset, loadDataset, trainSamples } from './dataset.js';
import { InterruptedError } from './errors.js';
import { modelGeometry } from './input-geometry.js';
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
 * Build a nearest-neighbour run (through @rlr/engine's `Detector.fit`): load the data, build the
 * backbone, extract (or reuse) the training features in the run's `features/` cache exactly as
 * for RLR, then fill and subsample the memory bank and save it in `model/` (config.json +
 * bank.safetensors). No epochs.
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
  let backbone: LoadedBackbone | undefined;
  let manifest: RunManifest | undefined;
  let fit;
  try {
    // The bank holds every training normal unless --val-fraction holds some out to fit thresholds.
    fit = await Detector.fitWithReport(train, {
      backbone: async (images) => {
        backbone = await loadTrainingBackbone(settings, o, images);
        return backbone.extractor;
      },
      geometry: g,
      model: { kind: 'knn', coreset },
      valFraction: settings.knn?.valFraction,
      postProcessor: { quantile: settings.train.thresholdQuantile, sensitivity: settings.train.sensitivity },
      train: { epochs: 0, batchSize: settings.train.batchSize, seed: settings.train.seed },
      dir: o.runDir,
      pool,
      log,
      signal: o.signal,
      onPrepared: async () => {
        const now = new Date().toISOString();
        manifest = {
          version: 1,
          ...settings,
          kind: 'knn',
          knn: { coreset },
          status: 'training',
          created: now,
          updated: now,
          epochsDone: 0,
          backend,
          backboneWeights: backbone!.weightsDescription,
          pretrained: backbone!.pretrained,
          versions: runVersions(),
        };
        // The folder's marker first: a failed build leaves a folder the same command may reuse.
        await claimRunFolder(o.runDir);
        await writeManifest(o.runDir, manifest);
      },
    });
  } catch (e) {
    if (o.signal.aborted) throw new InterruptedError('interrupted while building the memory bank (nothing to resume)', 'rerun the same rlr train command (the feature cache is reused)');
    throw e;
  }
  const model = fit.detector.model as KnnModel;
  const buildS = fit.seconds.train;
  log.event('bank', { coreset, bank_tokens: model.bankSizes, seconds: buildS });
  // The backbone first (inside save): a model folder with a config.json is complete.
  await fit.detector.save(runPath(o.runDir, 'model'), { preset: settings.preset, build: { images: train.length, seconds: buildS } });
  manifest!.status = 'done';
  await writeManifest(o.runDir, manifest!);
  return { runDir: o.runDir, manifest: manifest!, backbone: backbone!, model, backend, seconds: { extract: fit.seconds.extract, build: buildS, total: (performance.now() - t0) / 1000 } };
}
