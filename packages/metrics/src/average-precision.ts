import type { MetricOptions } from './auroc.js';
import { checkBothClasses, type LabelArray, type ScoreArray } from './input-checks.js';
import { splitByClass } from './score-set.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/**
 * Average precision, accumulated one threshold at a time: the sum over distinct thresholds of
 * (recall gained) × (precision there). This is scikit-learn's step-wise definition (no
 * interpolation between points, unlike the trapezoidal area under the PR curve).
 */
export class AveragePrecisionAccumulator implements ThresholdVisitor {
  private tp = 0;
  private sum = 0;

  /** @inheritDoc ThresholdVisitor.visit */
  visit(fp: number, tp: number): void {
    if (tp !== this.tp) {
      this.sum += (tp - this.tp) * (tp / (tp + fp));
      this.tp = tp;
    }
  }

  /** AP after the sweep has reached every sample (tp = P). */
  value(): number {
    return this.sum / this.tp;
  }
}

/**
 * Average precision of binary `labels` ranked by `scores`, as scikit-learn's
 * `average_precision_score`: AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ over the distinct thresholds, highest
 * first, where Pₖ and Rₖ are the precision and recall of predicting `score >= thresholdₖ`.
 *
 * @param labels - `[n]` 0 normal or 1 anomalous
 * @param scores - `[n]` finite numbers, higher = more anomalous
 * @returns a number in (0, 1]
 * @throws on a length mismatch, a label other than 0/1, a non-finite score, or when one class is
 *   absent.
 *
 * @example
 * ```ts
 * averagePrecision([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.35]); // 0.91666…
 * ```
 */
export function averagePrecision(labels: LabelArray, scores: ScoreArray, options: MetricOptions = {}): number {
  const name = options.name ?? 'averagePrecision';
  return averagePrecisionOf(name, splitByClass(name, labels, scores));
}

/** AP of a score set; throws naming `name` when one class is absent. */
export function averagePrecisionOf(name: string, set: ScoreSet): number {
  checkBothClasses(name, 'average precision', set.negatives, set.positives);
  const acc = new AveragePrecisionAccumulator();
  set.sweep(acc);
  return acc.value();
}
