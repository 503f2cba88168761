import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyFromBits } from './float-key.js';
import { KeyCollector } from './score-set.js';
import { SortedArrays } from './sorted-arrays.js';
import type { ScoreSet } from './threshold-sweep.js';

/** Every point a sweep visits. */
function points(set: ScoreSet): number[][] {
  const out: number[][] = [];
  set.sweep({ visit: (fp, tp, overlap, t) => void out.push([fp, tp, overlap, t]) });
  return out;
}

const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];

// float32 scores with ties, ±0, close values sharing a bucket and values far apart
const score = fc.oneof(
  fc.integer({ min: -6, max: 6 }).map((i) => i / 4),
  fc.constantFrom(-0, 0),
  fc.integer({ min: 0, max: 300 }).map((i) => 0.5 + i * 2 ** -20),
  fc.float({ noNaN: true, noDefaultInfinity: true }),
);

describe('BucketedScores (the float32 pixel path)', () => {
  it('visits exactly the points of a plain sorted-array sweep, overlap sums included (1e-12)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), score, fc.nat({ max: 4 })), { maxLength: 400 }), (samples) => {
        const weights = Float64Array.of(1, 1 / 2, 1 / 3, 1 / 7, 1 / 11);
        const collector = new KeyCollector(true);
        const neg: number[] = [];
        const pos: number[] = [];
        for (const [anomalous, s, region] of samples) {
          const f = Math.fround(s);
          const key = keyFromBits(bitsOf(f));
          if (anomalous) {
            collector.positives.push(key);
            collector.regions?.push(region);
            pos.push(f);
          } else {
            collector.negatives.push(key);
            neg.push(f);
          }
        }
        const ours = points(collector.toScoreSet(weights));
        const plain = points(new SortedArrays(Float64Array.from(neg).sort(), Float64Array.from(pos).sort()));
        expect(ours.length).toBe(plain.length);
        // the plain sweep has no regions: rebuild the expected overlap from the samples
        ours.forEach(([fp, tp, overlap, t], k) => {
          const [efp, etp, , et] = plain[k];
          expect([fp, tp]).toEqual([efp, etp]);
          expect(t === et).toBe(true); // === so that -0 and +0 agree
          let expected = 0;
          for (const [anomalous, s, region] of samples) if (anomalous && Math.fround(s) >= t) expected += weights[region];
          expect(Math.abs(overlap - expected)).toBeLessThanOrEqual(1e-12);
        });
      }),
      { numRuns: 200 },
    );
  });
});
