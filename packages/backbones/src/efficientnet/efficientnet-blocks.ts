/**
 * The EfficientNet forward pass, written once against a small set of layer operations so that the
 * fast inference path (BatchNorm folded into the convs) and the BatchNorm calibration pass
 * (statistics measured on the fly) run exactly the same block structure.
 */
import * as tf from '@tensorflow/tfjs-core';
import { blockConvs, stemConv, type ConvBnSpec } from './efficientnet-params.js';
import type { BlockSpec, EfficientNetArchitecture } from './efficientnet-variants.js';

/** How a conv+BN pair and a squeeze-excitation are computed. */
export interface EfficientNetOps {
  /**
   * Conv followed by its BatchNorm, no activation. TF "SAME" padding.
   * @param x `[B, H, W, Cin]`
   * @returns `[B, H/stride, W/stride, Cout]`
   */
  convBn(x: tf.Tensor4D, spec: ConvBnSpec): tf.Tensor4D;
  /**
   * Squeeze-excitation gate: global mean → reduce conv (bias) → SiLU → expand conv (bias) → sigmoid.
   * @param x `[B, H, W, C]`
   * @returns `[B, C]` gate in (0, 1)
   */
  squeezeExciteGate(x: tf.Tensor4D, block: BlockSpec): tf.Tensor2D;
  /**
   * The block's projection (1x1 conv + BN) applied to `x` gated by the squeeze-excitation:
   * `convBn(x · gate)`, computed however is fastest.
   * @param x `[B, H, W, C]`, gate `[B, C]` → `[B, H, W, Cout]`
   */
  gatedConvBn(x: tf.Tensor4D, gate: tf.Tensor2D, spec: ConvBnSpec): tf.Tensor4D;
}

/** SiLU (swish): x·sigmoid(x). */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Stem: 3x3 stride-2 conv, BatchNorm, SiLU.
 * @param x `[B, H, W, 3]`, already normalised → `[B, H/2, W/2, stem]`
 */
export function runStem(ops: EfficientNetOps, arch: EfficientNetArchitecture, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => silu(ops.convBn(x, stemConv(arch))));
}

/**
 * One block (depthwise-separable or inverted residual), inference mode (no drop-path).
 * @param x `[B, H, W, in]` → `[B, H/stride, W/stride, out]`. `x` is not disposed.
 */
export function runBlock(ops: EfficientNetOps, block: BlockSpec, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const { expand, dw, project } = blockConvs(block);
    let h = x;
    if (expand) h = silu(ops.convBn(h, expand));
    h = silu(ops.convBn(h, dw));
    h = ops.gatedConvBn(h, ops.squeezeExciteGate(h, block), project); // linear projection: no activation
    return block.skip ? tf.add(h, x) : h;
  });
}

/**
 * Run the stem and the first `blockCount` blocks, handing each block output to `keep`, which
 * says whether the caller takes ownership of it. Intermediate maps are disposed as soon as the
 * next block has consumed them, so peak memory stays at about two block activations.
 * @param x `[B, H, W, 3]`, normalised input (not disposed)
 */
export function runBlocks(
  ops: EfficientNetOps,
  arch: EfficientNetArchitecture,
  x: tf.Tensor4D,
  blockCount: number,
  keep: (blockIndex: number, output: tf.Tensor4D) => boolean,
): void {
  let h = runStem(ops, arch, x);
  let owned = false;
  for (let i = 0; i < blockCount; i++) {
    const next = runBlock(ops, arch.blocks[i], h);
    if (!owned) h.dispose();
    h = next;
    owned = keep(i, h);
  }
  if (!owned) h.dispose();
}
