import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketScratch, KeyBuckets, RunBuffer } from './key-buckets.js';

/** Every (key, count, weight) run of the buckets, highest key first. */
function allRuns(buckets: KeyBuckets, weights?: Float64Array): [number, number, number][] {
  const out = new RunBuffer();
  const scratch = new BucketScratch();
  const runs: [number, number, number][] = [];
  for (let high = 0xffff; high >= 0; high--) {
    buckets.readRuns(high, out, scratch, weights);
    for (let i = 0; i < out.length; i++) runs.push([high * 65536 + out.low[i], out.count[i], weights ? out.weight[i] : 0]);
  }
  return runs;
}

/** The same runs from a plain sort of the keys. */
function referenceRuns(keys: number[], tags?: number[], weights?: Float64Array): [number, number, number][] {
  const runs = new Map<number, [number, number]>();
  keys.forEach((k, i) => {
    const r = runs.get(k) ?? [0, 0];
    r[0]++;
    if (tags && weights) r[1] += weights[tags[i]];
    runs.set(k, r);
  });
  return [...runs.entries()].sort((a, b) => b[0] - a[0]).map(([k, [c, w]]) => [k, c, w]);
}

function chunked(values: number[], size: number): Uint32Array[] {
  const chunks: Uint32Array[] = [];
  for (let i = 0; i < values.length; i += size) chunks.push(Uint32Array.from(values.slice(i, i + size)));
  return chunks;
}

// Keys that exercise both reductions: a few buckets with many close keys (dense counting),
// keys scattered over the whole range (sparse: native sort), and heavy ties.
const key = fc.oneof(
  fc.integer({ min: 0x3f000000, max: 0x3f0000ff }),
  fc.nat({ max: 0xffffffff }),
  fc.constantFrom(0, 0xffffffff, 0x80000000, 0x8000ffff),
);

describe('KeyBuckets', () => {
  it('yields each distinct key once, descending, with its count', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 500 }), fc.integer({ min: 1, max: 64 }), (keys, size) => {
        const chunks = chunked(keys, size);
        const buckets = new KeyBuckets(chunks);
        expect(buckets.size).toBe(keys.length);
        expect(chunks.length).toBe(0); // the chunks were handed over
        expect(allRuns(buckets)).toEqual(referenceRuns(keys));
      }),
      { numRuns: 200 },
    );
  });

  it('sums the weights of the tags of each run (dense and sparse buckets; tolerance 1e-12)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.nat({ max: 9 })), { maxLength: 500 }), (pairs) => {
        const keys = pairs.map(([k]) => k);
        const tags = pairs.map(([, t]) => t);
        const weights = Float64Array.from({ length: 10 }, (_, i) => 1 / (i + 1));
        const ours = allRuns(new KeyBuckets(chunked(keys, 50), chunked(tags, 50)), weights);
        const ref = referenceRuns(keys, tags, weights);
        expect(ours.map(([k, c]) => [k, c])).toEqual(ref.map(([k, c]) => [k, c]));
        ours.forEach(([, , w], i) => expect(Math.abs(w - ref[i][2])).toBeLessThanOrEqual(1e-12));
      }),
      { numRuns: 200 },
    );
  });

  it('counts a bucket holding many keys of one value, and leaves its tables clean for the next', () => {
    const keys = [...Array<number>(10_000).fill(0x12345678), ...Array<number>(5).fill(0x12340000), 0x00010002];
    expect(allRuns(new KeyBuckets([Uint32Array.from(keys)]))).toEqual([
      [0x12345678, 10_000, 0],
      [0x12340000, 5, 0],
      [0x00010002, 1, 0],
    ]);
  });

  it('rejects tags that do not match the keys', () => {
    expect(() => new KeyBuckets([Uint32Array.of(1, 2)], [Uint32Array.of(1)])).toThrow(/2 keys but 1 tags/);
  });
});
