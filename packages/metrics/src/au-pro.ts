import type { ThresholdVisitor } from './threshold-sweep.js';

/**
 * Area under the per-region-overlap curve up to a false-positive-rate limit, accumulated one
 * threshold at a time: the MVTec AD protocol (Bergmann et al., IJCV 2021).
 *
 * At each distinct threshold, FPR = FP / (normal pixels of the whole set) and
 * PRO = (Σ over regions of the fraction of the region predicted anomalous) / (regions of the
 * set). The curve starts at (0, 0); the area is the trapezoid sum over the points with
 * FPR <= limit plus, when no point lies exactly on the limit, the trapezoid up to the curve
 * interpolated linearly at the limit; it is then divided by the limit (1 = perfect).
 */
export class AuProAccumulator implements ThresholdVisitor {
  private x = 0;
  private y = 0;
  private area = 0;
  private done = false;

  /**
   * @param normalPixels - normal pixels of the set (the FPR denominator)
   * @param regions - ground-truth regions of the set (the PRO denominator)
   * @param fprLimit - integration limit in (0, 1]
   */
  constructor(
    private readonly normalPixels: number,
    private readonly regions: number,
    private readonly fprLimit: number,
  ) {}

  /** @inheritDoc ThresholdVisitor.visit */
  visit(fp: number, _tp: number, overlap: number): void {
    if (this.done) return;
    const x = fp / this.normalPixels;
    const y = Math.min(1, overlap / this.regions); // rounding may overshoot 1 by an ulp
    const limit = this.fprLimit;
    if (x <= limit) {
      this.area += 0.5 * (y + this.y) * (x - this.x);
      this.x = x;
      this.y = y;
      return;
    }
    if (this.x !== limit) {
      const yAtLimit = this.y + ((y - this.y) * (limit - this.x)) / (x - this.x);
      this.area += 0.5 * (yAtLimit + this.y) * (limit - this.x);
    }
    this.done = true;
  }

  /** Normalised AU-PRO after the sweep (in [0, 1]). */
  value(): number {
    return this.area / this.fprLimit;
  }
}
