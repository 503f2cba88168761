import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { NearestDistanceIndex } from './nearest-distance.js';
import { Rng } from './rng.js';

/** Brute force in double precision: min over the bank of Σ (q − b)², square-rooted. */
function bruteForce(queries: Float32Array, bank: Float32Array, C: number): Float64Array {
  const n = queries.length / C;
  const m = bank.length / C;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (queries[i * C + c] - bank[j * C + c]) ** 2;
      best = Math.min(best, s);
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12));
  return worst;
}

describe('NearestDistanceIndex', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('equals a brute-force distance computation (float32, 1e-5 relative), across bank and query chunks', async () => {
    const C = 20;
    const rng = new Rng(3);
    // Features with a large common offset (as post-ReLU backbone maps have): the expanded
    // ‖q‖² − 2q·b + ‖b‖² alone would lose digits here.
    const bank = rng.fillNormal(new Float32Array(300 * C), 5, 1);
    const queries = rng.fillNormal(new Float32Array(70 * C), 5, 1.2);
    queries.set(bank.subarray(10 * C, 11 * C), 3 * C); // one query sits on a bank token: distance 0
    const expected = bruteForce(queries, bank, C);
    const before = tf.memory().numTensors;
    const index = NearestDistanceIndex.fromRows(bank, C, { bankChunk: 64, queryChunk: 16 });
    const got = await index.nearest(queries);
    expect(got[3]).toBe(0);
    expect(maxRelativeError(got, expected)).toBeLessThan(1e-5);
    // One chunk each gives the same distances.
    const whole = NearestDistanceIndex.fromRows(bank, C, { bankChunk: 1000, queryChunk: 1000 });
    expect(Array.from(await whole.nearest(queries))).toEqual(Array.from(got));
    index.dispose();
    whole.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('grows with add() and checks shapes', async () => {
    const C = 4;
    const bank = new Rng(8).fillNormal(new Float32Array(50 * C));
    const q = new Rng(9).fillNormal(new Float32Array(5 * C));
    const index = new NearestDistanceIndex(C, { bankChunk: 16 });
    index.add(bank.subarray(0, 20 * C));
    index.add(bank.subarray(20 * C));
    expect(index.size).toBe(50);
    expect(maxRelativeError(await index.nearest(q), bruteForce(q, bank, C))).toBeLessThan(1e-5);
    expect(() => index.add(new Float32Array(3))).toThrow(/rows of 4 channels/);
    await expect(index.nearest(new Float32Array(10))).rejects.toThrow();
    index.dispose();
    await expect(new NearestDistanceIndex(C).nearest(q)).rejects.toThrow(/empty/);
  });
});
