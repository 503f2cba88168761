import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelledSet, permutation, tiedScore } from '../test/arbitraries.js';
import { naiveAuroc } from '../test/naive-reference.js';
import { auroc } from './auroc.js';

describe('auroc', () => {
  it('counts a tie between a normal and an anomalous sample as one half', () => {
    // pairs (anomalous, normal): (0.5 vs 0.5) tie, (0.5 vs 0.1) win, (0.9 vs both) wins -> 3.5 / 4
    expect(auroc([0, 0, 1, 1], [0.5, 0.1, 0.5, 0.9])).toBe(0.875);
    expect(auroc([0, 1], [3, 3])).toBe(0.5);
  });

  it('treats -0 and +0 as the same score (a tie), as scikit-learn does', () => {
    expect(auroc([0, 1], [-0, 0])).toBe(0.5);
    expect(auroc([0, 1], [0, -0])).toBe(0.5);
  });

  it('equals the Mann-Whitney pair count of the definition (tolerance 1e-12)', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels, scores }) => {
        expect(Math.abs(auroc(labels, scores) - naiveAuroc(labels, scores))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('AUROC(s) + AUROC(-s) = 1, ties included (tolerance 1e-12)', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels, scores }) => {
        const sum = auroc(labels, scores) + auroc(labels, scores.map((s) => -s));
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('is invariant to strictly increasing transforms of the scores (exactly)', () => {
    const transforms = [(x: number) => x * x * x + 3 * x + 0.5, (x: number) => Math.exp(x / 4), Math.atan];
    fc.assert(
      fc.property(labelledSet(tiedScore), fc.constantFrom(...transforms), ({ labels, scores }, f) => {
        expect(auroc(labels, scores.map(f))).toBe(auroc(labels, scores));
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order of the (label, score) pairs (exactly)', () => {
    fc.assert(
      fc.property(labelledSet(), fc.integer(), ({ labels, scores }, seed) => {
        const p = permutation(labels.length, seed);
        expect(auroc(p.map((i) => labels[i]), p.map((i) => scores[i]))).toBe(auroc(labels, scores));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same value from a large Float32Array (bucketed path) as from a plain array', () => {
    // 70 000 scores: above the size where Float32Array scores switch to the bucketed path
    const n = 70_000;
    const labels = Uint8Array.from({ length: n }, (_, i) => (i * 7919) % 13 < 4 ? 1 : 0);
    const scores = Float32Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 500) / 256 + labels[i]); // many ties
    expect(auroc(labels, scores)).toBe(auroc(labels, Array.from(scores)));
  });

  it('is 1 for a perfect ranking, 0 for an inverted one, 0.5 for constant scores', () => {
    fc.assert(
      fc.property(labelledSet(), ({ labels }) => {
        expect(auroc(labels, labels.map((l, i) => l * 1000 + i / 100))).toBe(1);
        expect(auroc(labels, labels.map((l, i) => -l * 1000 + i / 100))).toBe(0);
        expect(auroc(labels, labels.map(() => 7))).toBe(0.5);
      }),
      { numRuns: 50 },
    );
  });

  describe('bad input', () => {
    it('rejects a length mismatch, naming both lengths', () => {
      expect(() => auroc([0, 1, 1], [0.1, 0.2])).toThrow(/3 labels but 2 scores/);
    });

    it('rejects NaN and infinite scores with their index, on both paths', () => {
      expect(() => auroc([0, 1, 0], [0.1, Number.NaN, 0.3])).toThrow(/score at index 1 is NaN/);
      expect(() => auroc([0, 1, 0], Float32Array.of(0.1, 0.2, Number.POSITIVE_INFINITY))).toThrow(/score at index 2 is Infinity/);
      expect(() => auroc([0, 1], Float32Array.of(Number.NEGATIVE_INFINITY, 1))).toThrow(/index 0 is -Infinity/);
    });

    it('rejects labels other than 0 and 1', () => {
      expect(() => auroc([0, 2], [0.1, 0.2])).toThrow(/label at index 1 is 2; labels must be 0 \(normal\) or 1/);
      expect(() => auroc(Float32Array.of(0, 0.5), Float32Array.of(0.1, 0.2))).toThrow(/label at index 1 is 0.5/);
    });

    it('refuses a set with only one class, naming the set: AUROC is undefined', () => {
      expect(() => auroc([0, 0, 0], [0.1, 0.2, 0.3], { name: 'category "zipper" image scores' })).toThrow(
        /category "zipper" image scores: AUROC is undefined with no anomalous samples \(3 normal, 0 anomalous\)/,
      );
      expect(() => auroc([1, 1], [0.1, 0.2])).toThrow(/no normal samples/);
      expect(() => auroc([], [])).toThrow(/undefined/);
    });
  });
});
