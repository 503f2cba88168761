import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel1D, mapMaxima, reflectIndex, smoothedMaximum } from './gaussian-blur.js';

describe('Gaussian blur with SciPy semantics', () => {
  it("reflects like SciPy's 'reflect' mode: d c b a | a b c d | d c b a", () => {
    const n = 4;
    const idx = Array.from({ length: 12 }, (_, i) => reflectIndex(i - 4, n));
    expect(idx).toEqual([3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
    // Overshoot beyond one period repeats the pattern.
    expect(reflectIndex(-9, n)).toBe(reflectIndex(-1, n));
  });

  it('uses radius ⌊4σ + 0.5⌋ = 16 at σ = 4 with normalised weights', () => {
    const k = gaussianKernel1D(4);
    expect(k.length).toBe(33);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[16] / k[20]).toBeCloseTo(Math.exp(16 / 32), 10);
  });

  it('equals a direct 2-D convolution over an explicitly mirrored map', () => {
    const H = 10;
    const W = 7;
    const map = Float32Array.from({ length: H * W }, (_, i) => Math.sin(i * 1.7) + (i % 5));
    const sigma = 1.5;
    const k = gaussianKernel1D(sigma);
    const r = (k.length - 1) / 2;
    // Mirror by building the padded map row by row (a different construction from reflectIndex).
    const mirror = (i: number, n: number) => {
      while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
      return i;
    };
    const got = gaussianBlur(map, 1, H, W, sigma);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) acc += k[dy + r] * k[dx + r] * map[mirror(y + dy, H) * W + mirror(x + dx, W)];
        }
        expect(Math.abs(got[y * W + x] - acc)).toBeLessThan(1e-5);
      }
    }
  });

  it('keeps a constant map constant and scores images by their maximum', () => {
    const maps = new Float32Array(2 * 5 * 5).fill(0.25);
    maps[25 + 12] = 3;
    const blurred = gaussianBlur(maps, 2, 5, 5);
    for (let i = 0; i < 25; i++) expect(blurred[i]).toBeCloseTo(0.25, 6);
    const scores = mapMaxima(blurred, 2, 5, 5);
    expect(scores[0]).toBeCloseTo(0.25, 6);
    expect(scores[1]).toBeGreaterThan(0.25);
    expect(scores[1]).toBe(Math.max(...blurred.subarray(25)));
  });
});

describe('smoothedMaximum', () => {
  it('equals the maximum of the blurred map, bit for bit, on maps smaller and larger than the kernel', () => {
    for (const [H, W, sigma] of [
      [7, 5, 4],
      [40, 61, 4],
      [33, 20, 1.5],
    ]) {
      const map = Float32Array.from({ length: H * W }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011) + (i === 300 ? 3 : 0));
      expect(smoothedMaximum(map, H, W, sigma)).toBe(mapMaxima(gaussianBlur(map, 1, H, W, sigma), 1, H, W)[0]);
    }
  });
});
