import * as tf from '@tensorflow/tfjs-core';
import { tidy } from './tidy.js';

/**
 * 2-D matrix products shaped for speed on every backend.
 *
 * On `wasm` only an untransposed 2-D `matMul` reaches XNNPACK's full speed (21–26 GFLOP/s);
 * the `transposeA`/`transposeB` flags drop it to 0.7–3 GFLOP/s and rank-3 batched products to
 * 0.7–2 (SPEC section 5). So on `wasm` every product with a transposed operand materialises a
 * transpose first, choosing whichever of the two algebraically equal forms moves fewer elements
 * through `transpose` (itself ~10 ns per element there). Other backends (cpu, webgl, webgpu,
 * tensorflow) handle the flags inside their kernels, so they get the flags directly.
 */

function explicitTransposes(): boolean {
  return tf.getBackend() === 'wasm';
}

/** a·b for a [M, K], b [K, N] → [M, N]. */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, b);
}

/** a·b + bias for a [M, K], b [K, N], bias [N] → [M, N] (one fused kernel). */
export function linear(a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a, b, bias }) as tf.Tensor2D;
}

/** a·bᵀ for a [M, K], b [N, K] → [M, N]. */
export function mmNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!explicitTransposes()) return tf.matMul(a, b, false, true);
  const [M, K] = a.shape;
  const N = b.shape[0];
  // Either transpose b (N·K elements), or compute (b·aᵀ)ᵀ: transposes a (M·K) and the result (M·N).
  if (N * K <= M * K + M * N) {
    return tidy(() => tf.matMul(a, tf.transpose(b)) as tf.Tensor2D);
  }
  return tidy(() => tf.transpose(tf.matMul(b, tf.transpose(a))) as tf.Tensor2D);
}

/** aᵀ·b for a [K, M], b [K, N] → [M, N]. */
export function mmTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!explicitTransposes()) return tf.matMul(a, b, true, false);
  const [K, M] = a.shape;
  const N = b.shape[1];
  // Either transpose a (K·M), or compute (bᵀ·a)ᵀ: transposes b (K·N) and the result (N·M).
  if (K * M <= K * N + N * M) {
    return tidy(() => tf.matMul(tf.transpose(a), b) as tf.Tensor2D);
  }
  return tidy(() => tf.transpose(tf.matMul(tf.transpose(b), a)) as tf.Tensor2D);
}
