import type { FeatureExtractor } from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import type { ImageBatch } from '@rlr/data';
import type { TiledImage } from '@rlr/data/node';
import { Detector, scoreTiledImage, type BatchScores, type ImageGeometry, type TiledScore } from '@rlr/engine/node';
import { openRunBackbone, type LoadedBackbone } from './backbone.js';
import { modelError } from './errors.js';
import { modelGeometry } from './input-geometry.js';
import type { Logger } from './log.js';
import { isKnn, loadRunModel, loadRunPostProcessor, type RunModel } from './model-io.js';
import { readManifest, runPath, type RunManifest } from './run-dir.js';

export type { BatchScores };

/** A trained run opened for scoring: its backbone, model and input geometry. */
export interface Scorer {
  manifest: RunManifest;
  backbone: LoadedBackbone;
  /** The run's model: RLR, or the nearest-neighbour baseline. */
  model: RunModel;
  geometry: ImageGeometry;
  /** The run's model folder as a @rlr/engine Detector (its post-processor: null when the folder has none). */
  detector: Detector;
  /**
   * Extract and score a batch (split over the worker threads when opened with a pool). With
   * `--resize-mode fit` the letterbox padding is excluded (see `excludePadding`).
   */
  score(b: ImageBatch): Promise<BatchScores>;
  /** Score one image on tiles (`--tile`): the stitched full-size map and its image score. */
  scoreTiled(img: TiledImage, batchSize: number): Promise<TiledScore>;
  /** Release the model, the backbone and their copies in the workers (the pool stays open). */
  dispose(): Promise<void>;
}

/** Options for rebuilding the backbone of a run. */
export interface OpenOptions {
  weights?: string;
  offline: boolean;
  cacheDir?: string;
  cwd: string;
  log: Logger;
  /** Worker threads to score on (see `startWorkers`); without it scoring runs in this thread. */
  pool?: WorkerPool;
  /** Connect and idle timeout of a weights download (ms; `--download-timeout`). */
  downloadTimeoutMs?: number;
  /** Aborts a weights download (Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
  /** The geometry to score with (`--resize-mode`, tiling flags of eval/predict); default: the run's. */
  geometry?: ImageGeometry;
}

/** The geometry a run was trained at. */
export function runGeometry(m: RunManifest): ImageGeometry {
  return modelGeometry(m.model);
}

/** Open a run folder for scoring: its model, and the backbone saved with it (see `openRunBackbone`). */
export async function openScorer(runDir: string, o: OpenOptions): Promise<Scorer> {
  const manifest = await readManifest(runDir);
  const geometry = o.geometry ?? runGeometry(manifest);
  const modelDir = runPath(runDir, 'model');
  const model = await loadRunModel(modelDir);
  // A scorer's model never changes: each level computes its reference side once (in this thread;
  // the workers' replicas do the same).
  if (!isKnn(model)) for (const lv of model.levels) lv.cacheReference = true;
  let backbone: LoadedBackbone;
  let postProcessor;
  try {
    postProcessor = await loadRunPostProcessor(modelDir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  try {
    backbone = await openRunBackbone(modelDir, model.metadata.backbone as Record<string, unknown> | undefined, manifest, o);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const detector = new Detector({ extractor: backbone.extractor, model, geometry, postProcessor });
  if (o.pool) {
    // The workers get the exact weights the backbone runs with, and a replica of an RLR model.
    try {
      await detector.attachPool(o.pool);
    } catch (e) {
      detector.dispose();
      throw e;
    }
  }
  // One batch through the backbone and the model, here or in the workers (the Detector's pool).
  const scoreBatch = async (b: ImageBatch): Promise<BatchScores> => {
    try {
      return checkScores(await detector.scoreBatch(b), b, runDir);
    } catch (e) {
      throw /non-finite/i.test((e as Error).message) ? nonFiniteError(runDir, b, (e as Error).message, e) : e;
    }
  };
  const scorer: Scorer = {
    manifest,
    backbone,
    model,
    geometry,
    detector,
    // The Detector leaves `--resize-mode fit` padding out of maps and scores.
    score: scoreBatch,
    scoreTiled(img, batchSize) {
      return scoreTiledImage(img, (b) => scoreBatch(b), batchSize);
    },
    async dispose() {
      await detector.close();
    },
  };
  return scorer;
}

/** The model error for a NaN or infinite score: never reported as a score or a label. */
function nonFiniteError(runDir: string, b: ImageBatch, detail: string, cause?: unknown): Error {
  const names = b.samples.length === 1 ? b.samples[0].path : `a batch of ${b.samples.length} images starting with ${b.samples[0]?.path}`;
  return modelError(
    `${runDir}: the model gave a non-finite score (NaN/Infinity) for ${names}: ${detail.split('\n')[0]}`,
    `the run's weights are damaged (model/weights.safetensors, or bank.safetensors for a knn run, or model/backbone.safetensors, or --weights): restore the run folder from a backup or retrain it with rlr train`,
    cause,
  );
}

/** Refuse scores that are not finite numbers (a second guard behind @rlr/core's own check). */
function checkScores(r: BatchScores, b: ImageBatch, runDir: string): BatchScores {
  const bad = r.scores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) throw nonFiniteError(runDir, b, `image ${b.samples[bad]?.path} scored ${r.scores[bad]}`);
  return r;
}

/** Extract and score one batch of images. */
export function scoreImages(extractor: FeatureExtractor, model: RunModel, b: ImageBatch): Promise<BatchScores> {
  const [height, width] = [b.height, b.width];
  return new Detector({ extractor, model, geometry: { resize: Math.min(height, width), crop: [height, width] } }).scoreBatch(b);
}
