import { checkBothClasses, type LabelArray, type ScoreArray } from './input-checks.js';
import { splitByClass } from './score-set.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/** Options shared by the score-based metrics. */
export interface MetricOptions {
  /** Names the evaluation set in error messages, e.g. `category "bottle" image scores`. */
  name?: string;
}

/**
 * Area under the ROC curve, accumulated one threshold at a time.
 *
 * The trapezoid between consecutive points (fp0, tp0) -> (fp, tp) has twice the area
 * (fp - fp0) * (tp + tp0) in count units: a tie between a normal and an anomalous sample thus
 * counts one half, exactly as scikit-learn's trapezoid over `roc_curve`. Counts are integers, so
 * every product is exact in float64 while the total stays below 2^53 (2·P·N for P anomalous and
 * N normal samples: any set up to ~1.3e8 samples).
 */
export class AurocAccumulator implements ThresholdVisitor {
  private fp = 0;
  private tp = 0;
  private twiceArea = 0;

  /** @inheritDoc ThresholdVisitor.visit */
  visit(fp: number, tp: number): void {
    this.twiceArea += (fp - this.fp) * (tp + this.tp);
    this.fp = fp;
    this.tp = tp;
  }

  /** AUROC after the sweep has reached every sample (fp = N, tp = P). */
  value(): number {
    return this.twiceArea / (2 * this.fp * this.tp);
  }
}

/**
 * Area under the ROC curve of binary `labels` (0 normal, 1 anomalous) ranked by `scores`
 * (higher = more anomalous), exactly as scikit-learn's `roc_auc_score`: a tie between a normal
 * and an anomalous sample counts one half.
 *
 * Scores are read as float64; a Float32Array of 65536 scores or more takes a bucketed counting
 * path instead (same values, far faster at pixel scale: pass pixel maps as Float32Array).
 *
 * @param labels - `[n]` 0 or 1
 * @param scores - `[n]` finite numbers
 * @returns a number in [0, 1]
 * @throws when lengths differ, a label is not 0/1, a score is NaN or infinite, or one class is
 *   absent (AUROC is undefined then).
 *
 * @example
 * ```ts
 * auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.75
 * ```
 */
export function auroc(labels: LabelArray, scores: ScoreArray, options: MetricOptions = {}): number {
  const name = options.name ?? 'auroc';
  return aurocOf(name, splitByClass(name, labels, scores));
}

/** AUROC of a score set; throws naming `name` when one class is absent. */
export function aurocOf(name: string, set: ScoreSet): number {
  checkBothClasses(name, 'AUROC', set.negatives, set.positives);
  const acc = new AurocAccumulator();
  set.sweep(acc);
  return acc.value();
}
