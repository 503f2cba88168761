import type { Connectivity } from './connected-components.js';
import { imageMetrics, type ImageMetrics } from './image-metrics.js';
import { badLabel, checkSameLength, nonFiniteScore, type LabelArray, type ScoreArray } from './input-checks.js';
import { PixelMetricsAccumulator, type PixelMetrics } from './pixel-metrics.js';
import type { Curves } from './curves.js';

/** One batch of test images of a category. */
export interface CategoryBatch {
  /** `[B]` image labels: 0 normal, 1 anomalous. */
  labels: LabelArray;
  /** `[B]` image anomaly scores, higher = more anomalous. */
  scores: ScoreArray;
  /** `[B, H, W]` pixel anomaly maps; ignored without `masks`. */
  maps?: Float32Array | ArrayLike<number>;
  /** `[B, H, W]` 0/1 ground-truth masks (all zeros for normal images); enables pixel metrics. */
  masks?: Uint8Array | ArrayLike<number>;
}

/** Settings of a category's evaluation. */
export interface CategoryOptions {
  /** Height H of maps and masks (required when masks are given). */
  height?: number;
  /** Width W of maps and masks (required when masks are given). */
  width?: number;
  /** AU-PRO integration limit (default 0.3). */
  fprLimit?: number;
  /** AU-PRO region connectivity (default 8). */
  connectivity?: Connectivity;
  /** Also return ROC and PR curves with at most this many points each (>= 2), for reports. */
  curvePoints?: number;
}

/** The metrics of one category. */
export interface CategoryMetrics {
  /** Image-level metrics from the image scores. */
  image: ImageMetrics;
  /** Pixel-level metrics from maps and masks; null when the category had no masks. */
  pixel: PixelMetrics | null;
  /** Number of test images of each class. */
  counts: ImageCounts;
  /** Thinned curves, present when `curvePoints` was set. */
  curves?: CategoryCurves;
}

/** Test images of each class in a category. */
export interface ImageCounts {
  /** Images labelled 0. */
  normal: number;
  /** Images labelled 1. */
  anomalous: number;
}

/** A category's thinned curves, for reports. */
export interface CategoryCurves {
  /** Curves of the image scores. */
  image: Curves;
  /** Curves of the pixel maps; null when the category had no masks. */
  pixel: Curves | null;
}

/**
 * Evaluates one category from batches, so that a CLI can score the test set batch by batch and
 * drop each batch after `add`.
 *
 * Memory: image labels and scores are kept (9 bytes per image). Pixel data is reduced on `add`
 * to sort keys — 4 bytes per normal pixel, 8 per anomalous pixel — and at most 6 / 14 bytes
 * while `result` groups them; the caller's maps and masks are never retained. The MVTec AD
 * category with the most test images (screw, 160 images at 256 x 256) holds ~42 MB, ~63 MB at
 * the peak.
 *
 * @example
 * ```ts
 * const ev = new CategoryEvaluator('bottle', { height: 256, width: 256 });
 * for await (const b of batches) ev.add({ labels: b.labels, scores: b.scores, maps: b.maps, masks: b.masks });
 * const { image, pixel, counts } = ev.result();
 * ```
 */
export class CategoryEvaluator {
  private labels = new Uint8Array(64);
  private scores = new Float64Array(64);
  private count = 0;
  private batches = 0;
  private pixels: PixelMetricsAccumulator | undefined;
  private sawBatchWithoutMasks = false;

  constructor(
    /** The category name, used in results and error messages. */
    readonly category: string,
    private readonly options: CategoryOptions = {},
  ) {
    if (typeof category !== 'string' || category === '') {
      throw new Error(`CategoryEvaluator: category must be a non-empty string, got ${JSON.stringify(category)}`);
    }
  }

