/**
 * timm checkpoint → inference weights: every needed tensor is looked up by its timm name, checked
 * against the architecture's shape, converted from PyTorch layout and has its BatchNorm folded in.
 * The result is plain typed arrays (no tensors), so it can be built once and handed to tfjs (or to
 * a worker) as is.
 */
import { foldBatchNorm } from '../weights/batchnorm-folding.js';
import { requireTensor, type CheckpointContext, type TensorMap } from '../weights/checkpoint-tensors.js';
import { tfjsConvShape, torchConvToTfjs } from '../weights/pytorch-layout.js';
import { blockConvs, stemConv, type ConvBnSpec } from './efficientnet-params.js';
import { TF_BN_EPS, type EfficientNetArchitecture } from './efficientnet-variants.js';

/**
 * A conv with its BatchNorm folded in. `kind` says how it runs: `matmul` (1x1 conv as an
 * untransposed `[B·H·W, in] x [in, out]` product), `conv` (`conv2d`) or `depthwise`.
 */
export interface FoldedConv {
  kind: 'matmul' | 'conv' | 'depthwise';
  /** `[in, out]` for matmul, `[kh, kw, in, out]` for conv, `[kh, kw, C, 1]` for depthwise. */
  shape: number[];
  weight: Float32Array;
  /** `[out]` */
  bias: Float32Array;
  stride: number;
}

/** Squeeze-excitation weights as matrices: reduce `[C, rd]`, expand `[rd, C]`. */
export interface FoldedSqueezeExcite {
  channels: number;
  reduced: number;
  reduceWeight: Float32Array;
  reduceBias: Float32Array;
  expandWeight: Float32Array;
  expandBias: Float32Array;
}

/** Everything needed to run the stem and the first `blockCount` blocks. */
export interface FoldedEfficientNetWeights {
  model: string;
  blockCount: number;
  /** Keyed by the timm conv prefix, e.g. `conv_stem`, `blocks.1.0.conv_pw`. */
  convs: Map<string, FoldedConv>;
  /** Keyed by block prefix, e.g. `blocks.1.0`. */
  se: Map<string, FoldedSqueezeExcite>;
}

/** Transpose a PyTorch 1x1 conv `[out, in, 1, 1]` into an `[in, out]` matrix. */
function pointwiseMatrix(w: Float32Array, out: number, inp: number): Float32Array {
  return torchConvToTfjs(w, [out, inp, 1, 1]);
}

function foldConvBn(tensors: TensorMap, spec: ConvBnSpec, ctx: CheckpointContext): FoldedConv {
  const out = spec.shape[0];
  const w = requireTensor(tensors, `${spec.conv}.weight`, spec.shape, ctx);
  const bn = {
    gamma: requireTensor(tensors, `${spec.bn}.weight`, [out], ctx),
    beta: requireTensor(tensors, `${spec.bn}.bias`, [out], ctx),
    mean: requireTensor(tensors, `${spec.bn}.running_mean`, [out], ctx),
    variance: requireTensor(tensors, `${spec.bn}.running_var`, [out], ctx),
  };
  const { scale, bias } = foldBatchNorm(bn, TF_BN_EPS);
  const weight = torchConvToTfjs(w, spec.shape, scale);
  const [, inp, kh, kw] = spec.shape;
  if (spec.depthwise) return { kind: 'depthwise', shape: tfjsConvShape(spec.shape, true), weight, bias, stride: spec.stride };
  if (kh === 1 && kw === 1 && spec.stride === 1) return { kind: 'matmul', shape: [inp, out], weight, bias, stride: 1 };
  return { kind: 'conv', shape: tfjsConvShape(spec.shape, false), weight, bias, stride: spec.stride };
}

/**
 * Validate a timm checkpoint against the architecture and fold it for inference.
 * @param tensors decoded checkpoint (timm names, PyTorch layouts; extra tensors are ignored)
 * @param blockCount how many blocks to load (the deepest requested stage's `blockCount`)
 * @throws naming the first missing or misshapen tensor
 */
export function foldEfficientNetWeights(
  arch: EfficientNetArchitecture,
  tensors: TensorMap,
  blockCount: number,
  source: string,
): FoldedEfficientNetWeights {
  const ctx: CheckpointContext = { source, model: arch.name };
  const convs = new Map<string, FoldedConv>();
  const se = new Map<string, FoldedSqueezeExcite>();
  const stem = stemConv(arch);
  convs.set(stem.conv, foldConvBn(tensors, stem, ctx));
  for (const block of arch.blocks.slice(0, blockCount)) {
    const { expand, dw, project } = blockConvs(block);
    for (const spec of [expand, dw, project]) if (spec) convs.set(spec.conv, foldConvBn(tensors, spec, ctx));
    const c = block.midChannels;
    const rd = block.seChannels;
    const p = `${block.prefix}.se`;
    se.set(block.prefix, {
      channels: c,
      reduced: rd,
      reduceWeight: pointwiseMatrix(requireTensor(tensors, `${p}.conv_reduce.weight`, [rd, c, 1, 1], ctx), rd, c),
      reduceBias: requireTensor(tensors, `${p}.conv_reduce.bias`, [rd], ctx).slice(),
      expandWeight: pointwiseMatrix(requireTensor(tensors, `${p}.conv_expand.weight`, [c, rd, 1, 1], ctx), c, rd),
      expandBias: requireTensor(tensors, `${p}.conv_expand.bias`, [c], ctx).slice(),
    });
  }
  return { model: arch.name, blockCount, convs, se };
}
