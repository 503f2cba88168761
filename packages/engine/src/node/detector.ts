/**
 * The Node `Detector`: the browser-safe one plus file paths (a model folder on disk, images by
 * path or Buffer), the weight cache for backbone sources, and {@link Detector.fit}.
 */
import { fileURLToPath } from 'node:url';
import type { BlobStore } from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import type { AnomalyDataset, ImageBatch, Sample } from '@rlr/data';
import { fileStore } from '@rlr/core/node';
import { loadBackboneFromStore, type NodeLoadBackboneOptions } from '@rlr/backbones/node';
import { Detector as BaseDetector, readParts, type BatchScores, type DetectorInput, type DetectorParts, type DetectorPrediction } from '../detector.js';
import { EngineError } from '../engine-error.js';
import { fitDetector, type FitOptions, type FitResult } from './fit.js';
import { nodeIO } from './node-io.js';
import { excludePadding } from '../padding-scores.js';
import { poolScoring, type PooledScoring } from './pooled-scoring.js';
import { scoreTiledSample } from './tiled-scoring.js';

/** Options of the Node {@link Detector.load}: the backbone's weight cache and download progress. */
export type NodeDetectorLoadOptions = NodeLoadBackboneOptions;

/** A {@link FitResult} whose detector is the Node class. */
export interface NodeFitResult extends FitResult {
  detector: Detector;
}

/** A detector that reads files and Buffers; see the module comment. */
export class Detector extends BaseDetector {
  private pooled: PooledScoring | undefined;

  constructor(parts: DetectorParts) {
    super({ ...parts, io: parts.io ?? nodeIO });
  }

  /**
   * Score on the worker threads of `pool` from now on (`createWorkerPool` of `@rlr/core/node`):
   * `predict`, `scoreBatch` and `evaluate` split each batch over the workers, with the same
   * results up to float rounding. {@link Detector.detachPool} (or `close`) releases the copies.
   */
  async attachPool(pool: WorkerPool): Promise<void> {
    await this.detachPool();
    this.pooled = await poolScoring(this, pool);
  }

  /** Score in this thread again, releasing the copies in the workers (the pool stays open). */
  async detachPool(): Promise<void> {
    const p = this.pooled;
    this.pooled = undefined;
    await p?.close();
  }

  /**
   * Score one image. A detector trained on tiles (`--tile`) reads the image from its file path at
   * the tiling scale, scores every tile and returns the stitched full-size map, as `rlr predict`.
   */
  override async predict(input: DetectorInput): Promise<DetectorPrediction> {
    const tile = this.geometry.tile;
    if (!tile) return super.predict(input);
    const path = typeof input === 'string' && !/^https?:/i.test(input) ? (input.startsWith('file:') ? fileURLToPath(input) : input) : input instanceof URL && input.protocol === 'file:' ? fileURLToPath(input) : undefined;
    if (path === undefined) throw new EngineError('usage', 'predict: a detector trained on tiles (--tile) reads its image from a file path', 'pass the image file\'s path (save fetched bytes to a file first)');
    const r = await scoreTiledSample({ path, category: 'predict', label: 0, defectType: 'unknown' }, tile, (b) => this.scoreBatch(b));
    return this.describe(r.score, r.map, r.height, r.width);
  }

  override scoreBatch(b: ImageBatch): Promise<BatchScores> {
    return this.pooled ? this.pooled.scoreBatch(b).then((r) => excludePadding(r, b.geometries)) : super.scoreBatch(b);
  }

  /** Release the worker copies, the model and the backbone. */
  async close(): Promise<void> {
    await this.detachPool();
    this.dispose();
  }

  /**
   * Load a model folder: a path, an `http(s)://` URL, or a `BlobStore`. Backbone weights
   * named by a URL or hf:// id are fetched through the weight cache.
   */
  static override async load(src: string | BlobStore, options: NodeDetectorLoadOptions = {}): Promise<Detector> {
    if (typeof src === 'string' && /^https?:/i.test(src)) return new Detector({ ...(await BaseDetector.load(src, { ...options, io: nodeIO })), io: nodeIO });
    const store = typeof src === 'string' ? fileStore(src) : src;
    return new Detector(await readParts(store, options, nodeIO, (s, c, o) => loadBackboneFromStore(s, c, { ...options, ...o })));
  }

  /** Train a detector (see {@link fitDetector}); the result's detector is ready to predict and save. */
  static async fit(dataset: AnomalyDataset | Sample[], options: FitOptions): Promise<Detector> {
    return (await Detector.fitWithReport(dataset, options)).detector;
  }

  /** {@link Detector.fit} with the split, the trainer's outcome and the timings. */
  static async fitWithReport(dataset: AnomalyDataset | Sample[], options: FitOptions): Promise<NodeFitResult> {
    const r = await fitDetector(dataset, options);
    const d = r.detector;
    return { ...r, detector: new Detector({ extractor: d.extractor, model: d.model, geometry: d.geometry, postProcessor: d.postProcessor }) };
  }

  /** Save into a folder (a path) or a `BlobStore`. */
  override save(dest: string | BlobStore, extra: Record<string, unknown> = {}): Promise<void> {
    return super.save(typeof dest === 'string' ? fileStore(dest) : dest, extra);
  }
}