  /**
   * Adds a batch of images.
   *
   * @throws naming the category and batch on inconsistent lengths, bad labels, non-finite
   *   scores, bad mask values, or when some batches have masks and others do not.
   */
  add(batch: CategoryBatch): this {
    const where = `category "${this.category}" batch ${this.batches}`;
    const { labels, scores, maps, masks } = batch;
    checkSameLength(`${where} image labels/scores`, labels, scores);
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i];
      if (label !== 0 && label !== 1) throw badLabel(`${where} image labels`, i, label);
      if (!Number.isFinite(scores[i])) throw nonFiniteScore(`${where} image scores`, `at index ${i}`, scores[i]);
    }
    if (masks !== undefined) {
      if (this.sawBatchWithoutMasks) throw this.mixedMasks(where);
      if (maps === undefined) {
        throw new Error(`${where}: masks were given without maps; pass the pixel anomaly maps with the masks, or neither`);
      }
      const pixels = (this.pixels ??= this.createPixelAccumulator());
      const perImage = (this.options.height as number) * (this.options.width as number);
      if (maps.length !== labels.length * perImage || masks.length !== labels.length * perImage) {
        throw new Error(
          `${where}: ${labels.length} images need ${labels.length * perImage} map and mask values ` +
            `(${this.options.height} x ${this.options.width} each), got ${maps.length} and ${masks.length}`,
        );
      }
      pixels.add(maps, masks);
    } else {
      if (this.pixels) throw this.mixedMasks(where);
      this.sawBatchWithoutMasks = true;
    }
    this.append(labels, scores);
    this.batches++;
    return this;
  }

  /**
   * Computes the category's metrics (the pixel sort happens here, once).
   *
   * @throws naming the category when no image was added, when one image class is absent (AUROC
   *   undefined), or when masks were given but are all empty.
   */
  result(): CategoryMetrics {
    if (this.count === 0) {
      throw new Error(`category "${this.category}": no test images were added; evaluate it with at least one normal and one anomalous image`);
    }
    const labels = this.labels.subarray(0, this.count);
    const scores = this.scores.subarray(0, this.count);
    const { curvePoints } = this.options;
    const image = imageMetrics(labels, scores, { name: `category "${this.category}" image scores`, curvePoints });
    let anomalous = 0;
    for (let i = 0; i < labels.length; i++) anomalous += labels[i];
    const pixel = this.pixels?.compute({ curvePoints }) ?? null;
    const out: CategoryMetrics = {
      image: { auroc: image.auroc, ap: image.ap, f1Max: image.f1Max, threshold: image.threshold },
      pixel: pixel && {
        auroc: pixel.auroc,
        ap: pixel.ap,
        f1Max: pixel.f1Max,
        threshold: pixel.threshold,
        aupro: pixel.aupro,
      },
      counts: { normal: this.count - anomalous, anomalous },
    };
    if (image.curves) out.curves = { image: image.curves, pixel: pixel?.curves ?? null };
    return out;
  }

  private createPixelAccumulator(): PixelMetricsAccumulator {
    const { height, width, fprLimit, connectivity } = this.options;
    if (height === undefined || width === undefined) {
      throw new Error(`category "${this.category}": masks were given but not height and width; pass the map size (e.g. { height: 256, width: 256 })`);
    }
    return new PixelMetricsAccumulator({
      height,
      width,
      fprLimit,
      connectivity,
      name: `category "${this.category}" pixel maps`,
    });
  }

  private mixedMasks(where: string): Error {
    return new Error(
      `${where}: some batches have masks and others do not; pass masks for every batch (all zeros for normal images) or for none`,
    );
  }

  private append(labels: LabelArray, scores: ScoreArray): void {
    const need = this.count + labels.length;
    if (need > this.labels.length) {
      const cap = Math.max(need, this.labels.length * 2);
      const l = new Uint8Array(cap);
      l.set(this.labels.subarray(0, this.count));
      const s = new Float64Array(cap);
      s.set(this.scores.subarray(0, this.count));
      this.labels = l;
      this.scores = s;
    }
    for (let i = 0; i < labels.length; i++) {
      this.labels[this.count + i] = labels[i]; // validated 0/1 by add
      this.scores[this.count + i] = scores[i];
    }
    this.count = need;
  }
}
