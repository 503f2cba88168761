import { AuProAccumulator } from './au-pro.js';
import { AurocAccumulator } from './auroc.js';
import { AveragePrecisionAccumulator } from './average-precision.js';
import { ChunkedUint32 } from './chunked-uint32.js';
import { ComponentLabeler, type Connectivity } from './connected-components.js';
import { CurveSampler } from './curve-sampler.js';
import { F1MaxAccumulator } from './f1-max.js';
import { keyFromBits, NON_FINITE_BITS } from './float-key.js';
import { checkFprLimit, checkPositiveInteger, nonFiniteScore } from './input-checks.js';
import type { Curves } from './curves.js';
import { prFromSampler } from './pr-curve.js';
import { rocFromSampler } from './roc-curve.js';
import { KeyCollector } from './score-set.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/** Geometry and settings of a pixel-level evaluation set. */
export interface PixelSetOptions {
  /** Height H of every map and mask. */
  height: number;
  /** Width W of every map and mask. */
  width: number;
  /** AU-PRO integration limit on the false-positive rate (default 0.3, the MVTec AD protocol). */
  fprLimit?: number;
  /** Region connectivity for AU-PRO (default 8, the MVTec AD protocol). */
  connectivity?: Connectivity;
  /** Names the set in error messages, e.g. `category "bottle" pixel maps`. */
  name?: string;
}

/** Pixel-level metrics of one evaluation set. */
export interface PixelMetrics {
  /** Pixel AUROC (scikit-learn `roc_auc_score` over all pixels). */
  auroc: number;
  /** Pixel average precision (scikit-learn `average_precision_score`). */
  ap: number;
  /** Largest pixel F1 over all thresholds. */
  f1Max: number;
  /** The map value reaching `f1Max`: a pixel is anomalous when `map >= threshold`. */
  threshold: number;
  /** Normalised area under the PRO curve up to `fprLimit` (MVTec AD protocol). */
  aupro: number;
}

/** Options of {@link PixelMetricsAccumulator.compute}. */
export interface PixelComputeOptions {
  /** Also return ROC and PR curves thinned to at most this many points (>= 2). */
  curvePoints?: number;
}

/** {@link PixelMetrics} with the curves requested by `curvePoints`. */
export interface PixelMetricsWithCurves extends PixelMetrics {
  /** Present when `curvePoints` was given. */
  curves?: Curves;
}

/**
 * Pixel-level AUROC, AP, F1-max and AU-PRO of a set of anomaly maps and ground-truth masks, fed
 * one batch at a time, computed exactly from one bucketing of the values (a partial sort, see
 * `key-buckets.ts`) and one pass over the distinct values.
 *
 * Memory: `add` keeps no reference to the caller's arrays — each pixel becomes a 4-byte sort
 * key (plus a 4-byte region index for anomalous pixels), so the caller may drop each batch once
 * added. The first `compute` regroups them into 2 bytes per normal and 6 per anomalous pixel
 * (peak: both at once, 6 and 14 bytes), which stay for repeated `compute` calls until the
 * accumulator is dropped. 1e8 pixels: ~0.4 GB while adding, ~0.6 GB at the peak, ~0.2 GB after.
 *
 * Maps are evaluated at float32 precision (a `Float32Array` is read as is; other arrays are
 * rounded to float32, which can merge values closer than float32 resolution).
 *
 * @example
 * ```ts
 * const acc = new PixelMetricsAccumulator({ height: 256, width: 256 });
 * for await (const batch of batches) acc.add(batch.maps, batch.masks); // [B, H, W] each
 * const { auroc, ap, f1Max, threshold, aupro } = acc.compute();
 * ```
 */
export class PixelMetricsAccumulator {
  private readonly name: string;
  private readonly fprLimit: number;
  private readonly pixelsPerImage: number;
  private readonly labeler: ComponentLabeler;
  private collector: KeyCollector | undefined = new KeyCollector(true);
  private readonly regionSizes = new ChunkedUint32();
  private set: ScoreSet | undefined;
  private scratch: Float32Array | undefined;
  private imageCount = 0;
  private regionCount = 0;
  private failed = false;

