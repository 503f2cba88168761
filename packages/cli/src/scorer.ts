import * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from '@rlr/core';
import type { ParallelPredictor, RemoteExtractor, WorkerPool } from '@rlr/core/node';
import { backboneRecipe } from '@rlr/backbones/node';
import { extractTile, type ImageBatch, type Sample } from '@rlr/data';
import { batches, tiledImages, type TiledImage } from '@rlr/data/node';
import { openRunBackbone, type LoadedBackbone } from './backbone.js';
import { modelError } from './errors.js';
import { batchTensor, tileOptions, type ImageGeometry } from './features.js';
import { modelGeometry } from './input-geometry.js';
import { excludePadding } from './content-scores.js';
import { scoreTiledImage, type TiledScore } from './tiled-scoring.js';
import type { Logger } from './log.js';
import { isKnn, loadRunModel, type RunModel } from './model-io.js';
import { readManifest, runPath, type RunManifest } from './run-dir.js';

/** Per-image results of a batch (host arrays, row-major). */
export interface BatchScores {
  /** `[B]` image scores. */
  scores: Float32Array;
  /** `[B, H, W]` pixel anomaly maps. */
  maps: Float32Array;
  height: number;
  width: number;
}

/** A trained run opened for scoring: its backbone, model and input geometry. */
export interface Scorer {
  manifest: RunManifest;
  backbone: LoadedBackbone;
  /** The run's model: RLR, or the nearest-neighbour baseline. */
  model: RunModel;
  geometry: ImageGeometry;
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

/**
 * Images whose statistics calibrate a random backbone: `count` training images spread evenly over
 * the (category-sorted) list, so every category contributes.
 */
export function calibrationSamples(train: Sample[], count: number): Sample[] {
  const step = Math.max(1, Math.floor(train.length / count));
  return train.filter((_, i) => i % step === 0).slice(0, count);
}

/** Decode `paths` at `g` into a `[B, H, W, 3]` tensor (with tiling: the middle tile of each image). */
export async function loadImages(paths: string[], g: ImageGeometry): Promise<tf.Tensor4D> {
  const samples: Sample[] = paths.map((path) => ({ path, category: 'calibration', label: 0, defectType: 'good' }));
  const parts: tf.Tensor4D[] = [];
  if (g.tile) {
    for await (const img of tiledImages(samples, tileOptions(g.tile))) {
      const middle = Math.floor(img.grid.tiles.length / 2);
      const images = new Float32Array(g.crop[0] * g.crop[1] * 3);
      extractTile(img.pixels, img.grid.tiles[middle], images);
      parts.push(tf.tensor4d(images, [1, g.crop[0], g.crop[1], 3]));
    }
  } else for await (const b of batches(samples, { batchSize: 16, resize: g.resize, crop: g.crop, mode: g.mode })) parts.push(batchTensor(b));
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

/** Open a run folder for scoring: its model, and the backbone saved with it (see `openRunBackbone`). */
export async function openScorer(runDir: string, o: OpenOptions): Promise<Scorer> {
  const manifest = await readManifest(runDir);
  const geometry = o.geometry ?? runGeometry(manifest);
  const modelDir = runPath(runDir, 'model');
  const model = await loadRunModel(modelDir);
  let backbone: LoadedBackbone;
  try {
    backbone = await openRunBackbone(modelDir, model.metadata.backbone as Record<string, unknown> | undefined, manifest, o);
  } catch (e) {
    model.dispose();
    throw e;
  }
  let parallel: { predictor?: ParallelPredictor; extractor: RemoteExtractor } | undefined;
  if (o.pool) {
    // The workers get the exact weights the backbone runs with, and a replica of an RLR model (a
    // knn model scores in this thread: its bank is one large matrix product per level).
    let extractor: RemoteExtractor | undefined;
    try {
      extractor = await o.pool.createExtractor(await backboneRecipe(backbone.extractor));
      parallel = { extractor, predictor: isKnn(model) ? undefined : await o.pool.predictor(model) };
    } catch (e) {
      await extractor?.dispose().catch(() => undefined);
      model.dispose();
      backbone.extractor.dispose();
      throw e;
    }
  }
  // One batch through the backbone and the model, here or in the workers.
  const scoreBatch = async (b: ImageBatch): Promise<BatchScores> => {
    try {
      if (!parallel) return checkScores(await scoreImages(backbone.extractor, model, b), b, runDir);
      if (!parallel.predictor) return checkScores(await scoreRemoteFeatures(parallel.extractor, model, b), b, runDir);
      const p = await parallel.predictor.scoreImages(parallel.extractor, b.images, b.height, b.width, { batchSize: b.samples.length });
      return checkScores({ scores: p.scores, maps: p.maps, height: p.size[0], width: p.size[1] }, b, runDir);
    } catch (e) {
      throw /non-finite/i.test((e as Error).message) ? nonFiniteError(runDir, b, (e as Error).message, e) : e;
    }
  };
  const scorer: Scorer = {
    manifest,
    backbone,
    model,
    geometry,
    async score(b) {
      return excludePadding(await scoreBatch(b), b.geometries);
    },
    scoreTiled(img, batchSize) {
      return scoreTiledImage(img, (b) => scoreBatch(b), batchSize);
    },
    async dispose() {
      model.dispose();
      backbone.extractor.dispose();
      if (parallel) await Promise.all([parallel.predictor?.close(), parallel.extractor.dispose()]);
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

/** Extract one batch in the workers and score it with `model` in this thread. */
async function scoreRemoteFeatures(extractor: RemoteExtractor, model: RunModel, b: ImageBatch): Promise<BatchScores> {
  const maps = await extractor.extract({ images: b.images, height: b.height, width: b.width });
  const features = maps.map((m) => tf.tensor4d(m.data, m.shape));
  try {
    const p = await model.predict(features, { batchSize: b.samples.length });
    return { scores: p.scores, maps: p.maps, height: p.size[0], width: p.size[1] };
  } finally {
    tf.dispose(features);
  }
}

/** Extract and score one batch of images. */
export async function scoreImages(extractor: FeatureExtractor, model: RunModel, b: ImageBatch): Promise<BatchScores> {
  const images = batchTensor(b);
  const features = extractor.extract(images);
  images.dispose();
  try {
    const p = await model.predict(features, { batchSize: b.samples.length });
    return { scores: p.scores, maps: p.maps, height: p.size[0], width: p.size[1] };
  } finally {
    tf.dispose(features);
  }
}
