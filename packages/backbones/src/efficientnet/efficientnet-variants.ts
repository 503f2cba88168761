/**
 * EfficientNet B0–B7 as data: the base architecture, each variant's width/depth multipliers and
 * timm's rounding rules, expanded into the concrete list of blocks (`blocks.{stage}.{index}`),
 * their channel counts, kernels, strides and squeeze-excitation widths, plus the feature stages
 * that `outIndices` select. Nothing here touches tensors.
 */

/** Names of the EfficientNet variants in the registry (timm's `tf_efficientnet_*` models). */
export const EFFICIENTNET_NAMES = [
  'tf_efficientnet_b0',
  'tf_efficientnet_b1',
  'tf_efficientnet_b2',
  'tf_efficientnet_b3',
  'tf_efficientnet_b4',
  'tf_efficientnet_b5',
  'tf_efficientnet_b6',
  'tf_efficientnet_b7',
] as const;
export type EfficientNetName = (typeof EFFICIENTNET_NAMES)[number];

/** Width and depth multipliers of each variant, and the resolution its weights were trained at. */
export const EFFICIENTNET_SCALING: Record<EfficientNetName, { width: number; depth: number; resolution: number }> = {
  tf_efficientnet_b0: { width: 1.0, depth: 1.0, resolution: 224 },
  tf_efficientnet_b1: { width: 1.0, depth: 1.1, resolution: 240 },
  tf_efficientnet_b2: { width: 1.1, depth: 1.2, resolution: 260 },
  tf_efficientnet_b3: { width: 1.2, depth: 1.4, resolution: 300 },
  tf_efficientnet_b4: { width: 1.4, depth: 1.8, resolution: 380 },
  tf_efficientnet_b5: { width: 1.6, depth: 2.2, resolution: 456 },
  tf_efficientnet_b6: { width: 1.8, depth: 2.6, resolution: 528 },
  tf_efficientnet_b7: { width: 2.0, depth: 3.1, resolution: 600 },
};

/** `ds` = depthwise-separable block, `ir` = inverted residual (MBConv) block. */
export type BlockKind = 'ds' | 'ir';

/** One stage of the B0 baseline (timm arch string in the comment). */
interface BaseStage {
  kind: BlockKind;
  repeats: number;
  kernel: number;
  stride: number;
  expansion: number;
  channels: number;
}

/** The B0 baseline, stage by stage. Every stage uses squeeze-excitation with ratio 0.25. */
const BASE_STAGES: readonly BaseStage[] = [
  { kind: 'ds', repeats: 1, kernel: 3, stride: 1, expansion: 1, channels: 16 }, //  ds_r1_k3_s1_e1_c16_se0.25
  { kind: 'ir', repeats: 2, kernel: 3, stride: 2, expansion: 6, channels: 24 }, //  ir_r2_k3_s2_e6_c24_se0.25
  { kind: 'ir', repeats: 2, kernel: 5, stride: 2, expansion: 6, channels: 40 }, //  ir_r2_k5_s2_e6_c40_se0.25
  { kind: 'ir', repeats: 3, kernel: 3, stride: 2, expansion: 6, channels: 80 }, //  ir_r3_k3_s2_e6_c80_se0.25
  { kind: 'ir', repeats: 3, kernel: 5, stride: 1, expansion: 6, channels: 112 }, // ir_r3_k5_s1_e6_c112_se0.25
  { kind: 'ir', repeats: 4, kernel: 5, stride: 2, expansion: 6, channels: 192 }, // ir_r4_k5_s2_e6_c192_se0.25
  { kind: 'ir', repeats: 1, kernel: 3, stride: 1, expansion: 6, channels: 320 }, // ir_r1_k3_s1_e6_c320_se0.25
];
const SE_RATIO = 0.25;
const STEM_CHANNELS = 32;
const HEAD_CHANNELS = 1280;

/**
 * Feature stage i (the `outIndices` value) ends after block-stage `FEATURE_BLOCK_STAGES[i]`:
 * the last block-stage before each stride change, and the final one (timm's feature_info).
 * Feature stage i has stride 2^(i+1).
 */
export const FEATURE_BLOCK_STAGES: readonly number[] = [0, 1, 2, 4, 6];

/** BatchNorm epsilon of the TF-ported weights (timm's `BN_EPS_TF_DEFAULT`). */
export const TF_BN_EPS = 1e-3;

