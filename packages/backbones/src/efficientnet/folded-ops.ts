/**
 * The fast inference path: folded weights as tfjs tensors, each layer in the formulation that is
 * quick on the wasm backend (XNNPACK): 1x1 convs as untransposed 2-D matMuls with a fused bias,
 * depthwise and the stem as fused convs with bias. Measured on wasm (2 cores, one thread), a 1x1
 * conv as `matMul([B·H·W, in], [in, out])` runs at the GEMM's full rate; squeeze-excitation uses
 * the same 2-D products on `[B, C]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvBnSpec } from './efficientnet-params.js';
import type { EfficientNetOps } from './efficientnet-blocks.js';
import { silu } from './efficientnet-blocks.js';
import type { BlockSpec } from './efficientnet-variants.js';
import type { FoldedConv, FoldedEfficientNetWeights } from './efficientnet-weights.js';

interface ConvTensors {
  kind: FoldedConv['kind'];
  weight: tf.Tensor;
  bias: tf.Tensor1D;
  stride: number;
}

interface SeTensors {
  reduce: tf.Tensor2D;
  reduceBias: tf.Tensor1D;
  expand: tf.Tensor2D;
  expandBias: tf.Tensor1D;
}

/** Folded EfficientNet weights uploaded to the active tfjs backend. Call `dispose()` when done. */
export class FoldedOps implements EfficientNetOps {
  private readonly convs = new Map<string, ConvTensors>();
  private readonly se = new Map<string, SeTensors>();

  constructor(weights: FoldedEfficientNetWeights) {
    for (const [name, c] of weights.convs) {
      this.convs.set(name, {
        kind: c.kind,
        weight: tf.tensor(c.weight, c.shape, 'float32'),
        bias: tf.tensor1d(c.bias, 'float32'),
        stride: c.stride,
      });
    }
    for (const [name, s] of weights.se) {
      this.se.set(name, {
        reduce: tf.tensor2d(s.reduceWeight, [s.channels, s.reduced]),
        reduceBias: tf.tensor1d(s.reduceBias),
        expand: tf.tensor2d(s.expandWeight, [s.reduced, s.channels]),
        expandBias: tf.tensor1d(s.expandBias),
      });
    }
  }

  convBn(x: tf.Tensor4D, spec: ConvBnSpec): tf.Tensor4D {
    const c = this.convs.get(spec.conv);
    if (!c) throw new Error(`EfficientNet: layer "${spec.conv}" was not loaded (internal error: blockCount too small)`);
    if (c.kind === 'matmul') {
      const [b, h, w, cin] = x.shape;
      const cout = c.bias.shape[0];
      const flat = tf.reshape(x, [b * h * w, cin]);
      const y = tf.fused.matMul({ a: flat, b: c.weight, bias: c.bias });
      return tf.reshape(y, [b, h, w, cout]);
    }
    if (c.kind === 'depthwise') {
      return tf.fused.depthwiseConv2d({ x, filter: c.weight as tf.Tensor4D, strides: c.stride, pad: 'same', bias: c.bias });
    }
    return tf.fused.conv2d({ x, filter: c.weight as tf.Tensor4D, strides: c.stride, pad: 'same', bias: c.bias });
  }

  squeezeExciteGate(x: tf.Tensor4D, block: BlockSpec): tf.Tensor2D {
    const s = this.se.get(block.prefix);
    if (!s) throw new Error(`EfficientNet: squeeze-excitation of "${block.prefix}" was not loaded (internal error)`);
    const [b, h, w, c] = x.shape;
    // Global average as an [H, W] average pool: on wasm this is XNNPACK's NHWC pooling, several
    // times faster than `mean` over axes 1 and 2 (which transposes the whole map first).
    const pooled = tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [b, c]) as tf.Tensor2D; // [B, C]
    const reduced = silu(tf.fused.matMul({ a: pooled, b: s.reduce, bias: s.reduceBias })); // [B, rd]
    return tf.fused.matMul({ a: reduced, b: s.expand, bias: s.expandBias, activation: 'sigmoid' }) as tf.Tensor2D; // [B, C]
  }

  gatedConvBn(x: tf.Tensor4D, gate: tf.Tensor2D, spec: ConvBnSpec): tf.Tensor4D {
    // Gate, then one 2-D product. Folding the gate into per-sample weights instead would need a
    // batched (rank-3) product, which is several times slower than a broadcast multiply on wasm.
    const [b, , , c] = x.shape;
    return this.convBn(tf.mul(x, tf.reshape(gate, [b, 1, 1, c])), spec);
  }

  dispose(): void {
    for (const c of this.convs.values()) tf.dispose([c.weight, c.bias]);
    for (const s of this.se.values()) tf.dispose([s.reduce, s.reduceBias, s.expand, s.expandBias]);
    this.convs.clear();
    this.se.clear();
  }
}
