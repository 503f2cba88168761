/**
 * The Detector: a backbone (config and weights), a scoring model (RLR or the nearest-neighbour
 * baseline) and a {@link PostProcessor}, saved together as one model folder and loaded from a
 * `BlobStore` (a folder in Node, a URL in the browser). This entry is browser-safe; the Node
 * entry (`@rlr/engine/node`) adds files, Buffers, worker threads and `Detector.fit`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { urlStore, type BlobStore, type FeatureExtractor } from '@rlr/core';
import { loadBackboneFromStore, saveBackboneWeights, type LoadBackboneOptions } from '@rlr/backbones';
import { imageFromSource, readImageUrl, urlBatches, type AnomalyDataset, type ImageBatch, type ImageSourceLike, type ResizeMode, type RgbImage, type Sample, type TransformGeometry } from '@rlr/data';
import { CategoryEvaluator, imageMetrics, summarizeCategories, type CategoryMetrics, type EvaluationReport, type ImageMetrics } from '@rlr/metrics';
import { isKnn, loadDetectorModel, saveDetectorModel, type DetectorModel } from './detector-model.js';
import { EngineError } from './engine-error.js';
import { excludePadding } from './padding-scores.js';
import { POST_PROCESSOR_FILE, PostProcessor, type QuantileOptions } from './post-processor.js';

/** Tiling of the input (`--tile`): images are cut into model-sized tiles instead of being resized. */
export interface TileGeometry {
  /** Tile `[height, width]`: the model's input size. */
  size: [number, number];
  /** Step between tiles `[height, width]`. */
  stride: [number, number];
  /** Factor applied to each image before tiling (1: native resolution). */
  scale: number;
}

/** How images are fed to the backbone: shorter side resized to `resize`, then centre-cropped (or `mode`, or tiles). */
export interface ImageGeometry {
  resize: number;
  /** `[H, W]` crop (the model's input size). */
  crop: [number, number];
  /** `--resize-mode` (unset: `crop`). */
  mode?: ResizeMode;
  /** `--tile`: images are cut into tiles of `crop` size instead of being resized to it. */
  tile?: TileGeometry;
}

