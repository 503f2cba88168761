import { describe, expect, it } from 'vitest';
import { anomalyMap, upsampleBilinearAlignCorners } from './anomaly-map.js';

describe('anomaly map', () => {
  it('upsamples with align_corners = true: corners kept, linear functions reproduced', () => {
    const h = 3;
    const w = 4;
    const src = Float32Array.from({ length: h * w }, (_, i) => 2 * Math.floor(i / w) - 0.5 * (i % w));
    const H = 7;
    const W = 10;
    const up = upsampleBilinearAlignCorners(src, 1, h, w, H, W);
    expect(up[0]).toBe(src[0]);
    expect(up[W - 1]).toBe(src[w - 1]);
    expect(up[(H - 1) * W]).toBe(src[(h - 1) * w]);
    expect(up[H * W - 1]).toBe(src[h * w - 1]);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const expected = 2 * (y * (h - 1)) / (H - 1) - 0.5 * (x * (w - 1)) / (W - 1);
        expect(up[y * W + x]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('averages the levels after upsampling each to the crop size', () => {
    const a = new Float32Array([1, 1, 1, 1]); // 2x2 of ones
    const b = new Float32Array(16).fill(3); // 4x4 of threes
    const map = anomalyMap(
      [
        { data: a, grid: [2, 2] },
        { data: b, grid: [4, 4] },
      ],
      1,
      [8, 8],
    );
    expect(map.every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
  });
});