  constructor(options: PixelSetOptions) {
    this.name = options.name ?? 'pixel metrics';
    checkPositiveInteger(this.name, 'height', options.height);
    checkPositiveInteger(this.name, 'width', options.width);
    this.fprLimit = options.fprLimit ?? 0.3;
    checkFprLimit(this.name, this.fprLimit);
    this.pixelsPerImage = options.height * options.width;
    this.labeler = new ComponentLabeler(options.height, options.width, options.connectivity ?? 8);
  }

  /** Images added so far. */
  get images(): number {
    return this.imageCount;
  }

  /** Ground-truth regions found so far (over all images). */
  get regions(): number {
    return this.regionCount;
  }

  /** Normal (mask 0) pixels added so far. */
  get normalPixels(): number {
    return this.set ? this.set.negatives : (this.collector?.negatives.length ?? 0);
  }

  /** Anomalous (mask 1) pixels added so far. */
  get anomalousPixels(): number {
    return this.set ? this.set.positives : (this.collector?.positives.length ?? 0);
  }

  /**
   * Adds a batch of images.
   *
   * @param maps - `[B, H, W]` anomaly maps, finite values, higher = more anomalous
   * @param masks - `[B, H, W]` ground truth, 0 (normal) or 1 (anomalous); all zeros for normal
   *   images
   * @throws on a size mismatch, a NaN/infinite map value or a mask value other than 0/1 (naming
   *   the image and pixel), or after {@link compute}.
   */
  add(maps: Float32Array | ArrayLike<number>, masks: Uint8Array | ArrayLike<number>): this {
    if (this.failed) {
      throw new Error(`${this.name}: a previous add() failed and left this accumulator incomplete; start a new PixelMetricsAccumulator`);
    }
    const collector = this.collector;
    if (!collector) {
      throw new Error(`${this.name}: add() after compute(); create a new PixelMetricsAccumulator for more images`);
    }
    const { height, width } = this.labeler;
    const hw = this.pixelsPerImage;
    if (maps.length !== masks.length) {
      throw new Error(`${this.name}: maps have ${maps.length} values but masks ${masks.length}; pass one mask pixel per map pixel ([B, H, W] each)`);
    }
    if (maps.length % hw !== 0) {
      throw new Error(`${this.name}: ${maps.length} map values is not a whole number of ${height} x ${width} images; check height and width`);
    }
    try {
      this.addImages(collector, maps, masks);
    } catch (e) {
      this.failed = true; // images before the bad one are already in: the set is no longer whole
      throw e;
    }
    return this;
  }

  private addImages(
    collector: KeyCollector,
    maps: Float32Array | ArrayLike<number>,
    masks: Uint8Array | ArrayLike<number>,
  ): void {
    const hw = this.pixelsPerImage;
    const batch = maps.length / hw;
    let bits: Uint32Array;
    if (maps instanceof Float32Array) {
      bits = new Uint32Array(maps.buffer, maps.byteOffset, maps.length);
    } else {
      this.scratch ??= new Float32Array(hw);
      bits = new Uint32Array(this.scratch.buffer);
    }
    for (let b = 0; b < batch; b++) {
      const base = b * hw;
      let at = base;
      if (!(maps instanceof Float32Array)) {
        const f = this.scratch as Float32Array;
        for (let p = 0; p < hw; p++) f[p] = maps[base + p];
        at = 0;
      }
      const count = this.labeler.label(masks, base);
      for (let k = 0; k < count; k++) this.regionSizes.push(this.labeler.sizes[k]);
      // No region means an all-zero mask (the labeler takes any non-zero value as foreground),
      // so most images (the normal ones) skip the per-pixel mask test.
      const bad = count === 0 ? addNormalImage(collector, bits, at, hw) : this.addMaskedImage(collector, bits, at, masks, base);
      if (bad >= 0) {
        const m = masks[base + bad];
        if (m !== 0 && m !== 1) {
          throw new Error(
            `${this.name}: mask value ${String(m)} at ${this.where(bad)}; masks must be 0 or 1 — binarise with mask > 0`,
          );
        }
        throw nonFiniteScore(this.name, `at ${this.where(bad)}`, maps[base + bad]);
      }
      this.regionCount += count;
      this.imageCount++;
    }
  }