/** RGBA pixels as a canvas hands them out (`ImageData`, or any object of that shape). */
export interface ImageDataLike {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/**
 * What `predict` accepts. The browser entry reads URLs, Blobs, canvas sources and `ImageData`;
 * the Node entry adds file paths and encoded bytes (`Buffer`/`Uint8Array`). An `RgbImage`
 * must already be at the detector's crop size.
 */
export type DetectorInput = string | URL | Blob | Uint8Array | ImageDataLike | ImageSourceLike | RgbImage;

/**
 * Turns an input into an RGB image at the detector's geometry, with where the image lies in the
 * crop when the reader knows it (`fit`: the padding is then left out of the score).
 */
export type ImageDecoder = (input: DetectorInput, g: ImageGeometry) => Promise<RgbImage & { geometry?: TransformGeometry }>;

/** Decodes and batches dataset samples at a geometry (Node: files; browser: URLs). */
export type BatchReader = (samples: Sample[], o: { batchSize: number; resize: number; crop: [number, number] }) => AsyncIterable<ImageBatch>;

/** How a detector reads images; the Node entry supplies files and Buffers. */
export interface DetectorIO {
  decode: ImageDecoder;
  batches: BatchReader;
}

/** One image's result (the shape of an anomalib prediction). */
export interface DetectorPrediction {
  /** Raw image score (max of the Gaussian-smoothed map). */
  score: number;
  /** `score` mapped into [0, 1], 0.5 at the threshold; null without a post-processor. */
  normalizedScore: number | null;
  /** 1 anomalous (`score >= threshold`), 0 normal; null without a post-processor. */
  label: 0 | 1 | null;
  /** `[H·W]` raw pixel anomaly map at the crop size, row-major. */
  map: Float32Array;
  /** `[H·W]` 0/1 where `map >= pixelThreshold`; null without a post-processor. */
  mask: Uint8Array | null;
  height: number;
  width: number;
}

/** Per-image results of a batch (host arrays, row-major). */
export interface BatchScores {
  /** `[B]` image scores. */
  scores: Float32Array;
  /** `[B, H, W]` pixel anomaly maps. */
  maps: Float32Array;
  height: number;
  width: number;
}

/** What {@link Detector.evaluate} returns: per category, their mean, and the pooled image metrics. */
export interface DetectorMetrics extends EvaluationReport {
  /**
   * Image metrics over every test image together. Its `threshold` is the F1-max threshold **of the
   * test set** (an oracle figure, for reports only); predictions use the post-processor's.
   */
  pooled: ImageMetrics;
  /** The post-processor's image threshold at evaluation time (null without one). */
  threshold: number | null;
  /** Seconds spent extracting and scoring, and computing the metrics. */
  seconds: { scoring: number; metrics: number };
}

/** Options of {@link Detector.evaluate}. */
export interface EvaluateOptions {
  batchSize?: number;
  /** ROC/PR curve points kept per category (default: none). */
  curvePoints?: number;
  /** Called after each scored batch (progress bars, galleries). */
  onBatch?: (b: ImageBatch, r: BatchScores, category: string) => void | Promise<void>;
  /** How a batch is scored (default: `scoreBatch`); a caller may wrap it, e.g. to check the scores. */
  score?: (b: ImageBatch) => Promise<BatchScores>;
  /** Stops between batches with an `interrupted` {@link EngineError}. */
  signal?: AbortSignal;
}

/** What a detector is made of. */
export interface DetectorParts {
  extractor: FeatureExtractor;
  model: DetectorModel;
  geometry: ImageGeometry;
  postProcessor?: PostProcessor | null;
  io?: DetectorIO;
}

/** Options of {@link Detector.load}. */
export interface DetectorLoadOptions extends LoadBackboneOptions {
  /** Replaces the image readers (the Node entry passes its own). */
  io?: DetectorIO;
}

/** Images as a `[B, H, W, 3]` tensor. */
export function batchTensor(images: Float32Array, batch: number, height: number, width: number): tf.Tensor4D {
  return tf.tensor4d(images, [batch, height, width, 3]);
}

/** The geometry recorded in a model's config.json (`preprocessing`), else the model's input size. */
export function geometryOf(metadata: Record<string, unknown>, imageSize: [number, number]): ImageGeometry {
  const p = metadata.preprocessing as { resize?: number; crop?: number | [number, number]; resizeMode?: ResizeMode; tile?: TileGeometry } | undefined;
  const crop = p?.crop === undefined ? imageSize : typeof p.crop === 'number' ? ([p.crop, p.crop] as [number, number]) : p.crop;
  const mode = p?.resizeMode && p.resizeMode !== 'crop' ? { mode: p.resizeMode } : {};
  return { resize: p?.resize ?? Math.min(crop[0], crop[1]), crop: [crop[0], crop[1]], ...(p?.tile ? { tile: p.tile } : mode) };
}

/** The `preprocessing` entry of a model's config.json: what eval and predict need to feed images alike. */
export function preprocessingRecord(g: ImageGeometry): Record<string, unknown> {
  return { resize: g.resize, crop: g.crop, ...(g.tile ? { tile: g.tile } : { resizeMode: g.mode ?? 'crop' }) };
}

function isRgbImage(x: unknown): x is RgbImage {
  return typeof x === 'object' && x !== null && (x as RgbImage).data instanceof Float32Array && typeof (x as RgbImage).height === 'number';
}

function isImageData(x: unknown): x is ImageDataLike {
  const d = (x as ImageDataLike | null)?.data;
  return typeof x === 'object' && x !== null && (d instanceof Uint8ClampedArray || d instanceof Uint8Array) && typeof (x as ImageDataLike).width === 'number' && d.length === (x as ImageDataLike).width * (x as ImageDataLike).height * 4;
}

/** The browser's readers: URLs and Blobs over fetch/createImageBitmap, canvas sources, ImageData. */
export const browserIO: DetectorIO = {
  decode(input, g) {
    if (isRgbImage(input)) return Promise.resolve(input);
    if (typeof input === 'string' || input instanceof URL) return readImageUrl(String(input), g);
    if (typeof Blob !== 'undefined' && input instanceof Blob) return readImageUrl(input, g);
    if (input instanceof Uint8Array) return readImageUrl(new Blob([input.slice()]), g);
    if (isImageData(input)) {
      const canvas = new OffscreenCanvas(input.width, input.height);
      const ctx = canvas.getContext('2d');
      if (!ctx) return Promise.reject(new Error('predict: no 2-D canvas context to read the ImageData with'));
      ctx.putImageData(new ImageData(Uint8ClampedArray.from(input.data), input.width, input.height), 0, 0);
      return Promise.resolve(imageFromSource(canvas, g));
    }
    return Promise.resolve(imageFromSource(input as ImageSourceLike, g));
  },
  batches: (samples, o) => urlBatches(samples, o),
};

/** A trained anomaly detector; see the module comment. */
export class Detector {
  readonly extractor: FeatureExtractor;
  readonly model: DetectorModel;
  readonly geometry: ImageGeometry;
  /** Thresholds and normalisation; null for a model folder without `postprocessor.json`. */
  postProcessor: PostProcessor | null;
  protected readonly io: DetectorIO;

