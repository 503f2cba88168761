import type { SortedScores } from './sorted-scores.js';

/**
 * Receives the cumulative counts at each distinct threshold of a sweep, from the highest score to
 * the lowest. At threshold `t` a sample is predicted anomalous when its score is `>= t` (the
 * scikit-learn convention): `fp` normal and `tp` anomalous samples score `>= t`.
 */
export interface ThresholdVisitor {
  /**
   * @param fp - normal samples scoring at least `threshold`
   * @param tp - anomalous samples scoring at least `threshold`
   * @param overlap - sum over those anomalous samples of 1 / (size of their region); divided by
   *   the number of regions this is the per-region overlap (PRO). 0 when regions were not kept.
   * @param threshold - the distinct score value
   */
  visit(fp: number, tp: number, overlap: number, threshold: number): void;
}

/**
 * Walks every distinct score once, highest first, merging the two sorted classes. Samples that
 * share a score enter together (one curve point per distinct score, as scikit-learn's
 * `_binary_clf_curve` and the MVTec AD PRO code do). O(n), no allocation.
 */
export function sweepThresholds(sorted: SortedScores, visitor: ThresholdVisitor): void {
  const neg = sorted.negatives;
  const pos = sorted.positives;
  const regions = sorted.positiveRegions;
  const weights = sorted.regionWeights;
  const nNeg = neg.length;
  const nPos = pos.length;
  let i = nNeg - 1;
  let j = nPos - 1;
  let overlap = 0;
  while (i >= 0 || j >= 0) {
    let v: number;
    if (i < 0) v = pos[j];
    else if (j < 0) v = neg[i];
    else v = neg[i] >= pos[j] ? neg[i] : pos[j];
    while (i >= 0 && neg[i] === v) i--;
    if (regions && weights) {
      while (j >= 0 && pos[j] === v) {
        overlap += weights[regions[j]];
        j--;
      }
    } else {
      while (j >= 0 && pos[j] === v) j--;
    }
    visitor.visit(nNeg - 1 - i, nPos - 1 - j, overlap, v);
  }
}
