import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naiveAuPro } from '../test/naive-reference.js';
import { auPro } from './pixel-metrics.js';

describe('auPro (MVTec AD protocol)', () => {
  it('is 1 when the map equals the mask', () => {
    const mask = Uint8Array.of(0, 1, 1, 0, 0, 0, 0, 1, 0);
    expect(auPro(Float32Array.from(mask), mask, { height: 3, width: 3 })).toBe(1);
  });

  it('integrates PRO over FPR up to the limit, interpolating there (hand-computed)', () => {
    // one region of 2 pixels (scores 0.9, 0.2), two normal pixels (0.5, 0.1)
    // curve: (0,0) (0,.5) (.5,.5) (.5,1) (1,1); up to 0.3: PRO stays 0.5 -> 0.5
    const maps = Float32Array.of(0.9, 0.2, 0.5, 0.1);
    const masks = Uint8Array.of(1, 1, 0, 0);
    expect(auPro(maps, masks, { height: 1, width: 4 })).toBeCloseTo(0.5, 15);
    // up to 1: 0.5·0.5 + 0.5·1 = 0.75
    expect(auPro(maps, masks, { height: 1, width: 4, fprLimit: 1 })).toBeCloseTo(0.75, 15);
  });

  it('weighs every region equally, whatever its size', () => {
    // region A: 8 pixels, region B: 1 pixel (8-connected regions need a gap), 3 normal pixels
    const masks = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0);
    const onlyA = Float32Array.from(masks, (m, i) => (i < 8 ? 1 : 0));
    const onlyB = Float32Array.from(masks, (m, i) => (i === 9 ? 1 : 0));
    const a = auPro(onlyA, masks, { height: 1, width: 12 });
    expect(a).toBeCloseTo(0.575, 15); // (0,.5) to (1,1), interpolated at 0.3, over 0.3
    expect(auPro(onlyB, masks, { height: 1, width: 12 })).toBe(a);
  });

  it('treats each image separately: regions never join across images', () => {
    // two 1x2 images whose masks touch in memory ([.., 1][1, ..]) are two regions
    const masks = Uint8Array.of(0, 1, 1, 0);
    const maps = Float32Array.of(0, 1, 0, 0);
    // one of two regions found at FPR 0 -> PRO 0.5 then (1,1) -> 0.5·(0.5+0.65)
    expect(auPro(maps, masks, { height: 1, width: 2 })).toBeCloseTo(0.575, 15);
  });

  it('matches the MVTec AD reference procedure on random sets (tolerance 1e-9)', () => {
    const pixelSet = fc
      .record({
        images: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 6 }),
        w: fc.integer({ min: 2, max: 6 }),
        limit: fc.oneof(fc.constantFrom(0.3, 0.25, 0.5, 1), fc.double({ min: 0.01, max: 1, noNaN: true })),
        tied: fc.boolean(),
        seed: fc.integer(),
      })
      .map(({ images, h, w, limit, tied, seed }) => {
        let s = seed >>> 0 || 1;
        const rand = (): number => {
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          return (s >>> 0) / 4294967296;
        };
        const n = images * h * w;
        const masks = Uint8Array.from({ length: n }, () => (rand() < 0.35 ? 1 : 0));
        masks[0] = 1; // both classes present
        masks[n - 1] = 0;
        const maps = Float32Array.from(masks, (m) => (tied ? Math.floor(rand() * 5) + m : rand() + 0.5 * m));
        return { maps, masks, h, w, limit };
      });
    fc.assert(
      fc.property(pixelSet, ({ maps, masks, h, w, limit }) => {
        const ours = auPro(maps, masks, { height: h, width: w, fprLimit: limit });
        expect(Math.abs(ours - naiveAuPro(maps, masks, h, w, limit))).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses empty masks, all-anomalous masks and a limit outside (0, 1]', () => {
    const maps = Float32Array.of(0.1, 0.2, 0.3, 0.4);
    expect(() => auPro(maps, new Uint8Array(4), { height: 2, width: 2 })).toThrow(
      /masks of all 1 images are empty \(no anomalous pixel\).*undefined/,
    );
    expect(() => auPro(maps, new Uint8Array(4).fill(1), { height: 2, width: 2 })).toThrow(/no normal pixel/);
    expect(() => auPro(maps, Uint8Array.of(1, 0, 0, 0), { height: 2, width: 2, fprLimit: 0 })).toThrow(/fprLimit must be in \(0, 1\]/);
    expect(() => auPro(maps, Uint8Array.of(1, 0, 0, 0), { height: 2, width: 2, fprLimit: 1.5 })).toThrow(/fprLimit/);
  });
});