  constructor(parts: DetectorParts) {
    this.extractor = parts.extractor;
    this.model = parts.model;
    this.geometry = parts.geometry;
    this.postProcessor = parts.postProcessor ?? null;
    this.io = parts.io ?? browserIO;
  }

  /** `'rlr'` or `'knn'`. */
  get kind(): 'rlr' | 'knn' {
    return isKnn(this.model) ? 'knn' : 'rlr';
  }

  /**
   * Load a model folder: a `BlobStore`, or a URL string (read over fetch). The backbone comes
   * from `backbone.safetensors` beside the model, else from the source in config.json; the
   * post-processor from `postprocessor.json` when present.
   */
  static async load(src: string | BlobStore, options: DetectorLoadOptions = {}): Promise<Detector> {
    const store = typeof src === 'string' ? urlStore(src) : src;
    return new Detector(await readParts(store, options, options.io ?? browserIO));
  }

  /**
   * Save as one model folder: `backbone.safetensors` (when its weights cannot be fetched again),
   * `postprocessor.json`, then config.json and the model's weights (config.json last: a folder
   * that has one is complete). `extra` goes into config.json.
   */
  async save(store: BlobStore, extra: Record<string, unknown> = {}): Promise<void> {
    await saveBackboneWeights(store, this.extractor);
    if (this.postProcessor) await store.write(POST_PROCESSOR_FILE, new TextEncoder().encode(`${JSON.stringify(this.postProcessor.toJSON(), null, 2)}\n`));
    await saveDetectorModel(this.model, store, {
      ...extra,
      backbone: this.extractor.toConfig(),
      preprocessing: preprocessingRecord(this.geometry),
    });
  }

  /** Score backbone features (one `[B, h, w, C]` map per level; not disposed). */
  async scoreFeatures(features: tf.Tensor4D[]): Promise<BatchScores> {
    const p = await this.model.predict(features, { batchSize: features[0].shape[0] });
    return { scores: p.scores, maps: p.maps, height: p.size[0], width: p.size[1] };
  }

  /** Extract and score `[B, H, W, 3]` images in [0, 1] at the crop size. */
  async scoreImages(images: Float32Array, batch: number): Promise<BatchScores> {
    const [H, W] = this.geometry.crop;
    if (images.length !== batch * H * W * 3) throw new Error(`scoreImages: ${images.length} values are not ${batch} image(s) of ${H}x${W}x3 (the detector's crop size)`);
    const input = batchTensor(images, batch, H, W);
    const features = this.extractor.extract(input);
    input.dispose();
    try {
      return await this.scoreFeatures(features);
    } finally {
      tf.dispose(features);
    }
  }

  /** Score a decoded batch (e.g. from `batches()` of `@rlr/data/node`). */
  scoreBatch(b: ImageBatch): Promise<BatchScores> {
    // Letterboxed images (`mode: 'fit'`): the padding neither scores nor counts in the image score.
    return this.scoreImages(b.images, b.samples.length).then((r) => excludePadding(r, b.geometries));
  }