  /**
   * Keys of an image with defects, split by its mask, anomalous ones tagged with their global
   * region index. Returns the first bad pixel (non-finite value or mask not 0/1), or -1.
   */
  private addMaskedImage(
    collector: KeyCollector,
    bits: Uint32Array,
    at: number,
    masks: Uint8Array | ArrayLike<number>,
    base: number,
  ): number {
    const neg = collector.negatives;
    const pos = collector.positives;
    const reg = collector.regions as ChunkedUint32;
    const labels = this.labeler.labels;
    const firstRegion = this.regionCount - 1; // label k (1-based) -> region firstRegion + k
    for (let p = 0; p < this.pixelsPerImage; p++) {
      const x = bits[at + p];
      if ((x & NON_FINITE_BITS) === NON_FINITE_BITS) return p;
      const m = masks[base + p];
      if (m === 0) neg.push(keyFromBits(x));
      else if (m === 1) {
        pos.push(keyFromBits(x));
        reg.push(firstRegion + labels[p]);
      } else return p;
    }
    return -1;
  }

  /**
   * Sorts (once) and computes every pixel metric in one pass over the distinct map values. Can
   * be called again (e.g. for curves) without sorting again; `add` is closed afterwards.
   *
   * @throws when no pixel is anomalous (empty masks) or none is normal: the metrics are
   *   undefined then.
   */
  compute(options: PixelComputeOptions = {}): PixelMetricsWithCurves {
    const set = this.scoreSet();
    const n = set.negatives;
    const p = set.positives;
    const aurocAcc = new AurocAccumulator();
    const apAcc = new AveragePrecisionAccumulator();
    const f1Acc = new F1MaxAccumulator(p);
    const proAcc = new AuProAccumulator(n, this.regionCount, this.fprLimit);
    const sampler = options.curvePoints === undefined ? undefined : new CurveSampler(n, p, options.curvePoints);
    set.sweep(new AllPixelMetrics(aurocAcc, apAcc, f1Acc, proAcc, sampler));
    const f1 = f1Acc.value();
    const result: PixelMetricsWithCurves = {
      auroc: aurocAcc.value(),
      ap: apAcc.value(),
      f1Max: f1.f1,
      threshold: f1.threshold,
      aupro: proAcc.value(),
    };
    if (sampler) result.curves = { roc: rocFromSampler(sampler), pr: prFromSampler(sampler) };
    return result;
  }

  /** AU-PRO alone (sorts once, like {@link compute}). */
  auPro(): number {
    const set = this.scoreSet();
    const acc = new AuProAccumulator(set.negatives, this.regionCount, this.fprLimit);
    set.sweep(acc);
    return acc.value();
  }

  /** Groups the collected keys (once; this closes `add`), after checking both classes exist. */
  private scoreSet(): ScoreSet {
    if (this.set) return this.set;
    if (this.failed) {
      throw new Error(`${this.name}: a previous add() failed, so the set is incomplete; start a new PixelMetricsAccumulator`);
    }
    const n = this.normalPixels;
    const p = this.anomalousPixels;
    if (this.imageCount === 0) {
      throw new Error(`${this.name}: no images were added; pixel metrics need maps and masks`);
    }
    if (p === 0) {
      throw new Error(
        `${this.name}: the masks of all ${this.imageCount} images are empty (no anomalous pixel); ` +
          'pixel AUROC, AP, F1-max and AU-PRO are undefined — check that the ground-truth masks were loaded, ' +
          'or leave maps/masks out to skip pixel metrics',
      );
    }
    if (n === 0) {
      throw new Error(
        `${this.name}: every pixel of the ${this.imageCount} masks is anomalous (no normal pixel); ` +
          'pixel metrics are undefined — check the masks (inverted?) or add normal images',
      );
    }
    const collector = this.collector as KeyCollector;
    this.collector = undefined;
    const sizes = this.regionSizes.take();
    const weights = new Float64Array(this.regionCount);
    let r = 0;
    for (const chunk of sizes) for (let i = 0; i < chunk.length; i++) weights[r++] = 1 / chunk[i];
    this.set = collector.toScoreSet(weights);
    this.scratch = undefined;
    return this.set;
  }

