import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { columnSum, gatherRows, splitColumns } from './row-kernels.js';

describe.each(TEST_BACKENDS)('row kernels on %s', (backend) => {
  it('gatherRows concatenates the requested row ranges exactly like slice + concat', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([37, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    const runs: [number, number][] = [[30, 7], [0, 3], [12, 1], [5, 10]];
    const got = gatherRows(x, runs);
    const want = tf.concat(runs.map(([s, n]) => tf.slice(x, [s, 0], [n, -1])), 0);
    expect(got.shape).toEqual([21, 5]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    expect(() => gatherRows(x, [[35, 3]])).toThrow(/outside the 37 rows/);
    tf.dispose([x, got, want]);
  });

  it('splitColumns cuts column blocks exactly like tf.split', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([9, 12], 0, 1, 'float32', 4) as tf.Tensor2D;
    const sizes = [3, 1, 8];
    const got = splitColumns(x, sizes);
    const want = tf.split(x, sizes, 1);
    got.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(want[i].dataSync())));
    expect(() => splitColumns(x, [5, 5])).toThrow(/add up to 10/);
    tf.dispose([x, ...got, ...want]);
  });

  it('columnSum adds the rows', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([300, 7], 0, 1, 'float32', 5) as tf.Tensor2D;
    const got = columnSum(x).dataSync();
    const want = tf.sum(x, 0).dataSync();
    got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-4));
    x.dispose();
  });

  it('does not leak tensors', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([16, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gatherRows(x, [[1, 2], [9, 4]]);
      splitColumns(x, [4, 4]);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
