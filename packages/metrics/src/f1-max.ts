import type { MetricOptions } from './auroc.js';
import { checkBothClasses, type LabelArray, type ScoreArray } from './input-checks.js';
import { splitByClass } from './score-set.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/** The best F1 score over all thresholds and where it is reached. */
export interface F1Max {
  /** The largest F1 = 2PR / (P + R) over all distinct thresholds. */
  f1: number;
  /** The score threshold that reaches it: predict anomalous when `score >= threshold`. */
  threshold: number;
  /** Precision at that threshold. */
  precision: number;
  /** Recall at that threshold. */
  recall: number;
}

/**
 * Largest F1 over the thresholds of scikit-learn's `precision_recall_curve`, accumulated one
 * threshold at a time. F1 is computed as 2·TP / (TP + FP + P): integer operands and one correctly
 * rounded division, so F1 values that are equal as fractions compare equal. Of equal maxima the
 * lowest threshold wins, as `np.argmax` over scikit-learn's increasing thresholds does.
 */
export class F1MaxAccumulator implements ThresholdVisitor {
  private best = -1;
  private bestThreshold = Number.NaN;
  private bestTp = 0;
  private bestFp = 0;

  /** @param positives - number of anomalous samples P */
  constructor(private readonly positives: number) {}

  /** @inheritDoc ThresholdVisitor.visit */
  visit(fp: number, tp: number, _overlap: number, threshold: number): void {
    const f1 = (2 * tp) / (tp + fp + this.positives);
    if (f1 >= this.best) {
      this.best = f1;
      this.bestThreshold = threshold;
      this.bestTp = tp;
      this.bestFp = fp;
    }
  }

  /** The maximum found by the sweep. */
  value(): F1Max {
    return {
      f1: this.best,
      threshold: this.bestThreshold,
      precision: this.bestTp / (this.bestTp + this.bestFp),
      recall: this.bestTp / this.positives,
    };
  }
}

/**
 * The largest F1 score over all thresholds of binary `labels` ranked by `scores`, and the
 * threshold that reaches it (the value scikit-learn's `precision_recall_curve` would list there;
 * predict anomalous when `score >= threshold`).
 *
 * @param labels - `[n]` 0 normal or 1 anomalous
 * @param scores - `[n]` finite numbers, higher = more anomalous
 * @throws on a length mismatch, a label other than 0/1, a non-finite score, or when one class is
 *   absent.
 *
 * @example
 * ```ts
 * f1Max([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.35]);
 * // { f1: 0.857…, threshold: 0.35, precision: 0.75, recall: 1 }
 * ```
 */
export function f1Max(labels: LabelArray, scores: ScoreArray, options: MetricOptions = {}): F1Max {
  const name = options.name ?? 'f1Max';
  return f1MaxOf(name, splitByClass(name, labels, scores));
}

/** F1-max of a score set; throws naming `name` when one class is absent. */
export function f1MaxOf(name: string, set: ScoreSet): F1Max {
  checkBothClasses(name, 'F1-max', set.negatives, set.positives);
  const acc = new F1MaxAccumulator(set.positives);
  set.sweep(acc);
  return acc.value();
}
