import { describe, expect, it } from 'vitest';
import { gaussianBlur, mapMaxima } from '@rlr/core';
import { transformGeometry } from '@rlr/data';
import { excludePadding } from './padding-scores.js';

describe('excludePadding (--resize-mode fit)', () => {
  it('zeroes the letterbox padding and scores the content window only', () => {
    // 32x64 letterboxed into 64x64: rows 16..47 are content.
    const g = transformGeometry(32, 64, { crop: 64, mode: 'fit' });
    const H = 64;
    const W = 64;
    const map = new Float32Array(H * W).fill(0.1);
    map.fill(9, 0, 16 * W); // a strong response in the padding (top rows)
    map[30 * W + 20] = 2; // a real one in the content
    const r = { scores: Float32Array.of(123), maps: map, height: H, width: W };
    excludePadding(r, [g]);
    expect(map.subarray(0, 16 * W).every((v) => v === 0)).toBe(true);
    expect(map.subarray(48 * W).every((v) => v === 0)).toBe(true);
    expect(map[30 * W + 20]).toBe(2);
    // The score is the usual rule on the 32x64 content window alone.
    const content = new Float32Array(32 * W).fill(0.1);
    content[14 * W + 20] = 2;
    expect(r.scores[0]).toBe(mapMaxima(gaussianBlur(content, 1, 32, W), 1, 32, W)[0]);
  });

  it('leaves images without padding (crop, stretch) as they are', () => {
    const map = Float32Array.from({ length: 32 }, (_, i) => i);
    const r = { scores: Float32Array.of(5, 6), maps: map, height: 4, width: 4 };
    excludePadding(r, [transformGeometry(8, 12, { crop: 4 }), transformGeometry(8, 12, { crop: 4, mode: 'stretch' })]);
    expect(Array.from(r.scores)).toEqual([5, 6]);
    expect(Array.from(map)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(excludePadding(r, undefined)).toBe(r);
  });
});
