/**
 * The 3x3 feature smoothing RLR applies to every backbone level (SPEC section 3): a 3x3 average,
 * stride 1, zero padding 1, with the padded zeros counted in the average (PyTorch
 * `AvgPool2d(3, 1, 1)`, `count_include_pad=True`). TF's `same` average pool would divide border
 * windows by the number of real pixels instead, so the map is zero-padded explicitly and pooled
 * with `valid` windows, which always divide by 9.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Smooth a feature map with a 3x3 mean, zeros outside the map counted.
 * @param x `[B, H, W, C]`
 * @returns `[B, H, W, C]` (a new tensor; `x` is not disposed)
 */
export function smoothFeatures(x: tf.Tensor4D): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`smoothFeatures: expected a [B, H, W, C] map, got shape [${x.shape.join(', ')}]`);
  return tf.tidy(() =>
    tf.avgPool(
      tf.pad(x, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
      3,
      1,
      'valid',
    ),
  );
}
