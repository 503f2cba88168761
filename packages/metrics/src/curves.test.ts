import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelledSet } from '../test/arbitraries.js';
import { auroc } from './auroc.js';
import { prCurve } from './pr-curve.js';
import { rocCurve } from './roc-curve.js';

describe('rocCurve and prCurve', () => {
  it('list one point per distinct score after the (0, 0) start, as scikit-learn', () => {
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(Array.from(roc.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(roc.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(roc.thresholds)).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    const pr = prCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(Array.from(pr.recall)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(pr.precision)).toEqual([1, 1, 0.5, 2 / 3, 0.5]);
  });

  it('ROC: monotone from (0,0) to (1,1), thresholds strictly decreasing, trapezoid area = AUROC', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels, scores }) => {
        const { fpr, tpr, thresholds } = rocCurve(labels, scores);
        const n = fpr.length;
        expect(n).toBe(new Set(scores.map((s) => s + 0)).size + 1);
        expect([fpr[0], tpr[0], fpr[n - 1], tpr[n - 1]]).toEqual([0, 0, 1, 1]);
        let area = 0;
        for (let k = 1; k < n; k++) {
          expect(fpr[k]).toBeGreaterThanOrEqual(fpr[k - 1]);
          expect(tpr[k]).toBeGreaterThanOrEqual(tpr[k - 1]);
          expect(thresholds[k]).toBeLessThan(thresholds[k - 1]);
          area += 0.5 * (tpr[k] + tpr[k - 1]) * (fpr[k] - fpr[k - 1]);
        }
        expect(Math.abs(area - auroc(labels, scores))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('thinning keeps at most K points of the full curve, in order, both ends included', () => {
    fc.assert(
      fc.property(labelledSet(undefined, 300), fc.integer({ min: 2, max: 40 }), ({ labels, scores }, k) => {
        const full = rocCurve(labels, scores);
        const thin = rocCurve(labels, scores, { maxPoints: k });
        const n = thin.fpr.length;
        expect(n).toBeLessThanOrEqual(k);
        expect(n).toBeGreaterThanOrEqual(Math.min(2, full.fpr.length));
        let j = 0;
        for (let i = 0; i < n; i++) {
          while (j < full.thresholds.length && full.thresholds[j] !== thin.thresholds[i]) j++;
          expect(j, `thinned point ${i} is a point of the full curve`).toBeLessThan(full.thresholds.length);
          expect([thin.fpr[i], thin.tpr[i]]).toEqual([full.fpr[j], full.tpr[j]]);
        }
        expect([thin.fpr[0], thin.tpr[0], thin.fpr[n - 1], thin.tpr[n - 1]]).toEqual([0, 0, 1, 1]);
        const pr = prCurve(labels, scores, { maxPoints: k });
        expect(Array.from(pr.thresholds)).toEqual(Array.from(thin.thresholds));
      }),
      { numRuns: 150 },
    );
  });

  it('thinning spreads the kept points along the curve rather than bunching them', () => {
    const n = 10_000;
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const scores = Array.from({ length: n }, (_, i) => i);
    const { fpr, tpr } = rocCurve(labels, scores, { maxPoints: 11 });
    expect(fpr.length).toBe(11);
    for (let k = 1; k < 11; k++) {
      const step = (fpr[k] + tpr[k] - fpr[k - 1] - tpr[k - 1]) / 2;
      expect(step).toBeCloseTo(0.1, 3);
    }
  });

  it('rejects maxPoints below 2', () => {
    expect(() => rocCurve([0, 1], [0, 1], { maxPoints: 1 })).toThrow(/maxPoints must be an integer >= 2/);
  });
});
