import { describe, expect, it } from 'vitest';
import { defaultWindow, validateWindow, windowMasks, windowMembership, MASKED } from './window-mask.js';

describe('window masks', () => {
  it('marks the clipped w x w square around each token (row-major tokens)', () => {
    const h = 5;
    const w = 6;
    const m = windowMembership(h, w, 3);
    const n = h * w;
    const count = (i: number) => m.subarray(i * n, (i + 1) * n).reduce((a, b) => a + b, 0);
    expect(count(0)).toBe(4); // corner: 2x2
    expect(count(2)).toBe(6); // top edge: 2x3
    expect(count(2 * w + 3)).toBe(9); // interior: 3x3
    // Token (2,3) sees (1,2) but not (0,3) or (2,5).
    const i = 2 * w + 3;
    expect(m[i * n + (1 * w + 2)]).toBe(1);
    expect(m[i * n + (0 * w + 3)]).toBe(0);
    expect(m[i * n + (2 * w + 5)]).toBe(0);
    // Symmetric relation.
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) expect(m[a * n + b]).toBe(m[b * n + a]);
  });

  it('builds complementary additive masks for LCA (inside) and MLKA (outside)', () => {
    const { inside, outside } = windowMasks(4, 4, 3);
    const member = windowMembership(4, 4, 3);
    for (let i = 0; i < member.length; i++) {
      expect(inside[i]).toBe(member[i] ? 0 : MASKED);
      expect(outside[i]).toBe(member[i] ? MASKED : 0);
    }
  });

  it('uses the released table by grid side and the nearest entry otherwise', () => {
    expect([defaultWindow(16, 16), defaultWindow(32, 32), defaultWindow(64, 64)]).toEqual([5, 7, 11]);
    expect(defaultWindow(28, 40)).toBe(7);
    expect(defaultWindow(8, 8)).toBe(5);
    expect(defaultWindow(16, 40)).toBe(5); // the shorter side decides (256x640 at stride 16)
    expect([defaultWindow(22, 22), defaultWindow(23, 23), defaultWindow(45, 45), defaultWindow(46, 46), defaultWindow(128, 128)]).toEqual([5, 7, 7, 11, 11]);
  });

  it('fits small grids: always odd, smaller than the shorter side, every token keeps outside keys', () => {
    expect([2, 3, 4, 5, 6, 7, 8].map((s) => defaultWindow(s, s))).toEqual([1, 1, 3, 3, 5, 5, 5]);
    expect(defaultWindow(4, 16)).toBe(3); // a 64x256 crop at stride 16
    expect(defaultWindow(1, 6)).toBe(1);
    for (let h = 1; h <= 20; h++) {
      for (let w = 1; w <= 20; w++) {
        if (h * w === 1) continue;
        const win = defaultWindow(h, w);
        expect(win % 2, `${h}x${w}`).toBe(1);
        expect(win < Math.max(h, w) || win === 1, `${h}x${w}`).toBe(true);
        expect(() => validateWindow(h, w, win), `${h}x${w}`).not.toThrow();
        // No MLKA row is fully masked: every token has a key outside its window.
        const n = h * w;
        const m = windowMembership(h, w, win);
        for (let i = 0; i < n; i++) expect(m.subarray(i * n, (i + 1) * n).some((v) => v === 0), `${h}x${w} token ${i}`).toBe(true);
      }
    }
    expect(() => defaultWindow(1, 1)).toThrow(/1x1 feature grid has a single token.*larger image size/);
  });

  it('rejects even windows and windows that leave some token no outside keys, with the largest that fits', () => {
    expect(() => validateWindow(16, 16, 4, 'level 0 window')).toThrow(/level 0 window: window 4 must be a positive odd integer/);
    expect(() => validateWindow(4, 4, 5, 'RLR level 1 window')).toThrow(
      /RLR level 1 window: window 5 covers the whole 4x4 grid .*MLKA.*at most 3 for this level .*leave the window unset to get 3/,
    );
    expect(() => validateWindow(4, 4, 3)).not.toThrow();
    expect(() => validateWindow(8, 8, 3)).not.toThrow();
    expect(() => validateWindow(1, 1, 1)).toThrow(/single token/);
  });
});
