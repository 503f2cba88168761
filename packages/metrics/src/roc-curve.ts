import type { MetricOptions } from './auroc.js';
import { sampleCurve, type CurveSampler } from './curve-sampler.js';
import type { LabelArray, ScoreArray } from './input-checks.js';
import { splitByClass } from './score-set.js';
import type { ScoreSet } from './threshold-sweep.js';

/** Options of the curve functions. */
export interface CurveOptions extends MetricOptions {
  /**
   * Keep at most this many points (>= 2), spread evenly along the curve, both ends included:
   * for plots and reports. Default: every distinct threshold (can be ~1e8 points at pixel scale).
   */
  maxPoints?: number;
}

/**
 * ROC curve points, ordered by decreasing threshold. Plain typed arrays: convert with
 * `Array.from` before `JSON.stringify`.
 */
export interface RocCurve {
  /** False-positive rate FP / N at each point, from 0 to 1. */
  fpr: Float64Array;
  /** True-positive rate TP / P at each point, from 0 to 1. */
  tpr: Float64Array;
  /** Threshold of each point (predict anomalous when `score >= threshold`); +Infinity first. */
  thresholds: Float64Array;
}

/**
 * The ROC curve of binary `labels` ranked by `scores`: one point per distinct score (like
 * scikit-learn's `roc_curve` with `drop_intermediate=False`), starting at (0, 0) with threshold
 * +Infinity, or at most `maxPoints` of them.
 *
 * @throws on a length mismatch, a label other than 0/1, a non-finite score, or one class absent.
 *
 * @example
 * ```ts
 * const { fpr, tpr } = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * // fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1]
 * ```
 */
export function rocCurve(labels: LabelArray, scores: ScoreArray, options: CurveOptions = {}): RocCurve {
  const name = options.name ?? 'rocCurve';
  return rocCurveOf(name, splitByClass(name, labels, scores), options.maxPoints);
}

/** ROC curve of a score set. */
export function rocCurveOf(name: string, set: ScoreSet, maxPoints?: number): RocCurve {
  return rocFromSampler(sampleCurve(name, 'the ROC curve', set, maxPoints));
}

/** Rates from the counts a sampler kept. */
export function rocFromSampler(s: CurveSampler): RocCurve {
  const n = s.fp[s.length - 1];
  const p = s.tp[s.length - 1];
  const fpr = new Float64Array(s.length);
  const tpr = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    fpr[i] = s.fp[i] / n;
    tpr[i] = s.tp[i] / p;
  }
  return { fpr, tpr, thresholds: s.thresholds.slice(0, s.length) };
}
