/**
 * BatchNorm calibration: set every BatchNorm's running mean and variance from the batch
 * statistics of a set of images, layer by layer in execution order (each layer sees the output of
 * the already calibrated layers before it). A randomly initialised network calibrated this way
 * gives features of unit scale instead of activations that grow or vanish with depth.
 */
import * as tf from '@tensorflow/tfjs-core';
import { imagenetNormalize, checkImages } from '../preprocessing.js';
import { requireTensor, type CheckpointContext, type TensorMap } from '../weights/checkpoint-tensors.js';
import { torchConvToTfjs, tfjsConvShape } from '../weights/pytorch-layout.js';
import { runBlocks, silu, type EfficientNetOps } from './efficientnet-blocks.js';
import type { ConvBnSpec } from './efficientnet-params.js';
import { efficientNetArchitecture, TF_BN_EPS, type BlockSpec } from './efficientnet-variants.js';
import { requireEfficientNetName } from './efficientnet.js';

/** Options of {@link calibrateBatchNorm}. */
export interface BatchNormCalibrationOptions {
  /** Calibrate the stem and the first `blockCount` blocks (default: all blocks). */
  blockCount?: number;
  /** Name of the weights for error messages. */
  source?: string;
}

/** What calibration measured at one BatchNorm. */
export interface BatchNormLayerStats {
  /** timm name of the BatchNorm, e.g. `blocks.1.0.bn2`. */
  bn: string;
  /** Batch mean and (biased) variance of the BN's input, now its running statistics. */
  inputMean: Float32Array;
  inputVariance: Float32Array;
}

/** Result of {@link calibrateBatchNorm}. */
export interface BatchNormCalibration {
  /** A copy of the weights with calibrated `running_mean` / `running_var` (other tensors shared). */
  weights: TensorMap;
  /** One entry per calibrated BatchNorm, in execution order. */
  layers: BatchNormLayerStats[];
}

/** Raw (unfolded) convs that measure and normalise with batch statistics. */
class CalibrationOps implements EfficientNetOps {
  readonly layers: BatchNormLayerStats[] = [];

  constructor(private readonly weights: TensorMap, private readonly ctx: CheckpointContext) {}

  convBn(x: tf.Tensor4D, spec: ConvBnSpec): tf.Tensor4D {
    const out = spec.shape[0];
    const raw = requireTensor(this.weights, `${spec.conv}.weight`, spec.shape, this.ctx);
    const filter = tf.tensor4d(torchConvToTfjs(raw, spec.shape), tfjsConvShape(spec.shape, spec.depthwise));
    const y = spec.depthwise ? tf.depthwiseConv2d(x, filter, spec.stride, 'same') : tf.conv2d(x, filter, spec.stride, 'same');
    // Biased variance: normalising with it gives exactly unit variance on the calibration batch.
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const inputMean = mean.dataSync() as Float32Array;
    const inputVariance = variance.dataSync() as Float32Array;
    this.weights.set(`${spec.bn}.running_mean`, { dtype: 'F32', shape: [out], data: inputMean.slice() });
    this.weights.set(`${spec.bn}.running_var`, { dtype: 'F32', shape: [out], data: inputVariance.slice() });
    this.layers.push({ bn: spec.bn, inputMean: inputMean.slice(), inputVariance: inputVariance.slice() });
    const gamma = tf.tensor1d(requireTensor(this.weights, `${spec.bn}.weight`, [out], this.ctx));
    const beta = tf.tensor1d(requireTensor(this.weights, `${spec.bn}.bias`, [out], this.ctx));
    return tf.batchNorm4d(y, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, TF_BN_EPS);
  }

  squeezeExciteGate(x: tf.Tensor4D, block: BlockSpec): tf.Tensor2D {
    const c = block.midChannels;
    const rd = block.seChannels;
    const p = `${block.prefix}.se`;
    const read = (n: string, shape: [number, number, number, number]) =>
      tf.tensor2d(torchConvToTfjs(requireTensor(this.weights, `${p}.${n}.weight`, shape, this.ctx), shape), [shape[1], shape[0]]);
    const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D; // [B, C]
    const reduceBias = tf.tensor1d(requireTensor(this.weights, `${p}.conv_reduce.bias`, [rd], this.ctx));
    const expandBias = tf.tensor1d(requireTensor(this.weights, `${p}.conv_expand.bias`, [c], this.ctx));
    const reduced = silu(tf.add(tf.matMul(pooled, read('conv_reduce', [rd, c, 1, 1])), reduceBias));
    return tf.sigmoid(tf.add(tf.matMul(reduced, read('conv_expand', [c, rd, 1, 1])), expandBias)) as tf.Tensor2D;
  }

  gatedConvBn(x: tf.Tensor4D, gate: tf.Tensor2D, spec: ConvBnSpec): tf.Tensor4D {
    return this.convBn(tf.mul(x, tf.reshape(gate, [x.shape[0], 1, 1, x.shape[3]])), spec);
  }
}

/**
 * Calibrate the BatchNorm statistics of an EfficientNet on a set of images.
 * @param name variant, e.g. `tf_efficientnet_b6`
 * @param weights timm-layout weights (e.g. from `randomEfficientNetWeights`); not modified
 * @param images `[B, H, W, 3]` RGB in [0, 1]; ImageNet normalisation is applied here, as in
 *   `extract()`. Use a few dozen images of the target domain (all in one batch: the statistics
 *   are those of this batch).
 */
export function calibrateBatchNorm(
  name: string,
  weights: TensorMap,
  images: tf.Tensor4D,
  options: BatchNormCalibrationOptions = {},
): BatchNormCalibration {
  const arch = efficientNetArchitecture(requireEfficientNetName(name));
  checkImages(images, `calibrateBatchNorm(${name})`);
  const blockCount = options.blockCount ?? arch.blocks.length;
  if (!Number.isInteger(blockCount) || blockCount < 0 || blockCount > arch.blocks.length) {
    throw new Error(`calibrateBatchNorm: blockCount ${blockCount} is outside 0..${arch.blocks.length} for ${name}`);
  }
  const copy: TensorMap = new Map(weights);
  const ops = new CalibrationOps(copy, { source: options.source ?? 'weights to calibrate', model: name });
  const x = imagenetNormalize(images);
  try {
    runBlocks(ops, arch, x, blockCount, () => false);
  } finally {
    x.dispose();
  }
  return { weights: copy, layers: ops.layers };
}
