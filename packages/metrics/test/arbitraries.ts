import fc from 'fast-check';

/** A labelled score set with at least one sample of each class. */
export interface Labelled {
  labels: number[];
  scores: number[];
}

/** Scores with many ties: small integers. */
export const tiedScore = fc.integer({ min: -12, max: 12 });

/** Scores over the whole float range of practical interest, -0 included. */
export const anyScore = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });

/** Sets of up to `maxLength + 2` samples, one normal and one anomalous guaranteed. */
export function labelledSet(score: fc.Arbitrary<number> = fc.oneof(tiedScore, anyScore), maxLength = 60): fc.Arbitrary<Labelled> {
  return fc
    .tuple(score, score, fc.array(fc.tuple(fc.constantFrom(0, 1), score), { maxLength }))
    .map(([a, b, rest]) => ({
      labels: [0, 1, ...rest.map(([l]) => l)],
      scores: [a, b, ...rest.map(([, s]) => s)],
    }));
}

/** A permutation of 0..n-1 from a seed (Fisher-Yates with a small LCG). */
export function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