  /** Where pixel `pixel` of the image being added is, for messages. */
  private where(pixel: number): string {
    const w = this.labeler.width;
    return `image ${this.imageCount} (0-based, in order added), row ${Math.floor(pixel / w)}, column ${pixel % w}`;
  }
}

/**
 * Keys of an image without defects, written straight into the chunk (a local index, no call per
 * pixel: this loop sees ~97% of all pixels). Returns the first non-finite pixel, or -1.
 */
function addNormalImage(collector: KeyCollector, bits: Uint32Array, at: number, hw: number): number {
  const neg = collector.negatives;
  let chunk = neg.chunk;
  let used = neg.used;
  for (let p = 0; p < hw; p++) {
    const x = bits[at + p];
    if ((x & NON_FINITE_BITS) === NON_FINITE_BITS) {
      neg.commit(used);
      return p;
    }
    if (used === chunk.length) {
      chunk = neg.next();
      used = 0;
    }
    chunk[used++] = keyFromBits(x);
  }
  neg.commit(used);
  return -1;
}

/** Feeds one sweep to every pixel metric (one pass over up to 1e8 distinct values). */
class AllPixelMetrics implements ThresholdVisitor {
  constructor(
    private readonly aurocAcc: AurocAccumulator,
    private readonly apAcc: AveragePrecisionAccumulator,
    private readonly f1Acc: F1MaxAccumulator,
    private readonly proAcc: AuProAccumulator,
    private readonly sampler: CurveSampler | undefined,
  ) {}

  visit(fp: number, tp: number, overlap: number, threshold: number): void {
    this.aurocAcc.visit(fp, tp);
    this.apAcc.visit(fp, tp);
    this.f1Acc.visit(fp, tp, overlap, threshold);
    this.proAcc.visit(fp, tp, overlap);
    this.sampler?.visit(fp, tp, overlap, threshold);
  }
}

/**
 * Pixel AUROC, AP, F1-max (with its threshold) and AU-PRO of `maps` against `masks`, from one
 * partial sort. Needs at most ~6 bytes per pixel besides the inputs (see
 * {@link PixelMetricsAccumulator}, which also accepts the set batch by batch).
 *
 * @param maps - `[B, H, W]` anomaly maps (Float32Array preferred)
 * @param masks - `[B, H, W]` 0/1 ground truth
 *
 * @example
 * ```ts
 * const m = pixelMetrics(maps, masks, { height: 256, width: 256 });
 * console.log(m.auroc, m.aupro);
 * ```
 */
export function pixelMetrics(
  maps: Float32Array | ArrayLike<number>,
  masks: Uint8Array | ArrayLike<number>,
  options: PixelSetOptions,
): PixelMetrics {
  return new PixelMetricsAccumulator(options).add(maps, masks).compute();
}

/**
 * AU-PRO of `maps` against `masks` by the MVTec AD protocol: the 8-connected regions of each
 * image's mask, per-region overlap averaged over all regions of the set, false-positive rate
 * over all normal pixels of the set, every distinct map value as a threshold, trapezoid area up
 * to `fprLimit` (interpolated there), divided by `fprLimit`.
 *
 * @param maps - `[B, H, W]` anomaly maps
 * @param masks - `[B, H, W]` 0/1 ground truth
 * @param options - `height`, `width` and `fprLimit` (default 0.3)
 * @returns a number in [0, 1]
 * @throws when masks are all empty or all anomalous, on shape mismatch, non-finite maps or mask
 *   values other than 0/1.
 *
 * @example
 * ```ts
 * auPro(maps, masks, { height: 256, width: 256, fprLimit: 0.3 });
 * ```
 */
export function auPro(
  maps: Float32Array | ArrayLike<number>,
  masks: Uint8Array | ArrayLike<number>,
  options: PixelSetOptions,
): number {
  return new PixelMetricsAccumulator({ name: 'auPro', ...options }).add(maps, masks).auPro();
}
