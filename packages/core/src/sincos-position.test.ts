import { describe, expect, it } from 'vitest';
import { sinCosPosition2D } from './sincos-position.js';

describe('2-D sin-cos position code', () => {
  it('puts sin/cos of the column in the first half and of the row in the second (SPEC section 3)', () => {
    const h = 4;
    const w = 6;
    const d = 16;
    const p = sinCosPosition2D(h, w, d);
    const half = d / 2;
    const [row, col] = [2, 5];
    const base = (row * w + col) * d;
    for (let k = 0; k < half / 2; k++) {
      const f = Math.exp((-2 * k * Math.log(10000)) / half);
      expect(p[base + 2 * k]).toBeCloseTo(Math.sin(col * f), 6);
      expect(p[base + 2 * k + 1]).toBeCloseTo(Math.cos(col * f), 6);
      expect(p[base + half + 2 * k]).toBeCloseTo(Math.sin(row * f), 6);
      expect(p[base + half + 2 * k + 1]).toBeCloseTo(Math.cos(row * f), 6);
    }
  });

  it('refuses widths that are not a multiple of 4', () => {
    expect(() => sinCosPosition2D(2, 2, 18)).toThrow(/multiple of 4/);
  });
});
