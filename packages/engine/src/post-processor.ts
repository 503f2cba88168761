/**
 * The post-processor of a detector (the job of anomalib's PostProcessor): it turns raw anomaly
 * scores into labels, masks and normalised scores with thresholds that are fitted on
 * **validation** data only, never on the test set, and it is saved with the model
 * (`postprocessor.json`).
 *
 * - Image threshold: from validation normals, the `quantile` (default 0.99) of their image scores,
 *   moved by `sensitivity`; from a labelled validation set, the F1-max threshold of its scores.
 * - Pixel threshold: from validation normals, the same quantile of each normal's largest map
 *   value (so that at that quantile a normal image shows no anomalous pixel), moved the same way;
 *   from labelled masks, the F1-max threshold over their pixels.
 * - Normalisation (min-max around the threshold): `0.5 + (x − threshold) / (max − min)`, clamped
 *   to [0, 1], so 0.5 is the threshold and `min`/`max` are the smallest and largest validation
 *   scores.
 */
import { f1Max } from '@rlr/metrics';

/** File name of the post-processor in a model folder. */
export const POST_PROCESSOR_FILE = 'postprocessor.json';

/** Where the thresholds of a post-processor came from. */
export type ThresholdSource =
  /** A quantile of held-out normal training images (`--val-fraction`). */
  | 'validation-normals'
  /** F1-max on a labelled validation set the user gave. */
  | 'validation-labelled'
  /**
   * A quantile of the training normals themselves (no hold-out): a model scores its own training
   * images lower than unseen normals, so this threshold is biased low (more false alarms).
   */
  | 'training-normals'
  /** Set by hand. */
  | 'manual';

/** One threshold with the score range it normalises over. */
export interface ScoreScale {
  /** Anomalous when `score >= threshold`. */
  threshold: number;
  /** Smallest calibration score (normalises to `0.5 − (threshold − min)/(max − min)`, clamped). */
  min: number;
  /** Largest calibration score. */
  max: number;
}

/** The persisted form (`postprocessor.json`). */
export interface PostProcessorState {
  version: 1;
  source: ThresholdSource;
  image: ScoreScale;
  pixel: ScoreScale | null;
  /** The quantile used for normals-only thresholds. */
  quantile?: number;
  /** The sensitivity used (0.5: none). */
  sensitivity?: number;
  /** How many validation images fitted it. */
  images: number;
}

/** Options of the normals-only fit. */
export interface QuantileOptions {
  /** Quantile of the normal scores that becomes the threshold, in (0, 1]; default 0.99. */
  quantile?: number;
  /**
   * In [0, 1]; default 0.5 (the quantile as it is). Higher flags more images: the threshold moves
   * down by `(sensitivity − 0.5) · (max − min)` of the normal scores; lower moves it up.
   */
  sensitivity?: number;
  /** Recorded as the source; default `validation-normals`. */
  source?: Extract<ThresholdSource, 'validation-normals' | 'training-normals'>;
}

/** Scores of a labelled validation set. */
export interface LabelledScores {
  /** `[n]` 0 normal, 1 anomalous (both present). */
  labels: ArrayLike<number>;
  /** `[n]` image scores. */
  scores: ArrayLike<number>;
  /** Optional pixel data: `[n, H, W]` maps and masks (0/1), row-major. */
  maps?: Float32Array;
  masks?: Uint8Array;
}

export const DEFAULT_QUANTILE = 0.99;
export const DEFAULT_SENSITIVITY = 0.5;

/**
 * The `q`-quantile of `values` with linear interpolation between order statistics (NumPy's
 * default): position `q · (n − 1)` in the sorted values.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('quantile of no values: fit the post-processor on at least one validation image');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} is outside [0, 1]: use e.g. 0.99`);
  const sorted = Float64Array.from(values).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

function range(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Error(`validation score ${v} is not finite: the model's weights are damaged`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function quantileScale(values: ArrayLike<number>, q: number, sensitivity: number): ScoreScale {
  const { min, max } = range(values);
  const threshold = quantile(values, q) - (sensitivity - 0.5) * (max - min);
  return { threshold, min, max };
}

/** The largest value of each of the `n` maps of `maps` (`[n, px]`). */
function mapMaxima(maps: Float32Array, n: number): Float64Array {
  const px = maps.length / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = i * px; j < (i + 1) * px; j++) if (maps[j] > m) m = maps[j];
    out[i] = m;
  }
  return out;
}

/** Turns raw scores into labels, masks and normalised scores; see the module comment. */
export class PostProcessor {
  constructor(readonly state: PostProcessorState) {}