/** One concrete block of a variant. */
export interface BlockSpec {
  kind: BlockKind;
  /** timm parameter prefix, e.g. `blocks.2.1`. */
  prefix: string;
  stage: number;
  index: number;
  inChannels: number;
  /** Width of the depthwise conv (= inChannels for `ds` blocks). */
  midChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Reduced width of the squeeze-excitation. */
  seChannels: number;
  /** Residual connection (stride 1 and same width in and out). */
  skip: boolean;
}

/** One selectable feature stage. */
export interface FeatureStage {
  /** Channels of the map. */
  channels: number;
  /** Stride relative to the input image. */
  reduction: number;
  /** Number of blocks (in order) that must run to produce it. */
  blockCount: number;
}

/** A fully expanded variant. */
export interface EfficientNetArchitecture {
  name: EfficientNetName;
  stemChannels: number;
  headChannels: number;
  /** All blocks in execution order. */
  blocks: BlockSpec[];
  /** The five feature stages (outIndices 0..4). */
  features: FeatureStage[];
}

/**
 * timm's `make_divisible`: round to the nearest multiple of `divisor` (at least `divisor`), then
 * add one `divisor` if that lost more than 10%.
 */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** Channel count of a variant: base channels times the width multiplier, made divisible by 8. */
export function roundChannels(channels: number, widthMultiplier: number): number {
  return widthMultiplier === 1 ? channels : makeDivisible(channels * widthMultiplier);
}

/**
 * Repeats of a stage in a variant: timm rounds the scaled depth up ("ceil" truncation). JS and
 * Python share IEEE doubles, so the product rounds exactly as it does in timm.
 */
export function scaleDepth(repeats: number, depthMultiplier: number): number {
  return Math.ceil(repeats * depthMultiplier);
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Check that `name` is a known EfficientNet variant. */
export function isEfficientNetName(name: string): name is EfficientNetName {
  return (EFFICIENTNET_NAMES as readonly string[]).includes(name);
}

const cache = new Map<EfficientNetName, EfficientNetArchitecture>();

/** Expand a variant into its concrete blocks and feature stages. */
export function efficientNetArchitecture(name: EfficientNetName): EfficientNetArchitecture {
  const hit = cache.get(name);
  if (hit) return hit;
  const scaling = EFFICIENTNET_SCALING[name];
  if (!scaling) {
    throw new Error(`unknown EfficientNet variant "${name}"; expected one of ${EFFICIENTNET_NAMES.join(', ')}`);
  }
  const stemChannels = roundChannels(STEM_CHANNELS, scaling.width);
  const blocks: BlockSpec[] = [];
  let inChannels = stemChannels;
  BASE_STAGES.forEach((stage, s) => {
    const outChannels = roundChannels(stage.channels, scaling.width);
    const repeats = scaleDepth(stage.repeats, scaling.depth);
    for (let b = 0; b < repeats; b++) {
      const stride = b === 0 ? stage.stride : 1;
      const midChannels = stage.kind === 'ds' ? inChannels : makeDivisible(inChannels * stage.expansion);
      blocks.push({
        kind: stage.kind,
        prefix: `blocks.${s}.${b}`,
        stage: s,
        index: b,
        inChannels,
        midChannels,
        outChannels,
        kernel: stage.kernel,
        stride,
        // SE width is relative to the block input (timm divides the ratio by the expansion).
        seChannels: Math.max(1, roundHalfEven((midChannels * SE_RATIO) / stage.expansion)),
        skip: stride === 1 && inChannels === outChannels,
      });
      inChannels = outChannels;
    }
  });
  let reduction = 2; // the stem has stride 2
  const features: FeatureStage[] = [];
  let blockStageEnd = -1;
  for (const last of FEATURE_BLOCK_STAGES) {
    for (let s = blockStageEnd + 1; s <= last; s++) reduction *= BASE_STAGES[s].stride;
    blockStageEnd = last;
    const blockCount = blocks.filter((b) => b.stage <= last).length;
    features.push({ channels: blocks[blockCount - 1].outChannels, reduction, blockCount });
  }
  const arch: EfficientNetArchitecture = {
    name,
    stemChannels,
    headChannels: roundChannels(HEAD_CHANNELS, scaling.width),
    blocks,
    features,
  };
  cache.set(name, arch);
  return arch;
}