  /** Score one image: `{ score, normalizedScore, label, map, mask }`. */
  async predict(input: DetectorInput): Promise<DetectorPrediction> {
    this.refuseTiles('predict', 'score it with Detector of @rlr/engine/node (a file path) or rlr predict');
    const image = await this.io.decode(input, this.geometry);
    const batch: ImageBatch = {
      samples: [{ path: typeof input === 'string' ? input : 'input', category: 'predict', label: 0, defectType: 'unknown' }],
      images: image.data,
      masks: new Uint8Array(image.height * image.width),
      hasMask: [false],
      height: image.height,
      width: image.width,
      ...(image.geometry ? { geometries: [image.geometry] } : {}),
    };
    const r = await this.scoreBatch(batch);
    return this.describe(r.scores[0], r.maps, r.height, r.width);
  }

  /**
   * A detector trained on tiles (`geometry.tile`) scores an image from its stitched tile maps,
   * which whole-image paths here would silently skip: they refuse instead.
   */
  protected refuseTiles(what: string, fix: string): void {
    if (this.geometry.tile) throw new EngineError('usage', `${what}: this detector was trained on tiles (--tile); ${what} here would resize whole images instead`, fix);
  }

  /** A score and its map as a {@link DetectorPrediction} (labels and mask from the post-processor). */
  describe(score: number, map: Float32Array, height: number, width: number): DetectorPrediction {
    const pp = this.postProcessor;
    return {
      score,
      normalizedScore: pp ? pp.normalizeScore(score) : null,
      label: pp ? pp.label(score) : null,
      map,
      mask: pp ? pp.mask(map) : null,
      height,
      width,
    };
  }

  /**
   * Fit (and keep) the post-processor on validation images: normals only (a quantile), or a
   * labelled set with both classes (F1-max). Never pass test images.
   */
  async calibrate(samples: Sample[], o: QuantileOptions & { batchSize?: number } = {}): Promise<PostProcessor> {
    this.refuseTiles('calibrate', 'tiled runs get their thresholds from rlr train (stitched maps of the validation normals)');
    const scores: number[] = [];
    const maps: Float32Array[] = [];
    const masks: Uint8Array[] = [];
    const labels: number[] = [];
    for await (const b of this.io.batches(samples, { batchSize: o.batchSize ?? 8, ...this.geometry })) {
      const r = await this.scoreBatch(b);
      scores.push(...r.scores);
      maps.push(r.maps);
      masks.push(b.masks);
      labels.push(...b.samples.map((s) => s.label));
    }
    this.postProcessor = postProcessorFor(labels, Float32Array.from(scores), concat(maps), Uint8Array.from(masks.flatMap((m) => Array.from(m))), o);
    return this.postProcessor;
  }

