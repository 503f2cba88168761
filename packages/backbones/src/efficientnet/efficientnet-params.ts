/**
 * The checkpoint layout of a timm `tf_efficientnet_*` model: every tensor name and its PyTorch
 * shape, derived from the architecture. Used to validate checkpoints before loading, to generate
 * random weights with the same layout, and (in tests) compared with timm's own list.
 */
import type { BlockSpec, EfficientNetArchitecture } from './efficientnet-variants.js';

/** Suffixes of a BatchNorm's four tensors (timm checkpoints also may hold `num_batches_tracked`). */
export const BN_SUFFIXES = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** A conv followed by a BatchNorm, named by their timm prefixes. */
export interface ConvBnSpec {
  /** e.g. `blocks.1.0.conv_pw` (the tensor is `<conv>.weight`). */
  conv: string;
  /** e.g. `blocks.1.0.bn1`. */
  bn: string;
  /** PyTorch weight shape `[out, in/groups, kh, kw]`. */
  shape: [number, number, number, number];
  stride: number;
  depthwise: boolean;
}

/** The conv+BN pairs of a block, in execution order (SE sits between `dw` and the projection). */
export function blockConvs(block: BlockSpec): { expand?: ConvBnSpec; dw: ConvBnSpec; project: ConvBnSpec } {
  const p = block.prefix;
  const k = block.kernel;
  const dwSpec = (bn: string): ConvBnSpec => ({
    conv: `${p}.conv_dw`,
    bn: `${p}.${bn}`,
    shape: [block.midChannels, 1, k, k],
    stride: block.stride,
    depthwise: true,
  });
  if (block.kind === 'ds') {
    return {
      dw: dwSpec('bn1'),
      project: {
        conv: `${p}.conv_pw`,
        bn: `${p}.bn2`,
        shape: [block.outChannels, block.midChannels, 1, 1],
        stride: 1,
        depthwise: false,
      },
    };
  }
  return {
    expand: {
      conv: `${p}.conv_pw`,
      bn: `${p}.bn1`,
      shape: [block.midChannels, block.inChannels, 1, 1],
      stride: 1,
      depthwise: false,
    },
    dw: dwSpec('bn2'),
    project: {
      conv: `${p}.conv_pwl`,
      bn: `${p}.bn3`,
      shape: [block.outChannels, block.midChannels, 1, 1],
      stride: 1,
      depthwise: false,
    },
  };
}

/** The stem conv (3x3, stride 2) and its BatchNorm. */
export function stemConv(arch: EfficientNetArchitecture): ConvBnSpec {
  return { conv: 'conv_stem', bn: 'bn1', shape: [arch.stemChannels, 3, 3, 3], stride: 2, depthwise: false };
}

/** Which part of the network a parameter list should cover. */
export interface ParamScope {
  /** Blocks to include, from the first (default: all). */
  blockCount?: number;
  /** Include `conv_head`, `bn2` and the classifier (default: only when all blocks are included). */
  head?: boolean;
  /** Number of classifier outputs (default 1000). */
  numClasses?: number;
}

/**
 * Every tensor name and PyTorch shape of a variant, in timm's order.
 * @returns name → shape, e.g. `blocks.0.0.conv_dw.weight` → `[32, 1, 3, 3]`
 */
export function efficientNetParamShapes(arch: EfficientNetArchitecture, scope: ParamScope = {}): Map<string, number[]> {
  const blockCount = scope.blockCount ?? arch.blocks.length;
  const head = scope.head ?? blockCount === arch.blocks.length;
  const out = new Map<string, number[]>();
  const convBn = (c: ConvBnSpec) => {
    out.set(`${c.conv}.weight`, [...c.shape]);
    for (const s of BN_SUFFIXES) out.set(`${c.bn}.${s}`, [c.shape[0]]);
  };
  convBn(stemConv(arch));
  for (const block of arch.blocks.slice(0, blockCount)) {
    const { expand, dw, project } = blockConvs(block);
    if (expand) convBn(expand);
    convBn(dw);
    const p = block.prefix;
    out.set(`${p}.se.conv_reduce.weight`, [block.seChannels, block.midChannels, 1, 1]);
    out.set(`${p}.se.conv_reduce.bias`, [block.seChannels]);
    out.set(`${p}.se.conv_expand.weight`, [block.midChannels, block.seChannels, 1, 1]);
    out.set(`${p}.se.conv_expand.bias`, [block.midChannels]);
    convBn(project);
  }
  if (head) {
    const last = arch.blocks[arch.blocks.length - 1].outChannels;
    convBn({ conv: 'conv_head', bn: 'bn2', shape: [arch.headChannels, last, 1, 1], stride: 1, depthwise: false });
    const classes = scope.numClasses ?? 1000;
    out.set('classifier.weight', [classes, arch.headChannels]);
    out.set('classifier.bias', [classes]);
  }
  return out;
}
