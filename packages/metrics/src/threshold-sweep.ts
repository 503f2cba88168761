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
 * The scores of an evaluation set split by class, ready to be swept: every distinct score is
 * visited once, highest first, samples sharing a score entering together (one curve point per
 * distinct score, as scikit-learn's `_binary_clf_curve` and the MVTec AD PRO code do).
 */
export interface ScoreSet {
  /** Number of normal samples (label 0). */
  readonly negatives: number;
  /** Number of anomalous samples (label 1). */
  readonly positives: number;
  /** Calls `visitor.visit` once per distinct score, from the highest to the lowest. */
  sweep(visitor: ThresholdVisitor): void;
}
