import { describe, expect, it } from 'vitest';
import { createRandom, deriveSeed, shuffled } from './random.js';

describe('seeded randomness', () => {
  it('repeats exactly for a seed and differs between seeds', () => {
    const a = Array.from({ length: 5 }, createRandom(7).float);
    const b = Array.from({ length: 5 }, createRandom(7).float);
    const c = Array.from({ length: 5 }, createRandom(8).float);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const r = createRandom(1);
    const xs = Array.from({ length: 20000 }, r.normal);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('derives different seeds for different labels, the same for the same', () => {
    expect(deriveSeed(0, 'disc', 'train', 3)).toBe(deriveSeed(0, 'disc', 'train', 3));
    const seeds = new Set([deriveSeed(0, 'disc', 'train', 3), deriveSeed(0, 'disc', 'train', 4), deriveSeed(0, 'disc', 'test', 3), deriveSeed(1, 'disc', 'train', 3), deriveSeed(0, 'disc', 'train3')]);
    expect(seeds.size).toBe(5);
  });

  it('shuffles into a permutation that depends on the seed only', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffled(items, 3);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled(items, 3)).toEqual(a);
    expect(shuffled(items, 4)).not.toEqual(a);
    expect(a).not.toEqual(items);
  });
});
