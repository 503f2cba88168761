import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';
import { columnSum, linear, mmNT, weightGradient } from './fast-matmul.js';

/**
 * Embedding2D (SPEC section 3): a 1x1 projection C → d (PyTorch Conv1d) plus the fixed 2-D
 * sin-cos position code P [N, d], the same code for every image.
 *
 * @param x tokens [B·N, C] (row b·N + n is token n of image b)
 * @param w projection [C, d] (the transpose of the Conv1d weight), b bias [d]
 * @param pos position code [N, d]
 * @returns [B·N, d]
 */
export function embed2D(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, pos: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const [rows, d] = [x.shape[0], w.shape[1]];
    const n = pos.shape[0];
    if (rows % n !== 0) {
      throw new Error(`embed2D: ${rows} token rows are not a whole number of ${n}-token grids`);
    }
    const y = linear(x, w, b);
    if (rows === n) return tf.add(y, pos) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.reshape(y, [rows / n, n, d]), pos), [rows, d]) as tf.Tensor2D;
  });
}

/**
 * Backward of {@link embed2D} given dy [B·N, d]: parameter gradients, and the input gradient
 * when `needInput` (the reference R needs it; the backbone features do not).
 */
export function embed2DBackward(
  dy: tf.Tensor2D,
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  needInput: boolean,
): { dw: tf.Tensor2D; db: tf.Tensor1D; dx: tf.Tensor2D | null } {
  return tidy(() => ({
    dw: weightGradient([x], [dy]),
    db: columnSum(dy),
    dx: needInput ? mmNT(dy, w) : null,
  }));
}
