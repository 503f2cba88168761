import type { PaperComparison } from './paper-results.js';

/**
 * The `metrics.json` document `rlr eval` writes: per-category and mean image/pixel metrics with
 * snake_case keys (the published schema), plus the model description and timings.
 */

/** Image-level metrics; `threshold` is the score at which F1 is maximal on the test set (an oracle figure: predict uses the post-processor's). */
export interface ImageMetrics {
  auroc: number;
  ap: number;
  f1_max: number;
  threshold: number;
}

/** Pixel-level metrics (need ground-truth masks). */
export interface PixelMetrics {
  auroc: number;
  ap: number;
  f1_max: number;
  aupro: number;
}

export interface CategoryMetrics {
  image: ImageMetrics;
  /** null where the category has no masks. */
  pixel: PixelMetrics | null;
  counts: { normal: number; anomalous: number };
}

export interface MetricsReport {
  categories: Record<string, CategoryMetrics>;
  /** Unweighted means over categories (pixel: over categories with masks; null when none has). */
  mean: { image: Omit<ImageMetrics, 'threshold'>; pixel: Omit<PixelMetrics, never> | null };
  /** All test images pooled (its threshold: test-set F1-max, an oracle figure; `rlr predict` uses model/postprocessor.json). */
  pooled: { image: ImageMetrics; counts: { normal: number; anomalous: number } };
  /** What was evaluated: backbone, preset, image size, run directory, weights source. */
  model: Record<string, unknown>;
  /** The test data: where it was read from, its format and categories, and the test images counted. */
  data?: { root: string; format: string; categories: string[]; test_images: number; skipped: number };
  /** Seconds per phase and throughput. */
  timing: Record<string, number>;
  /**
   * On MVTec AD or VisA: each evaluated category's image and pixel AUROC beside the paper's, in
   * percent, with the difference (see `paper-results.ts`). Absent for other datasets.
   */
  paper?: PaperComparison;
}

const IMAGE_KEYS = ['auroc', 'ap', 'f1_max'] as const;
const PIXEL_KEYS = ['auroc', 'ap', 'f1_max', 'aupro'] as const;

function checkUnit(problems: string[], where: string, obj: unknown, keys: readonly string[]): void {
  if (obj === null || typeof obj !== 'object') {
    problems.push(`${where} is not an object`);
    return;
  }
  for (const k of keys) {
    const v = (obj as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) problems.push(`${where}.${k} = ${JSON.stringify(v)} is not a number in [0, 1]`);
  }
}

/**
 * Check a parsed `metrics.json` against the schema. Returns the problems found (empty when
 * valid); `rlr predict` uses it before trusting a report's threshold, the tests use it on every
 * report the binary writes.
 */
export function validateMetricsReport(doc: unknown): string[] {
  const p: string[] = [];
  if (doc === null || typeof doc !== 'object') return ['the document is not an object'];
  const d = doc as Record<string, unknown>;
  const cats = d.categories;
  if (cats === null || typeof cats !== 'object' || Object.keys(cats).length === 0) {
    p.push('categories is missing or empty');
  } else {
    for (const [name, c] of Object.entries(cats as Record<string, unknown>)) {
      const cat = c as Record<string, unknown>;
      checkUnit(p, `categories.${name}.image`, cat?.image, IMAGE_KEYS);
      const thr = (cat?.image as Record<string, unknown> | undefined)?.threshold;
      if (typeof thr !== 'number' || !Number.isFinite(thr)) p.push(`categories.${name}.image.threshold is not a finite number`);
      if (cat?.pixel !== null) checkUnit(p, `categories.${name}.pixel`, cat?.pixel, PIXEL_KEYS);
      const counts = cat?.counts as Record<string, unknown> | undefined;
      if (!counts || !Number.isInteger(counts.normal) || !Number.isInteger(counts.anomalous)) p.push(`categories.${name}.counts must hold integer normal and anomalous`);
    }
  }
  const mean = d.mean as Record<string, unknown> | undefined;
  if (!mean) p.push('mean is missing');
  else {
    checkUnit(p, 'mean.image', mean.image, IMAGE_KEYS);
    if (mean.pixel !== null) checkUnit(p, 'mean.pixel', mean.pixel, PIXEL_KEYS);
  }
  for (const k of ['model', 'timing']) if (d[k] === null || typeof d[k] !== 'object') p.push(`${k} is missing`);
  return p;
}
