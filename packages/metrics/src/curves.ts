import type { PrCurve } from './pr-curve.js';
import type { RocCurve } from './roc-curve.js';

/** The ROC and precision-recall curves of one evaluation set, from the same thresholds. */
export interface Curves {
  /** ROC curve points. */
  roc: RocCurve;
  /** Precision-recall curve points (same thresholds as `roc`). */
  pr: PrCurve;
}
