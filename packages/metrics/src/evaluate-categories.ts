import { CategoryEvaluator, type CategoryMetrics, type CategoryOptions } from './category-evaluator.js';

/** The test set of one category, whole. */
export interface CategoryInput {
  /** Category name (unique within one evaluation). */
  category: string;
  /** `[B]` image labels: 0 normal, 1 anomalous. */
  labels: ArrayLike<number>;
  /** `[B]` image anomaly scores. */
  scores: ArrayLike<number>;
  /** `[B, H, W]` pixel anomaly maps; ignored without `masks`. */
  maps?: Float32Array | ArrayLike<number>;
  /** `[B, H, W]` 0/1 ground-truth masks; without them the category's `pixel` result is null. */
  masks?: Uint8Array | ArrayLike<number>;
  /** Map height H (required with masks). */
  height?: number;
  /** Map width W (required with masks). */
  width?: number;
}

/** Settings of {@link evaluateCategories}. */
export type EvaluateOptions = Pick<CategoryOptions, 'fprLimit' | 'connectivity' | 'curvePoints'>;

/** Image-level means over categories. */
export interface MeanImageMetrics {
  /** Mean image AUROC. */
  auroc: number;
  /** Mean image average precision. */
  ap: number;
  /** Mean image F1-max (each category at its own best threshold). */
  f1Max: number;
}

/** Pixel-level means over categories. */
export interface MeanPixelMetrics {
  /** Mean pixel AUROC. */
  auroc: number;
  /** Mean pixel average precision. */
  ap: number;
  /** Mean pixel F1-max (each category at its own best threshold). */
  f1Max: number;
  /** Mean AU-PRO. */
  aupro: number;
}

/** Per-category metrics and their unweighted means (the unified multi-class protocol). */
export interface EvaluationReport {
  /** Metrics per category, in the order the categories were given. */
  categories: Record<string, CategoryMetrics>;
  /** Unweighted means over the categories. */
  mean: {
    /** Mean over all categories of the image metrics. */
    image: MeanImageMetrics;
    /**
     * Mean over all categories of the pixel metrics; null unless every category has pixel
     * metrics (a mean over a subset would not be comparable to published tables).
     */
    pixel: MeanPixelMetrics | null;
  };
}

/**
 * Evaluates a multi-class test set: per category image AUROC/AP/F1-max (with its threshold) and,
 * where masks are given, pixel AUROC/AP/F1-max/AU-PRO; then the unweighted mean over categories,
 * as in the unified multi-class protocol (UniAD, RLR).
 *
 * Memory: categories are consumed from `inputs` one at a time and reduced to numbers before the
 * next one is requested, so with a generator that produces each category on demand only one
 * category's maps are alive at once (plus at most ~6 bytes per pixel of that category while
 * it is evaluated). To avoid holding even one category's maps, feed batches to a
 * {@link CategoryEvaluator} and combine with {@link summarizeCategories}.
 *
 * @throws naming the category on any bad input, a category with only one class of images
 *   (image AUROC undefined), all-empty masks, or a repeated category name.
 *
 * @example
 * ```ts
 * const report = evaluateCategories([
 *   { category: 'bottle', labels, scores, maps, masks, height: 256, width: 256 },
 *   { category: 'cable', labels: l2, scores: s2 },          // image metrics only
 * ]);
 * report.categories.bottle.pixel?.aupro; report.mean.image.auroc;
 * ```
 */
export function evaluateCategories(inputs: Iterable<CategoryInput>, options: EvaluateOptions = {}): EvaluationReport {
  const categories: Record<string, CategoryMetrics> = {};
  for (const input of inputs) addCategory(categories, input, options);
  return summarizeCategories(categories);
}

/**
 * {@link evaluateCategories} over an async source (e.g. a generator that runs the model on one
 * category at a time). Same memory behaviour: one category at a time.
 */
export async function evaluateCategoriesAsync(
  inputs: AsyncIterable<CategoryInput> | Iterable<CategoryInput>,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const categories: Record<string, CategoryMetrics> = {};
  for await (const input of inputs) addCategory(categories, input, options);
  return summarizeCategories(categories);
}

/** Metrics of one whole category (see {@link CategoryEvaluator} for batch-wise input). */
export function evaluateCategory(input: CategoryInput, options: EvaluateOptions = {}): CategoryMetrics {
  const { category, labels, scores, maps, masks, height, width } = input;
  return new CategoryEvaluator(category, { ...options, height, width })
    .add({ labels, scores, maps, masks })
    .result();
}

/**
 * Builds the report (per category and means) from per-category results, e.g. those of several
 * {@link CategoryEvaluator}s.
 *
 * @throws when `categories` is empty.
 */
export function summarizeCategories(categories: Record<string, CategoryMetrics>): EvaluationReport {
  const list = Object.values(categories);
  if (list.length === 0) {
    throw new Error('evaluateCategories: no categories were given; pass at least one category test set');
  }
  const mean = (pick: (m: CategoryMetrics) => number): number => {
    let sum = 0;
    for (const m of list) sum += pick(m);
    return sum / list.length;
  };
  const image: MeanImageMetrics = {
    auroc: mean((m) => m.image.auroc),
    ap: mean((m) => m.image.ap),
    f1Max: mean((m) => m.image.f1Max),
  };
  const withPixels = list.every((m) => m.pixel !== null);
  const pixel: MeanPixelMetrics | null = withPixels
    ? {
        auroc: mean((m) => (m.pixel as NonNullable<CategoryMetrics['pixel']>).auroc),
        ap: mean((m) => (m.pixel as NonNullable<CategoryMetrics['pixel']>).ap),
        f1Max: mean((m) => (m.pixel as NonNullable<CategoryMetrics['pixel']>).f1Max),
        aupro: mean((m) => (m.pixel as NonNullable<CategoryMetrics['pixel']>).aupro),
      }
    : null;
  return { categories, mean: { image, pixel } };
}

function addCategory(
  categories: Record<string, CategoryMetrics>,
  input: CategoryInput,
  options: EvaluateOptions,
): void {
  const name = input.category;
  if (Object.prototype.hasOwnProperty.call(categories, name)) {
    throw new Error(`evaluateCategories: category "${name}" was given twice; merge its test images into one input`);
  }
  // defineProperty: a category named "__proto__" must become a key, not the prototype
  Object.defineProperty(categories, name, {
    value: evaluateCategory(input, options),
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
