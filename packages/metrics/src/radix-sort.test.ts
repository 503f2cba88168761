import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitsFromKey, keyFromBits, keysToFloats } from './float-key.js';
import { radixSort, radixSortChunks } from './radix-sort.js';

describe('float32 sort keys', () => {
  const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];

  it('order like the floats they encode, -0 and +0 sharing one key', () => {
    const values = [-3.4e38, -1, -1e-45, -0, 0, 1e-45, 1e-38, 0.5, 1, 3.4e38];
    const keys = values.map((v) => keyFromBits(bitsOf(v)));
    for (let i = 1; i < keys.length; i++) {
      if (values[i] === values[i - 1]) expect(keys[i]).toBe(keys[i - 1]);
      else expect(keys[i]).toBeGreaterThan(keys[i - 1]);
    }
  });

  it('round-trip exactly for every finite float32', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const b = bitsOf(x);
        const back = bitsFromKey(keyFromBits(b));
        expect(back).toBe(x === 0 ? 0 : b); // -0 comes back as +0
      }),
      { numRuns: 500 },
    );
  });

  it('sort float32 values exactly like a numeric sort', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 300 }), (xs) => {
        const f = Float32Array.from(xs);
        const keys = Uint32Array.from(new Uint32Array(f.buffer), keyFromBits);
        const sorted = keysToFloats(radixSort(keys));
        expect(Array.from(sorted)).toEqual(Array.from(f.slice().sort()).map((v) => v + 0));
      }),
      { numRuns: 200 },
    );
  });
});

describe('radixSortChunks', () => {
  it('sorts uint32 keys across chunks and carries each value with its key, stably', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 5 }), fc.nat({ max: 0xffffffff })), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (xs, chunk) => {
          const keyChunks: Uint32Array[] = [];
          const valueChunks: Uint32Array[] = [];
          for (let i = 0; i < xs.length; i += chunk) {
            keyChunks.push(Uint32Array.from(xs.slice(i, i + chunk)));
            valueChunks.push(Uint32Array.from(xs.slice(i, i + chunk), (_, j) => i + j));
          }
          const { keys, values } = radixSortChunks(keyChunks, valueChunks);
          const expected = xs.map((k, i) => [k, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          expect(Array.from(keys)).toEqual(expected.map((e) => e[0]));
          expect(Array.from(values as Uint32Array)).toEqual(expected.map((e) => e[1]));
          expect(keyChunks.length).toBe(0); // ownership handed over
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips passes whose digit is the same for every key and still sorts', () => {
    // only the top byte differs / only the low byte differs / all equal
    for (const keys of [[0x03000000, 0x01000000, 0x02000000], [0xabcdef03, 0xabcdef01, 0xabcdef02], [7, 7, 7]]) {
      expect(Array.from(radixSort(Uint32Array.from(keys)))).toEqual([...keys].sort((a, b) => a - b));
    }
    expect(radixSort(new Uint32Array(0)).length).toBe(0);
  });
});
