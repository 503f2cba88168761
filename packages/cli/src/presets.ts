/**
 * Presets are plain data: the model and training settings a run starts from before the config file
 * and flags override them. The model hyperparameters of each named preset come from `@rlr/core`'s
 * `presets` (one source of truth: `paper` is the official configuration, SPEC section 3; `fast`
 * trades a little accuracy for a CPU-friendly run, chosen by measurement, see docs/presets.md;
 * `demo` is small enough for `rlr demo` on two cores); this module adds the backbone, the input
 * size and the training settings, and resolves the widths for the backbone's levels.
 */
import { backboneFeatureInfo } from '@rlr/backbones';
import { presets as modelPresets, type AttentionVariant, type LrScheduleKind, type PresetName, type RefInit } from '@rlr/core';
import type { ResizeMode } from '@rlr/data';
import { PRESET_NAMES } from './preset-names.js';

/** Model architecture and input settings. */
export interface ModelSettings {
  /** Backbone registry name (`tf_efficientnet_b0` … `tf_efficientnet_b7`, `mobilenet_v1_0.75`). */
  backbone: string;
  /** Backbone stages used as levels (EfficientNet: 2 → stride 8, 3 → stride 16). */
  outIndices: number[];
  /** Crop size `[height, width]` fed to the backbone. */
  imageSize: [number, number];
  /** Shorter-side resize before the crop (the official pipeline resizes and crops to the same size). */
  resize: number;
  /** Attention layers per level. */
  layers: number;
  /** Hidden width d per level (the preset's d = dPerStride × stride unless set). */
  hidden: number[];
  /** Attention heads. */
  heads: number;
  /** FFN hidden width as a multiple of d. */
  ffnRatio: number;
  /** Weight of the local cross-attention term (α). */
  alpha: number;
  /** Jitter scale s of the training input noise. */
  jitterScale: number;
  /** Attention window per level (odd); unset: @rlr/core's default by grid size. */
  window?: number[];
  /**
   * Attention variant, one for all levels or one per level (`--attention`; @rlr/core's
   * `ATTENTION_VARIANTS`). Unset: `mlka+lca`, the paper's model.
   */
  attention?: AttentionVariant[];
  /** How images reach `imageSize` (`--resize-mode`); unset: `crop` (the paper's centre crop). */
  resizeMode?: ResizeMode;
  /** Train and score on tiles of the image (`--tile`); unset: one crop per image. */
  tile?: TileSettings;
}

/** Tiling of a run (`--tile`, `--tile-stride`, `--tile-scale`): each tile is one model input. */
export interface TileSettings {
  /** Tile `[height, width]`: the model's input size (`imageSize` equals it). */
  size: [number, number];
  /** Step between tiles `[height, width]`, at most the tile size (default half the tile). */
  stride: [number, number];
  /** Factor applied to each image before tiling (1: native resolution). */
  scale: number;
}

/** Which model `--keep` saves at the end of training. */
export type KeepPolicy = 'best-val' | 'last';

/** Optimisation settings. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  /** Peak Adam learning rate (the constant one without a schedule). */
  lr: number;
  seed: number;
  /** Initial value of the reference (`randn`: the paper's; `mean`, `sample`: from the training features). Unset: randn. */
  refInit?: RefInit;
  /** Learning-rate schedule over the epochs. Unset: constant. */
  lrSchedule?: LrScheduleKind;
  /** Epochs of linear warm-up before the schedule. Unset: 0. */
  warmupEpochs?: number;
  /**
   * Fraction of the normal training images held out (seeded) for validation. Unset only in
   * run folders from before validation existed (then nothing is held out).
   */
  valFraction?: number;
  /** Stop when the validation loss has not improved for this many epochs. Unset: never. */
  earlyStop?: number;
  /** Save the best-by-validation model or the last one. Unset: last. */
  keep?: KeepPolicy;
  /** Quantile of the validation normals' scores that becomes the post-processor's threshold. Unset: 0.99. */
  thresholdQuantile?: number;
  /** Post-processor sensitivity in [0, 1] (higher flags more). Unset: 0.5 (the quantile as it is). */
  sensitivity?: number;
  /** Training budget in minutes (wall clock, or CPU time with RLR_BUDGET_CPU_CORES). Unset: none. */
  maxMinutes?: number;
  /** Budget marks in minutes at which a snapshot run folder is saved (benchmarks). */
  snapshotMinutes?: number[];
}