  /**
   * Score a test set and compute the metrics: image and pixel AUROC, AP, F1-max and AU-PRO per
   * category, their mean, and the pooled image metrics. Pixel metrics need masks.
   */
  async evaluate(dataset: AnomalyDataset | Sample[], o: EvaluateOptions = {}): Promise<DetectorMetrics> {
    this.refuseTiles('evaluate', 'evaluate it with rlr eval, which scores the stitched tile maps');
    const test = Array.isArray(dataset) ? dataset : dataset.test;
    // Categories in the dataset's order (every one of them), else sorted.
    const order = Array.isArray(dataset) ? [...new Set(test.map((s) => s.category))].sort() : dataset.categories;
    const groups = new Map<string, Sample[]>(order.map((c) => [c, []]));
    for (const s of test) groups.set(s.category, [...(groups.get(s.category) ?? []), s]);
    if (test.length === 0) throw new EngineError('data', 'evaluate: the dataset has no test images', 'evaluate on a dataset with a test split (folder format: --abnormal-dir and --normal-test-dir or a hold-out)');
    const [height, width] = this.geometry.crop;
    const score = o.score ?? ((b: ImageBatch) => this.scoreBatch(b));
    const categories: Record<string, CategoryMetrics> = {};
    const allLabels: number[] = [];
    const allScores: number[] = [];
    let scoring = 0;
    let metrics = 0;
    for (const [category, list] of groups) {
      const withMasks = list.some((s) => s.maskPath !== undefined);
      const ev = new CategoryEvaluator(category, { height, width, ...(o.curvePoints ? { curvePoints: o.curvePoints } : {}) });
      for await (const b of this.io.batches(list, { batchSize: o.batchSize ?? 8, ...this.geometry })) {
        if (o.signal?.aborted) throw new EngineError('interrupted', 'evaluation interrupted; nothing was written', 'rerun rlr eval');
        const ts = performance.now();
        const r = await score(b);
        scoring += (performance.now() - ts) / 1000;
        const labels = Uint8Array.from(b.samples, (s) => s.label);
        const tm = performance.now();
        ev.add({ labels, scores: r.scores, ...(withMasks ? { maps: r.maps, masks: b.masks } : {}) });
        metrics += (performance.now() - tm) / 1000;
        allLabels.push(...labels);
        allScores.push(...r.scores);
        await o.onBatch?.(b, r, category);
      }
      const tm = performance.now();
      try {
        categories[category] = ev.result();
      } catch (e) {
        throw new EngineError('data', `cannot evaluate category "${category}": ${(e as Error).message}`, 'each category needs normal and anomalous test images', { cause: e });
      }
      metrics += (performance.now() - tm) / 1000;
    }
    const summary = summarizeCategories(categories);
    const pooled = imageMetrics(Uint8Array.from(allLabels), Float64Array.from(allScores), { name: 'pooled image scores' });
    return { ...summary, pooled, threshold: this.postProcessor?.imageThreshold ?? null, seconds: { scoring, metrics } };
  }

  /** Release the model and the backbone. */
  dispose(): void {
    this.model.dispose();
    this.extractor.dispose();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The post-processor for validation scores: F1-max when both classes are present, else a quantile
 * of the normals.
 */
export function postProcessorFor(labels: ArrayLike<number>, scores: Float32Array, maps: Float32Array | undefined, masks: Uint8Array | undefined, o: QuantileOptions = {}): PostProcessor {
  const list = Array.from(labels);
  if (list.includes(1) && list.includes(0)) return PostProcessor.fromLabelled({ labels, scores, maps, masks });
  if (list.includes(1)) throw new Error('post-processor: the validation images are all anomalous; add normal validation images');
  return PostProcessor.fromNormals(scores, maps, o);
}

/** Rebuilds the backbone saved with a model (`loadBackboneFromStore` of the browser or the Node entry of `@rlr/backbones`). */
export type BackboneLoader = (store: BlobStore, config: Record<string, unknown> | undefined, options: LoadBackboneOptions) => Promise<FeatureExtractor>;

/** Read the three parts of a model folder. */
export async function readParts(store: BlobStore, options: LoadBackboneOptions, io: DetectorIO, loadBackbone: BackboneLoader = loadBackboneFromStore): Promise<DetectorParts> {
  const model = await loadDetectorModel(store);
  // A loaded model is for scoring: each RLR level computes its reference side once (the cache is
  // keyed on the parameters, so a later change of weights recomputes it).
  if (!isKnn(model)) for (const lv of model.levels) lv.cacheReference = true;
  try {
    const extractor = await loadBackbone(store, model.metadata.backbone as Record<string, unknown> | undefined, options);
    let postProcessor: PostProcessor | null = null;
    if (await store.exists(POST_PROCESSOR_FILE)) {
      const where = `${store.location.replace(/\/$/, '')}/${POST_PROCESSOR_FILE}`;
      let doc: unknown;
      try {
        doc = JSON.parse(new TextDecoder().decode(await store.read(POST_PROCESSOR_FILE)));
      } catch (e) {
        extractor.dispose();
        throw new Error(`${where} is not JSON (${(e as Error).message}): delete it and rerun rlr train, or pass --threshold`, { cause: e });
      }
      try {
        postProcessor = PostProcessor.fromJSON(doc, where);
      } catch (e) {
        extractor.dispose();
        throw e;
      }
    }
    return { extractor, model, geometry: geometryOf(model.metadata, model.spec.imageSize), postProcessor, io };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
