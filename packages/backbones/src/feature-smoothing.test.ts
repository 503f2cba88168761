import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@rlr/testing';
import { smoothFeatures } from './feature-smoothing.js';
import { imagenetNormalize, signedUnitRange } from './preprocessing.js';

/** PyTorch AvgPool2d(3, 1, 1) with count_include_pad=True, written out directly. */
function avgPoolReference(x: Float32Array, [b, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) {
          let sum = 0;
          for (let di = -1; di <= 1; di++)
            for (let dj = -1; dj <= 1; dj++) {
              const y = i + di;
              const z = j + dj;
              if (y >= 0 && y < h && z >= 0 && z < w) sum += x[((n * h + y) * w + z) * c + k];
            }
          out[((n * h + i) * w + j) * c + k] = sum / 9; // always 9: padded zeros count
        }
  return out;
}

describe.each(TEST_BACKENDS)('3x3 feature smoothing on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('matches AvgPool2d(3, 1, 1) with zeros counted, including borders and corners', () => {
    const shape = [2, 5, 7, 3];
    const data = Float32Array.from({ length: 2 * 5 * 7 * 3 }, (_, i) => Math.sin(i * 1.3) + 1);
    const x = tf.tensor4d(data, shape as [number, number, number, number]);
    const y = smoothFeatures(x);
    expect(y.shape).toEqual(shape);
    const got = y.dataSync();
    const want = avgPoolReference(data, shape);
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    tf.dispose([x, y]);
  });

  it('a constant map of ones gives 4/9 in corners, 6/9 on edges, 1 inside', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const y = smoothFeatures(x);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(4 / 9, 6);
    expect(v[1]).toBeCloseTo(6 / 9, 6);
    expect(v[5]).toBeCloseTo(1, 6);
    tf.dispose([x, y]);
  });
});

describe('preprocessing', () => {
  beforeAll(() => useBackend('cpu'));

  it('ImageNet normalisation maps the mean colour to 0 and mean + std to 1', () => {
    const x = tf.tensor4d([0.485, 0.456, 0.406, 0.714, 0.68, 0.631], [1, 1, 2, 3]);
    const y = imagenetNormalize(x).dataSync();
    [0, 0, 0, 1, 1, 1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
  });

  it('signed unit range is 2x − 1 (Keras MobileNet x/127.5 − 1 on 0..255)', () => {
    const x = tf.tensor4d([0, 0.5, 1], [1, 1, 1, 3]);
    expect([...signedUnitRange(x).dataSync()]).toEqual([-1, 0, 1]);
  });
});
