import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/**
 * A score set held as two sorted float64 arrays: the path for image scores, which keeps their
 * full precision (thousands of values, sorted natively).
 */
export class SortedArrays implements ScoreSet {
  /**
   * @param negativeScores - scores of the normal samples, ascending
   * @param positiveScores - scores of the anomalous samples, ascending
   */
  constructor(
    private readonly negativeScores: Float64Array,
    private readonly positiveScores: Float64Array,
  ) {}

  get negatives(): number {
    return this.negativeScores.length;
  }

  get positives(): number {
    return this.positiveScores.length;
  }

  /** Merges the two arrays from their ends; -0 and +0 are one score (`===`). */
  sweep(visitor: ThresholdVisitor): void {
    const neg = this.negativeScores;
    const pos = this.positiveScores;
    let i = neg.length - 1;
    let j = pos.length - 1;
    while (i >= 0 || j >= 0) {
      let v: number;
      if (i < 0) v = pos[j];
      else if (j < 0) v = neg[i];
      else v = neg[i] >= pos[j] ? neg[i] : pos[j];
      while (i >= 0 && neg[i] === v) i--;
      while (j >= 0 && pos[j] === v) j--;
      visitor.visit(neg.length - 1 - i, pos.length - 1 - j, 0, v);
    }
  }
}
