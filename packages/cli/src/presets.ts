/**
 * Presets are plain data: the model and training settings a run starts from before the config file
 * and flags override them. `paper` is the official configuration (SPEC section 3); `fast` trades a
 * little accuracy for a CPU-friendly run (chosen by measurement, see docs/presets.md); `demo` is
 * what `rlr demo` uses so the whole command fits in a few minutes on two cores.
 */

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
  /** Hidden width d per level (SPEC: 128·2^(i−1) for out index i). */
  hidden: number[];
  /** Attention heads. */
  heads: number;
  /** FFN hidden width as a multiple of d. */
  ffnRatio: number;
  /** Weight of the local cross-attention term (α). */
  alpha: number;
  /** Jitter scale s of the training input noise. */
  jitterScale: number;
}

/** Optimisation settings. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

/** A named starting point for `rlr train`. */
export interface Preset {
  name: string;
  description: string;
  model: ModelSettings;
  train: TrainSettings;
}

/** Hidden width d for EfficientNet out index i (SPEC section 3): 1 → 128, 2 → 256, 3 → 512. */
export function hiddenForIndex(outIndex: number): number {
  return 128 * 2 ** Math.max(0, outIndex - 1);
}

/** The official configuration (SPEC section 3), unchanged. */
export const paper: Preset = {
  name: 'paper',
  description: 'official RLR configuration: EfficientNet-B6 levels 2,3 at 256x256, 4 layers, 200 epochs',
  model: {
    backbone: 'tf_efficientnet_b6',
    outIndices: [2, 3],
    imageSize: [256, 256],
    resize: 256,
    layers: 4,
    hidden: [256, 512],
    heads: 8,
    ffnRatio: 4,
    alpha: 2,
    jitterScale: 4,
  },
  train: { epochs: 200, batchSize: 4, lr: 1e-4, seed: 3407 },
};

/** CPU preset: see docs/presets.md for how it compares with `paper`. */
export const fast: Preset = {
  name: 'fast',
  description: 'CPU preset: EfficientNet-B0 levels 2,3 at 256x256, 2 layers, half widths, 30 epochs',
  model: {
    ...paper.model,
    backbone: 'tf_efficientnet_b0',
    layers: 2,
    hidden: [128, 256],
  },
  train: { ...paper.train, epochs: 30, lr: 3e-4 },
};

/**
 * What `rlr demo` trains: small input, one narrow layer, a few epochs. EfficientNet-B3 because the
 * demo usually runs without pretrained weights, and of B0, B3 and B6 with random calibrated
 * weights B3 gave the best image AUROC on the demo data for its cost (see the README).
 */
export const demo: Preset = {
  name: 'demo',
  description: 'demo preset: EfficientNet-B3 levels 2,3 at 128x128, 1 layer of widths 32/64, 4 heads, 12 epochs',
  model: {
    ...paper.model,
    backbone: 'tf_efficientnet_b3',
    imageSize: [128, 128],
    resize: 128,
    layers: 1,
    hidden: [32, 64],
    heads: 4,
  },
  train: { epochs: 12, batchSize: 8, lr: 1e-3, seed: 3407 },
};

/** Every preset by name. */
export const PRESETS: Readonly<Record<string, Preset>> = { paper, fast, demo };

/** The preset called `name`, or undefined. */
export function getPreset(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? structuredClone(PRESETS[name]) : undefined;
}
