import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naiveComponents } from '../test/naive-reference.js';
import { connectedComponents } from './connected-components.js';

describe('connectedComponents', () => {
  it('joins diagonal neighbours with connectivity 8 (MVTec AD) but not with 4', () => {
    const diagonal = Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    expect(connectedComponents(diagonal, 3, 3).count).toBe(1);
    expect(Array.from(connectedComponents(diagonal, 3, 3).sizes)).toEqual([3]);
    expect(connectedComponents(diagonal, 3, 3, 4).count).toBe(3);
  });

  it('labels regions in scan order of their first pixel, with their sizes', () => {
    // prettier-ignore
    const mask = Uint8Array.of(
      0, 1, 1, 0, 0,
      0, 0, 0, 0, 1,
      1, 0, 0, 1, 1,
    );
    const r = connectedComponents(mask, 3, 5);
    expect(r.count).toBe(3);
    expect(Array.from(r.labels)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 2, 2]);
    expect(Array.from(r.sizes)).toEqual([2, 3, 1]);
  });

  it('does not join regions across the left and right borders (no wrap-around)', () => {
    // pixel (0, 2) and (1, 0) are adjacent in memory but not in the image
    expect(connectedComponents(Uint8Array.of(0, 0, 1, 1, 0, 0), 2, 3).count).toBe(2);
  });

  it('agrees with label propagation on random masks, for both connectivities', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(4 as const, 8 as const),
        fc.infiniteStream(fc.boolean()),
        (h, w, conn, bits) => {
          const mask = Uint8Array.from(bits.take(h * w), (b) => (b ? 1 : 0));
          const ours = connectedComponents(mask, h, w, conn);
          const ref = naiveComponents(mask, h, w, conn);
          expect(ours.count).toBe(ref.count);
          expect(Array.from(ours.labels)).toEqual(ref.labels);
          let total = 0;
          for (const s of ours.sizes) total += s;
          expect(total).toBe(mask.reduce((a, b) => a + b, 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles a full 1024 x 1024 region without recursion', () => {
    const r = connectedComponents(new Uint8Array(1024 * 1024).fill(1), 1024, 1024);
    expect(r.count).toBe(1);
    expect(r.sizes[0]).toBe(1024 * 1024);
  });

  it('rejects a mask whose size does not match height x width', () => {
    expect(() => connectedComponents(new Uint8Array(10), 3, 3)).toThrow(/10 pixels but height x width = 3 x 3 = 9/);
  });
});
