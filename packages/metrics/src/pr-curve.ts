import { sampleCurve, type CurveSampler } from './curve-sampler.js';
import type { LabelArray, ScoreArray } from './input-checks.js';
import type { CurveOptions } from './roc-curve.js';
import { splitByClass } from './score-set.js';
import type { ScoreSet } from './threshold-sweep.js';

/**
 * Precision-recall curve points, ordered by decreasing threshold (recall rising). Plain typed
 * arrays: convert with `Array.from` before `JSON.stringify`.
 */
export interface PrCurve {
  /** TP / (TP + FP) at each point; 1 at the first point (nothing predicted anomalous). */
  precision: Float64Array;
  /** TP / P at each point, from 0 to 1. */
  recall: Float64Array;
  /** Threshold of each point (predict anomalous when `score >= threshold`); +Infinity first. */
  thresholds: Float64Array;
}

/**
 * The precision-recall curve of binary `labels` ranked by `scores`: scikit-learn's
 * `precision_recall_curve` points in the opposite order (decreasing threshold), its extra
 * (recall 0, precision 1) point first with threshold +Infinity so that all arrays have the same
 * length; or at most `maxPoints` of them.
 *
 * @throws on a length mismatch, a label other than 0/1, a non-finite score, or one class absent.
 *
 * @example
 * ```ts
 * const { precision, recall } = prCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * // recall [0, 0.5, 0.5, 1, 1], precision [1, 1, 0.5, 0.667, 0.5]
 * ```
 */
export function prCurve(labels: LabelArray, scores: ScoreArray, options: CurveOptions = {}): PrCurve {
  const name = options.name ?? 'prCurve';
  return prCurveOf(name, splitByClass(name, labels, scores), options.maxPoints);
}

/** PR curve of a score set. */
export function prCurveOf(name: string, set: ScoreSet, maxPoints?: number): PrCurve {
  return prFromSampler(sampleCurve(name, 'the precision-recall curve', set, maxPoints));
}

/** Precision and recall from the counts a sampler kept. */
export function prFromSampler(s: CurveSampler): PrCurve {
  const p = s.tp[s.length - 1];
  const precision = new Float64Array(s.length);
  const recall = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const predicted = s.tp[i] + s.fp[i];
    precision[i] = predicted === 0 ? 1 : s.tp[i] / predicted;
    recall[i] = s.tp[i] / p;
  }
  return { precision, recall, thresholds: s.thresholds.slice(0, s.length) };
}
