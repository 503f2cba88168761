/**
 * Anomaly-detection evaluation metrics in pure TypeScript (no tfjs, no Node built-ins): image
 * and pixel AUROC, average precision, F1-max with its threshold, AU-PRO (MVTec AD protocol),
 * ROC/PR curve points, and per-category / mean tables for the unified multi-class protocol.
 *
 * @packageDocumentation
 */
export { auroc, type MetricOptions } from './auroc.js';
export { averagePrecision } from './average-precision.js';
export { f1Max, type F1Max } from './f1-max.js';
export { imageMetrics, type ImageMetrics, type ImageMetricsOptions, type ImageMetricsWithCurves } from './image-metrics.js';
export { rocCurve, type RocCurve, type CurveOptions } from './roc-curve.js';
export type { Curves } from './curves.js';
export { prCurve, type PrCurve } from './pr-curve.js';
export {
  auPro,
  pixelMetrics,
  PixelMetricsAccumulator,
  type PixelMetrics,
  type PixelMetricsWithCurves,
  type PixelSetOptions,
  type PixelComputeOptions,
} from './pixel-metrics.js';
export { connectedComponents, type ConnectedComponents, type Connectivity } from './connected-components.js';
export {
  CategoryEvaluator,
  type CategoryBatch,
  type CategoryCurves,
  type CategoryMetrics,
  type ImageCounts,
  type CategoryOptions,
} from './category-evaluator.js';
export {
  evaluateCategories,
  evaluateCategoriesAsync,
  evaluateCategory,
  summarizeCategories,
  type CategoryInput,
  type EvaluateOptions,
  type EvaluationReport,
  type MeanImageMetrics,
  type MeanPixelMetrics,
} from './evaluate-categories.js';
export type { LabelArray, ScoreArray } from './input-checks.js';
