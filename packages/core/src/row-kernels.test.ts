import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { addBlocks, columnSum, concatColumns, gatherRows, splitColumns, transpose2d } from './row-kernels.js';

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

  it('transpose2d and concatColumns match tf.transpose and tf.concat exactly', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([37, 21], 0, 1, 'float32', 6) as tf.Tensor2D;
    const parts = [x, tf.randomNormal([37, 1], 0, 1, 'float32', 7), tf.randomNormal([37, 5], 0, 1, 'float32', 8)] as tf.Tensor2D[];
    const t = transpose2d(x);
    expect(t.shape).toEqual([21, 37]);
    expect(Array.from(t.dataSync())).toEqual(Array.from(tf.transpose(x).dataSync()));
    const c = concatColumns(parts);
    expect(c.shape).toEqual([37, 27]);
    expect(Array.from(c.dataSync())).toEqual(Array.from(tf.concat(parts, 1).dataSync()));
    expect(() => concatColumns([x, tf.zeros([3, 2]) as tf.Tensor2D])).toThrow(/matrices of 37 rows/);
    tf.dispose([t, c, ...parts]);
  });

  it('addBlocks adds (transposed) blocks into zeros', async () => {
    await useBackend(backend);
    const a = tf.randomNormal([3, 4], 0, 1, 'float32', 9) as tf.Tensor2D;
    const b = tf.randomNormal([2, 5], 0, 1, 'float32', 10) as tf.Tensor2D;
    const got = addBlocks(6, 7, [
      { x: a, row: 1, col: 2 },
      { x: b, row: 1, col: 3, transposed: true },
      { x: a, row: 0, col: 0 },
    ]).arraySync();
    const [av, bv] = [a.arraySync(), b.arraySync()];
    const want = Array.from({ length: 6 }, () => new Array(7).fill(0));
    av.forEach((row, i) => row.forEach((v, j) => (want[1 + i][2 + j] += v)));
    bv.forEach((row, i) => row.forEach((v, j) => (want[1 + j][3 + i] += v)));
    av.forEach((row, i) => row.forEach((v, j) => (want[i][j] += v)));
    got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(1e-6)));
    expect(() => addBlocks(6, 7, [{ x: b, row: 3, col: 3, transposed: true }])).toThrow(/outside \[6, 7\]/);
    tf.dispose([a, b]);
  });

  it('does not leak tensors', async () => {
    await useBackend(backend);
    const x = tf.randomNormal([16, 8]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gatherRows(x, [[1, 2], [9, 4]]);
      splitColumns(x, [4, 4]);
      transpose2d(x);
      concatColumns([x, x]);
      addBlocks(20, 20, [{ x, row: 1, col: 2, transposed: true }]);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