  /**
   * Fit on the scores of normal validation images (no anomalies needed).
   * @param scores `[n]` image scores of the normals
   * @param maps optional `[n, H, W]` pixel maps of the same images (for the pixel threshold)
   */
  static fromNormals(scores: ArrayLike<number>, maps?: Float32Array, o: QuantileOptions = {}): PostProcessor {
    const q = o.quantile ?? DEFAULT_QUANTILE;
    const s = o.sensitivity ?? DEFAULT_SENSITIVITY;
    if (!(q > 0 && q <= 1)) throw new Error(`post-processor quantile ${q} must be in (0, 1] (e.g. 0.99)`);
    if (!(s >= 0 && s <= 1)) throw new Error(`post-processor sensitivity ${s} must be in [0, 1] (0.5 leaves the quantile as it is)`);
    const n = scores.length;
    return new PostProcessor({
      version: 1,
      source: o.source ?? 'validation-normals',
      image: quantileScale(scores, q, s),
      pixel: maps && n > 0 ? quantileScale(mapMaxima(maps, n), q, s) : null,
      quantile: q,
      sensitivity: s,
      images: n,
    });
  }

  /** Fit on a labelled validation set: F1-max thresholds (image, and pixel when masks are given). */
  static fromLabelled(v: LabelledScores): PostProcessor {
    const labels = Uint8Array.from(v.labels);
    const scores = Float64Array.from(v.scores);
    const image = { threshold: f1Max(labels, scores).threshold, ...range(scores) };
    let pixel: ScoreScale | null = null;
    if (v.maps && v.masks && v.masks.some((m) => m > 0)) {
      pixel = { threshold: f1Max(v.masks, v.maps).threshold, ...range(v.maps) };
    }
    return new PostProcessor({ version: 1, source: 'validation-labelled', image, pixel, images: labels.length });
  }

  /** A post-processor with fixed thresholds (e.g. `--threshold`); scores normalise over `[0, 2·threshold]`. */
  static manual(imageThreshold: number, pixelThreshold = imageThreshold): PostProcessor {
    const scale = (t: number): ScoreScale => ({ threshold: t, min: Math.min(0, t), max: Math.max(2 * t, t + 1e-12) });
    return new PostProcessor({ version: 1, source: 'manual', image: scale(imageThreshold), pixel: scale(pixelThreshold), images: 0 });
  }

  /** Read `postprocessor.json` (as parsed JSON); errors name `where`. */
  static fromJSON(doc: unknown, where = POST_PROCESSOR_FILE): PostProcessor {
    const d = doc as Partial<PostProcessorState> | null;
    const ok = (s: unknown): s is ScoreScale => {
      const x = s as Partial<ScoreScale> | null;
      return !!x && [x.threshold, x.min, x.max].every((v) => typeof v === 'number' && Number.isFinite(v));
    };
    if (!d || d.version !== 1 || !ok(d.image) || (d.pixel !== null && d.pixel !== undefined && !ok(d.pixel))) {
      throw new Error(`${where} is not a post-processor file (version 1 with finite image.threshold/min/max): delete it and rerun rlr train, or pass --threshold`);
    }
    return new PostProcessor({ ...(d as PostProcessorState), pixel: d.pixel ?? null });
  }

  /** The persisted form. */
  toJSON(): PostProcessorState {
    return this.state;
  }

  get imageThreshold(): number {
    return this.state.image.threshold;
  }

  /** The pixel threshold (the image threshold when none was fitted). */
  get pixelThreshold(): number {
    return (this.state.pixel ?? this.state.image).threshold;
  }

  /** 1 when `score >= imageThreshold`. */
  label(score: number): 0 | 1 {
    return score >= this.state.image.threshold ? 1 : 0;
  }

  /** An image score mapped into [0, 1], 0.5 at the image threshold. */
  normalizeScore(score: number): number {
    return normalize(score, this.state.image);
  }

  /** A pixel map mapped into [0, 1], 0.5 at the pixel threshold (a new array). */
  normalizeMap(map: Float32Array): Float32Array {
    const s = this.state.pixel ?? this.state.image;
    return map.map((v) => normalize(v, s));
  }

  /** `[H·W]` 0/1: pixels with `map >= pixelThreshold`. */
  mask(map: Float32Array): Uint8Array {
    const t = this.pixelThreshold;
    return Uint8Array.from(map, (v) => (v >= t ? 1 : 0));
  }
}

function normalize(x: number, s: ScoreScale): number {
  const span = s.max - s.min;
  const v = span > 0 ? 0.5 + (x - s.threshold) / span : x > s.threshold ? 1 : x < s.threshold ? 0 : 0.5;
  return Math.min(1, Math.max(0, v));
}
