import { AurocAccumulator, type MetricOptions } from './auroc.js';
import { AveragePrecisionAccumulator } from './average-precision.js';
import { CurveSampler } from './curve-sampler.js';
import { F1MaxAccumulator } from './f1-max.js';
import { checkBothClasses, type LabelArray, type ScoreArray } from './input-checks.js';
import type { Curves } from './curves.js';
import { prFromSampler } from './pr-curve.js';
import { rocFromSampler } from './roc-curve.js';
import { splitByClass } from './score-set.js';
import type { ThresholdVisitor } from './threshold-sweep.js';

/** Image-level (or any binary-score) metrics of one evaluation set. */
export interface ImageMetrics {
  /** AUROC (scikit-learn `roc_auc_score`). */
  auroc: number;
  /** Average precision (scikit-learn `average_precision_score`). */
  ap: number;
  /** Largest F1 over all thresholds. */
  f1Max: number;
  /** The score reaching `f1Max`: predict anomalous when `score >= threshold`. */
  threshold: number;
}

/** Options of {@link imageMetrics}. */
export interface ImageMetricsOptions extends MetricOptions {
  /** Also return ROC and PR curves thinned to at most this many points (>= 2). */
  curvePoints?: number;
}

/** {@link ImageMetrics} with the curves requested by `curvePoints`. */
export interface ImageMetricsWithCurves extends ImageMetrics {
  /** Present when `curvePoints` was given. */
  curves?: Curves;
}

/**
 * AUROC, AP and F1-max (with its threshold) of binary `labels` ranked by `scores`, from one sort
 * and one pass: the same values as {@link auroc}, {@link averagePrecision} and {@link f1Max}.
 *
 * @param labels - `[n]` 0 normal or 1 anomalous
 * @param scores - `[n]` finite numbers, higher = more anomalous (precision kept: float64, or
 *   float32 for a Float32Array)
 * @throws on a length mismatch, a label other than 0/1, a non-finite score, or one class absent.
 *
 * @example
 * ```ts
 * imageMetrics([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.35]);
 * // { auroc: 0.9166…, ap: 0.9166…, f1Max: 0.857…, threshold: 0.35 }
 * ```
 */
export function imageMetrics(
  labels: LabelArray,
  scores: ScoreArray,
  options: ImageMetricsOptions = {},
): ImageMetricsWithCurves {
  const name = options.name ?? 'imageMetrics';
  const set = splitByClass(name, labels, scores);
  const n = set.negatives;
  const p = set.positives;
  checkBothClasses(name, 'AUROC', n, p);
  const visitor = new AllImageMetrics(
    new AurocAccumulator(),
    new AveragePrecisionAccumulator(),
    new F1MaxAccumulator(p),
    options.curvePoints === undefined ? undefined : new CurveSampler(n, p, options.curvePoints),
  );
  set.sweep(visitor);
  const f1 = visitor.f1Acc.value();
  const result: ImageMetricsWithCurves = {
    auroc: visitor.aurocAcc.value(),
    ap: visitor.apAcc.value(),
    f1Max: f1.f1,
    threshold: f1.threshold,
  };
  if (visitor.sampler) result.curves = { roc: rocFromSampler(visitor.sampler), pr: prFromSampler(visitor.sampler) };
  return result;
}

class AllImageMetrics implements ThresholdVisitor {
  constructor(
    readonly aurocAcc: AurocAccumulator,
    readonly apAcc: AveragePrecisionAccumulator,
    readonly f1Acc: F1MaxAccumulator,
    readonly sampler: CurveSampler | undefined,
  ) {}

  visit(fp: number, tp: number, overlap: number, threshold: number): void {
    this.aurocAcc.visit(fp, tp);
    this.apAcc.visit(fp, tp);
    this.f1Acc.visit(fp, tp, overlap, threshold);
    this.sampler?.visit(fp, tp, overlap, threshold);
  }
}
