import { describe, expect, it } from 'vitest';
import { deriveSeed, permutation, Rng, shuffled } from './rng.js';

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

  it('derives different seeds for different labels, the same for the same', () => {
    expect(deriveSeed(0, 'disc', 'train', 3)).toBe(deriveSeed(0, 'disc', 'train', 3));
    const seeds = new Set([deriveSeed(0, 'disc', 'train', 3), deriveSeed(0, 'disc', 'train', 4), deriveSeed(0, 'disc', 'test', 3), deriveSeed(1, 'disc', 'train', 3), deriveSeed(0, 'disc', 'train3'), deriveSeed(0, 'disctrain', 3)]);
    expect(seeds.size).toBe(6);
  });

  it('draws ranges, inclusive integers and picks within bounds, covering them', () => {
    const r = new Rng(11);
    const ints = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = r.range(-2, 3);
      expect(x >= -2 && x < 3).toBe(true);
      const k = r.intIn(4, 7);
      expect(Number.isInteger(k) && k >= 4 && k <= 7).toBe(true);
      ints.add(k);
    }
    expect([...ints].sort()).toEqual([4, 5, 6, 7]);
    expect(new Set(Array.from({ length: 200 }, () => r.pick(['a', 'b', 'c']))).size).toBe(3);
    expect(() => r.pick([])).toThrow(/empty/);
  });

  it('shuffles a copy into a permutation that depends on the seed only', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffled(items, new Rng(3));
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled(items, new Rng(3))).toEqual(a);
    expect(shuffled(items, new Rng(4))).not.toEqual(a);
    expect(a).not.toEqual(items);
  });
});
