import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { FeatureBank } from './feature-bank.js';

describe('FeatureBank', () => {
  it('grows as batches are appended and reads images back in the requested order', async () => {
    await useBackend('cpu');
    const levels = [
      { grid: [2, 2] as [number, number], channels: 3 },
      { grid: [1, 1] as [number, number], channels: 2 },
    ];
    const bank = new FeatureBank(levels, 1);
    // Image k holds value k everywhere.
    const batch = (ks: number[]) => levels.map((l) => {
      const per = l.grid[0] * l.grid[1] * l.channels;
      return tf.tensor4d(Float32Array.from({ length: ks.length * per }, (_, i) => ks[Math.floor(i / per)]), [ks.length, l.grid[0], l.grid[1], l.channels]);
    });
    for (const ks of [[0, 1], [2], [3, 4, 5]]) {
      const t = batch(ks);
      await bank.append(t);
      tf.dispose(t);
    }
    expect(bank.size).toBe(6);
    const [a, b] = await bank.read([5, 0, 3]);
    expect(Array.from(a)).toEqual([...new Array(12).fill(5), ...new Array(12).fill(0), ...new Array(12).fill(3)]);
    expect(Array.from(b)).toEqual([5, 5, 0, 0, 3, 3]);
    await expect(bank.read([6])).rejects.toThrow(/outside 0\.\.5/);
    const wrong = tf.zeros([1, 3, 3, 3]);
    await expect(bank.append([wrong, wrong])).rejects.toThrow(/do not match/);
    wrong.dispose();
  });
});
