import * as tf from '@tensorflow/tfjs-core';
import { columnSum as rowKernelColumnSum, concatColumns, transpose2d } from './row-kernels.js';
import { tidy } from './tidy.js';

/**
 * Matrix products and data movement shaped for speed on every backend.
 *
 * On `wasm` (SPEC section 5, and measured for this package):
 * - only an untransposed 2-D `matMul` is fast (XNNPACK, 20–30 GFLOP/s); the transpose flags and
 *   rank-3 batched products run at 0.7–3 GFLOP/s;
 * - the right operand is repacked by XNNPACK on every new tensor (~5 ns per element), so products
 *   are arranged with a small or reused right operand and many rows on the left;
 * - `transpose` costs ~10 ns per element (RLR's own kernel, `transpose2d`, ~3 ns), so transposes
 *   are explicit, counted and done on the smaller side;
 * - `slice` copies its whole input through JavaScript on every call, and reductions over a
 *   leading axis transpose first — so activations are kept per image and per head (never sliced
 *   by columns), and column sums are products with a row of ones.
 * Other backends (cpu, webgl, webgpu, tensorflow) handle transposes inside their kernels, so they
 * get the flags directly.
 */

/** Whether to materialise transposes instead of passing transpose flags. */
export function explicitTransposes(): boolean {
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

/**
 * Relative costs per element on wasm (measured, ns): a transpose by `transpose2d` (~2.5–7), and
 * XNNPACK's packing of a right operand it has not seen before (~13–15: a [32, 1024]·[1024, 1024]
 * product takes 17 ms with a fresh right operand and 3.5 ms with a packed one). Products are
 * arranged to minimise transposes + repacking, since the multiply-adds are the same either way.
 */
const TRANSPOSE_COST = 3;
const REPACK_COST = 13;

/** a·bᵀ for a [M, K], b [N, K] → [M, N]. */
export function mmNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!explicitTransposes()) return tf.matMul(a, b, false, true);
  const [M, K] = a.shape;
  const N = b.shape[0];
  // Either a·(bᵀ): transpose b and pack it (N·K each); or (b·aᵀ)ᵀ: transpose and pack a (M·K), transpose the result (M·N).
  const direct = (TRANSPOSE_COST + REPACK_COST) * N * K;
  const swapped = (TRANSPOSE_COST + REPACK_COST) * M * K + TRANSPOSE_COST * M * N;
  if (direct <= swapped) return tidy(() => tf.matMul(a, transpose2d(b)) as tf.Tensor2D);
  return tidy(() => transpose2d(tf.matMul(b, transpose2d(a))));
}

/** aᵀ·b for a [K, M], b [K, N] → [M, N]. */
export function mmTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!explicitTransposes()) return tf.matMul(a, b, true, false);
  const [K, M] = a.shape;
  const N = b.shape[1];
  // Either (aᵀ)·b: transpose a (K·M), pack b (K·N); or (bᵀ·a)ᵀ: transpose b (K·N), pack a (K·M), transpose the result (N·M).
  const direct = TRANSPOSE_COST * K * M + REPACK_COST * K * N;
  const swapped = TRANSPOSE_COST * K * N + REPACK_COST * K * M + TRANSPOSE_COST * N * M;
  if (direct <= swapped) return tidy(() => tf.matMul(transpose2d(a), b) as tf.Tensor2D);
  return tidy(() => transpose2d(tf.matMul(transpose2d(b), a)));
}

/** Σ over rows of x [M, N] → [N] (on wasm a heap-reading kernel: no leading-axis transpose). */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  return rowKernelColumnSum(x);
}

/** Σ of column sums of several [M_i, N] matrices → [N]. */
export function columnSums(xs: tf.Tensor2D[]): tf.Tensor1D {
  return tidy(() => columnSum(xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as tf.Tensor2D)));
}

/**
 * Σ_b x_bᵀ·dy_b for per-image pairs x_b [N, in], dy_b [N, out] → [in, out]: the weight gradient
 * of a linear map applied image by image. Concatenation is cheap on every backend (no JavaScript
 * copy of the inputs), so the images are stacked and multiplied once.
 * @param xT optional precomputed transposes x_bᵀ [in, N] (shared by several gradients)
 */
export function weightGradient(xs: tf.Tensor2D[], dys: tf.Tensor2D[], xT?: tf.Tensor2D[]): tf.Tensor2D {
  return tidy(() => {
    const dy = dys.length === 1 ? dys[0] : (tf.concat(dys, 0) as tf.Tensor2D);
    if (!explicitTransposes()) {
      const x = xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as tf.Tensor2D);
      return tf.matMul(x, dy, true, false) as tf.Tensor2D;
    }
    const [n, inDim] = xs[0].shape;
    const outDim = dys[0].shape[1];
    const rows = n * xs.length;
    // xᵀ·dy transposes x (rows·in, unless given) and packs dy (rows·out); (dyᵀ·x)ᵀ transposes dy
    // (rows·out), packs x (rows·in) and transposes the result (in·out).
    const direct = (xT ? 0 : TRANSPOSE_COST * rows * inDim) + REPACK_COST * rows * outDim;
    const swapped = TRANSPOSE_COST * rows * outDim + REPACK_COST * rows * inDim + TRANSPOSE_COST * inDim * outDim;
    if (direct <= swapped) {
      const t = xT ?? xs.map((x) => transpose2d(x));
      return tf.matMul(concatColumns(t), dy) as tf.Tensor2D;
    }
    const dyT = dys.map((d) => transpose2d(d));
    const x = xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as tf.Tensor2D);
    return transpose2d(tf.matMul(concatColumns(dyT), x));
  });
}

export { transpose2d };
