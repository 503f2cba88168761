import { describe, expect, it } from 'vitest';
import { coresetSize, greedyCoreset, randomProjection } from './coreset.js';
import { deriveSeed, Rng } from './rng.js';

/** Brute-force greedy k-center: the full pairwise distance matrix, then the textbook loop. */
function bruteForceGreedy(rows: Float32Array, channels: number, count: number, first: number): number[] {
  const n = rows.length / channels;
  const dist: number[][] = [];
  for (let i = 0; i < n; i++) {
    dist.push([]);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += (rows[i * channels + c] - rows[j * channels + c]) ** 2;
      dist[i].push(s);
    }
  }
  const chosen = [first];
  while (chosen.length < count) {
    let best = -1;
    let at = -1;
    for (let i = 0; i < n; i++) {
      if (chosen.includes(i)) continue;
      const m = Math.min(...chosen.map((k) => dist[i][k]));
      if (m > best) [best, at] = [m, i];
    }
    chosen.push(at);
  }
  return chosen;
}

function randomRows(n: number, channels: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n * channels));
}

describe('greedyCoreset', () => {
  it('chooses exactly what a brute-force greedy k-center selection chooses', async () => {
    const C = 6;
    const rows = randomRows(120, C, 5);
    const chosen = await greedyCoreset(rows, C, 30, { seed: 9 });
    // The first pick is the seeded random one; everything after it is determined by the data.
    const first = new Rng(deriveSeed(9, 0x6b63)).int(120);
    expect(chosen[0]).toBe(first);
    expect(Array.from(chosen)).toEqual(bruteForceGreedy(rows, C, 30, first));
    expect(new Set(chosen).size).toBe(30);
  });

  it('with a projection, equals brute-force greedy on the projected tokens', async () => {
    const C = 24;
    const rows = randomRows(80, C, 6);
    const chosen = await greedyCoreset(rows, C, 20, { seed: 4, projection: 8 });
    const projected = randomProjection(rows, C, 8, 4);
    expect(Array.from(chosen)).toEqual(bruteForceGreedy(projected, 8, 20, chosen[0]));
  });

  it('is seeded: the same seed gives the same coreset, another seed another first pick', async () => {
    const rows = randomRows(200, 4, 1);
    const a = await greedyCoreset(rows, 4, 10, { seed: 1 });
    const b = await greedyCoreset(rows, 4, 10, { seed: 1 });
    expect(Array.from(a)).toEqual(Array.from(b));
    const others = await Promise.all([2, 3, 4, 5].map((s) => greedyCoreset(rows, 4, 10, { seed: s })));
    expect(others.some((o) => o[0] !== a[0])).toBe(true);
  });

  it('never repeats a token, even when duplicates leave every distance at zero', async () => {
    const rows = new Float32Array(10 * 3).fill(1);
    const chosen = await greedyCoreset(rows, 3, 10, { seed: 0 });
    expect(new Set(chosen).size).toBe(10);
  });

  it('checks its arguments; coresetSize rounds and keeps at least one token', async () => {
    await expect(greedyCoreset(new Float32Array(10), 3, 1, { seed: 0 })).rejects.toThrow(/rows of 3 channels/);
    await expect(greedyCoreset(new Float32Array(12), 3, 5, { seed: 0 })).rejects.toThrow(/cannot choose 5 of 4/);
    expect(coresetSize(1000, 0.1)).toBe(100);
    expect(coresetSize(1000, 1)).toBe(1000);
    expect(coresetSize(3, 0.01)).toBe(1);
    expect(() => coresetSize(10, 0)).toThrow(/outside \(0, 1\]/);
    expect(() => coresetSize(10, 1.5)).toThrow(/outside \(0, 1\]/);
  });
});
