import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelledSet, permutation } from '../test/arbitraries.js';
import { naiveAp } from '../test/naive-reference.js';
import { averagePrecision } from './average-precision.js';
import { prCurve } from './pr-curve.js';

describe('averagePrecision', () => {
  it('is the step-wise sum of recall gains times precision (hand-computed)', () => {
    // thresholds 0.8: P=1 R=1/3; 0.4: P=1 R=2/3; 0.35: P=3/4 R=1; 0.1: recall unchanged
    // AP = 1/3·1 + 1/3·1 + 1/3·3/4 = 11/12
    expect(averagePrecision([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.35])).toBeCloseTo(11 / 12, 15);
  });

  it('equals the definition computed naively over distinct thresholds (tolerance 1e-12)', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels, scores }) => {
        expect(Math.abs(averagePrecision(labels, scores) - naiveAp(labels, scores))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('is 1 for a perfect ranking and P / n when every score is equal', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels }) => {
        const p = labels.filter((l) => l === 1).length;
        expect(averagePrecision(labels, labels.map((l, i) => l * 100 + i / 1000))).toBeCloseTo(1, 14);
        expect(averagePrecision(labels, labels.map(() => 0))).toBeCloseTo(p / labels.length, 14);
      }),
      { numRuns: 50 },
    );
  });

  it('does not depend on the order of the pairs, and agrees with the PR curve it summarises', () => {
    fc.assert(
      fc.property(labelledSet(), fc.integer(), ({ labels, scores }, seed) => {
        const ap = averagePrecision(labels, scores);
        const p = permutation(labels.length, seed);
        expect(averagePrecision(p.map((i) => labels[i]), p.map((i) => scores[i]))).toBe(ap);
        const { precision, recall } = prCurve(labels, scores);
        let fromCurve = 0;
        for (let k = 1; k < recall.length; k++) fromCurve += (recall[k] - recall[k - 1]) * precision[k];
        expect(Math.abs(fromCurve - ap)).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a set without anomalous samples, naming it', () => {
    expect(() => averagePrecision([0, 0], [1, 2], { name: 'test set' })).toThrow(/test set: average precision is undefined/);
  });
});