/** Training settings every preset starts from unless it says otherwise: the paper's recipe plus a 10 % validation split. */
const TRAIN_DEFAULTS = { refInit: 'randn', lrSchedule: 'constant', warmupEpochs: 0, valFraction: 0.1, keep: 'last' } as const satisfies Partial<TrainSettings>;

/** A named starting point for `rlr train`. */
export interface Preset {
  name: PresetName;
  description: string;
  model: ModelSettings;
  train: TrainSettings;
}

/**
 * Widths d of a backbone's levels under preset `name`'s rule d = dPerStride × stride (the paper:
 * 32 × stride, i.e. 256 and 512 at EfficientNet levels 2 and 3).
 * @throws for an unknown backbone or out index (the message lists the valid ones)
 */
export function presetWidths(name: PresetName, backbone: string, outIndices: readonly number[]): number[] {
  const perStride = (modelPresets[name] as { dPerStride?: number }).dPerStride ?? 32;
  return backboneFeatureInfo(backbone, outIndices).reductions.map((r) => perStride * r);
}

/** A preset: core's model hyperparameters for `name`, plus input and training settings. */
function preset(
  name: PresetName,
  description: string,
  input: Pick<ModelSettings, 'backbone' | 'outIndices' | 'imageSize' | 'resize'>,
  train: Pick<TrainSettings, 'epochs' | 'batchSize' | 'lr'> & Partial<TrainSettings>,
): Preset {
  const m = modelPresets[name];
  return {
    name,
    description,
    model: {
      ...input,
      layers: m.layers,
      hidden: presetWidths(name, input.backbone, input.outIndices),
      heads: m.heads,
      ffnRatio: m.ffnRatio,
      alpha: m.alpha,
      jitterScale: m.jitterScale,
    },
    train: { ...TRAIN_DEFAULTS, ...train, seed: m.seed },
  };
}

/**
 * The official configuration (SPEC section 3), unchanged: like the released trainer it trains on
 * every normal training image (no validation split unless `--val-fraction` asks for one).
 */
export const paper: Preset = preset(
  'paper',
  'official RLR configuration: EfficientNet-B6 levels 2,3 at 256x256, 4 layers, 200 epochs',
  { backbone: 'tf_efficientnet_b6', outIndices: [2, 3], imageSize: [256, 256], resize: 256 },
  { epochs: 200, batchSize: 4, lr: 1e-4, valFraction: undefined },
);

/** CPU preset: see docs/presets.md for how it compares with `paper`. */
export const fast: Preset = preset(
  'fast',
  'CPU preset: EfficientNet-B0 levels 2,3 at 256x256, 2 layers, half widths, 30 epochs',
  { backbone: 'tf_efficientnet_b0', outIndices: [2, 3], imageSize: [256, 256], resize: 256 },
  { epochs: 30, batchSize: 4, lr: 3e-4 },
);

/**
 * What `rlr demo` trains: small input, one narrow layer, a few epochs. EfficientNet-B3 because the
 * demo usually runs without pretrained weights, and of B0, B3 and B6 with random calibrated
 * weights B3 gave the best image AUROC on the demo data for its cost (see the README).
 */
export const demo: Preset = preset(
  'demo',
  'demo preset: EfficientNet-B3 levels 2,3 at 128x128, 1 layer of widths 32/64, 4 heads, 12 epochs',
  { backbone: 'tf_efficientnet_b3', outIndices: [2, 3], imageSize: [128, 128], resize: 128 },
  { epochs: 12, batchSize: 8, lr: 1e-3 },
);

/** Every preset by name. */
export const PRESETS: Readonly<Record<PresetName, Preset>> = { paper, fast, demo };

/** The preset called `name` (a copy), or undefined. */
export function getPreset(name: string): Preset | undefined {
  return (PRESET_NAMES as readonly string[]).includes(name) ? structuredClone(PRESETS[name as PresetName]) : undefined;
}
