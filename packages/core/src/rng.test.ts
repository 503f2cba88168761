import { describe, expect, it } from 'vitest';
import { deriveSeed, permutation, Rng } from './rng.js';

describe('seeded random numbers', () => {
  it('repeats exactly for a seed and differs across seeds and seed parts', () => {
    const a = new Rng(42).fillNormal(new Float32Array(100));
    const b = new Rng(42).fillNormal(new Float32Array(100));
    const c = new Rng(43).fillNormal(new Float32Array(100));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(deriveSeed(1, 2, 3)).not.toBe(deriveSeed(1, 3, 2));
    expect(deriveSeed(1, 2 ** 40)).not.toBe(deriveSeed(1, 0));
  });

  it('draws standard normals with the right moments', () => {
    const x = new Rng(7).fillNormal(new Float32Array(200_000));
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });

  it('shuffles into a permutation', () => {
    const p = permutation(1000, new Rng(5));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(p).not.toEqual(Int32Array.from({ length: 1000 }, (_, i) => i));
  });
});
