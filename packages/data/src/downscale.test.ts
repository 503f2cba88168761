import { describe, expect, it } from 'vitest';
import { downscaleMask, downscaleMean, fitWithin } from './downscale.js';

describe('downscale', () => {
  it('fitWithin keeps the aspect ratio and never enlarges', () => {
    expect(fitWithin(3000, 4000, 384)).toEqual([288, 384]);
    expect(fitWithin(100, 50, 384)).toEqual([100, 50]);
  });

  it('box-averages: a constant stays constant, a 2x2 block becomes its mean', () => {
    const c = downscaleMean(new Float32Array(7 * 9 * 3).fill(0.25), 7, 9, 3, 3, 4);
    for (const v of c) expect(v).toBeCloseTo(0.25, 6);
    expect(Array.from(downscaleMean([1, 2, 3, 4], 2, 2, 1, 1, 1))).toEqual([2.5]);
  });

  it('keeps a one-pixel defect visible in a shrunk mask', () => {
    const m = new Uint8Array(100 * 100);
    m[57 * 100 + 13] = 1;
    const s = downscaleMask(m, 100, 100, 10, 10);
    expect(s.reduce((a, b) => a + b, 0)).toBe(1);
    expect(s[5 * 10 + 1]).toBe(1);
  });

  it('refuses to enlarge', () => {
    expect(() => downscaleMean([1], 1, 1, 1, 2, 2)).toThrow(/cannot shrink 1x1 to 2x2/);
  });
});
