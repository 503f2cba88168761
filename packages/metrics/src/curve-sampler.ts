import { checkBothClasses } from './input-checks.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/**
 * The (fp, tp, threshold) points of a sweep, kept for plotting: all of them, or at most
 * `maxPoints` chosen on the fly.
 *
 * Thinning walks the curve by s = (FPR + TPR) / 2, which rises monotonically from 0 to 1 along
 * both the ROC and the PR curve (the PR point of a threshold is its ROC point seen differently).
 * A point is kept when s reaches the next of the targets 0, 1/(K-1), …, 1, so the kept points
 * are spread evenly along the ROC staircase, both ends are always kept, and there are never
 * more than K. It needs no second pass, so a 1e8-pixel curve never exists in full.
 */
export class CurveSampler implements ThresholdVisitor {
  /** Cumulative normal counts of the kept points. */
  fp: Float64Array;
  /** Cumulative anomalous counts of the kept points. */
  tp: Float64Array;
  /** Thresholds of the kept points; the first point (nothing predicted anomalous) has +Infinity. */
  thresholds: Float64Array;
  /** Number of kept points. */
  length = 0;
  private nextTarget = 0;

  /**
   * @param negatives - number of normal samples N
   * @param positives - number of anomalous samples P
   * @param maxPoints - keep at most this many points (>= 2); undefined keeps every point
   */
  constructor(
    private readonly negatives: number,
    private readonly positives: number,
    private readonly maxPoints?: number,
  ) {
    if (maxPoints !== undefined && !(Number.isInteger(maxPoints) && maxPoints >= 2)) {
      throw new Error(`curve points: maxPoints must be an integer >= 2 (both ends are kept), got ${String(maxPoints)}`);
    }
    const capacity = maxPoints ?? 1024;
    this.fp = new Float64Array(capacity);
    this.tp = new Float64Array(capacity);
    this.thresholds = new Float64Array(capacity);
    this.push(0, 0, Number.POSITIVE_INFINITY);
    this.nextTarget = maxPoints === undefined ? 0 : 1 / (maxPoints - 1);
  }

  /** @inheritDoc ThresholdVisitor.visit */
  visit(fp: number, tp: number, _overlap: number, threshold: number): void {
    const k = this.maxPoints;
    if (k === undefined) {
      this.push(fp, tp, threshold);
      return;
    }
    const s = 0.5 * (fp / this.negatives + tp / this.positives);
    const last = fp === this.negatives && tp === this.positives;
    if (s >= this.nextTarget || last) {
      this.push(fp, tp, threshold);
      this.nextTarget = (Math.floor(s * (k - 1)) + 1) / (k - 1);
    }
  }

  private push(fp: number, tp: number, threshold: number): void {
    if (this.length === this.fp.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.fp = grow(this.fp);
      this.tp = grow(this.tp);
      this.thresholds = grow(this.thresholds);
    }
    this.fp[this.length] = fp;
    this.tp[this.length] = tp;
    this.thresholds[this.length] = threshold;
    this.length++;
  }
}

/**
 * Sweep a score set once into a {@link CurveSampler}: what every curve function (ROC, PR) starts
 * from.
 * @param curve - the curve's name for the error when a class is absent, e.g. `the ROC curve`
 * @throws when the set lacks normal or anomalous samples
 */
export function sampleCurve(name: string, curve: string, set: ScoreSet, maxPoints?: number): CurveSampler {
  checkBothClasses(name, curve, set.negatives, set.positives);
  const sampler = new CurveSampler(set.negatives, set.positives, maxPoints);
  set.sweep(sampler);
  return sampler;
}
