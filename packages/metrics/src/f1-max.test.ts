import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelledSet, tiedScore } from '../test/arbitraries.js';
import { naiveCurve, naiveF1Max } from '../test/naive-reference.js';
import { f1Max } from './f1-max.js';

describe('f1Max', () => {
  it('returns the best F1 with its threshold, precision and recall (hand-computed)', () => {
    // at threshold 0.35: TP 3, FP 1 -> P 3/4, R 1, F1 = 6/7
    const r = f1Max([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.35]);
    expect(r.f1).toBeCloseTo(6 / 7, 15);
    expect(r).toMatchObject({ threshold: 0.35, precision: 0.75, recall: 1 });
  });

  it('equals the best F1 over all thresholds computed naively (tolerance 1e-12)', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels, scores }) => {
        expect(Math.abs(f1Max(labels, scores).f1 - naiveF1Max(labels, scores))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('reports a threshold that reproduces the F1, and the lowest one among equal maxima', () => {
    fc.assert(
      fc.property(labelledSet(tiedScore), ({ labels, scores }) => {
        const r = f1Max(labels, scores);
        let tp = 0;
        let fp = 0;
        const p = labels.filter((l) => l === 1).length;
        scores.forEach((s, i) => {
          if (s >= r.threshold) {
            if (labels[i] === 1) tp++;
            else fp++;
          }
        });
        expect((2 * tp) / (tp + fp + p)).toBe(r.f1);
        expect(r.precision).toBe(tp / (tp + fp));
        expect(r.recall).toBe(tp / p);
        // F1 as a fraction 2TP/(TP+FP+P) compared exactly by cross-multiplication
        const curve = naiveCurve(labels, scores);
        curve.t.forEach((t, k) => {
          if (t < r.threshold) expect(2 * curve.tp[k] * (tp + fp + p)).toBeLessThan(2 * tp * (curve.tp[k] + curve.fp[k] + p));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('is 1 for a perfect ranking, at the lowest anomalous score', () => {
    const r = f1Max([1, 0, 1, 0], [0.9, 0.2, 0.7, 0.3]);
    expect(r).toEqual({ f1: 1, threshold: 0.7, precision: 1, recall: 1 });
  });

  it('refuses a set without normal samples, naming it', () => {
    expect(() => f1Max([1, 1], [1, 2], { name: 'cable' })).toThrow(/cable: F1-max is undefined with no normal samples/);
  });
});
