import type * as tf from '@tensorflow/tfjs-core';

/** What a feature extractor returns, as data (timm's `feature_info`). */
export interface FeatureInfo {
  /** Channels of each returned level, in the order of `outIndices`. */
  channels: number[];
  /** Stride of each returned level relative to the input image. */
  reductions: number[];
}

/**
 * A frozen multi-scale feature extractor. `@rlr/backbones` implements it (EfficientNet, tfjs
 * models with named taps); the RLR model only needs `featureInfo` and the maps it returns.
 */
export interface FeatureExtractor {
  /** Registry name, e.g. `tf_efficientnet_b6` or `mobilenet_v1_0.75`. */
  readonly name: string;
  /** Stage indices the levels come from (index i has stride 2^(i+1) for EfficientNet). */
  readonly outIndices: number[];
  readonly featureInfo: FeatureInfo;
  /**
   * @param images `[B, H, W, 3]` RGB in [0, 1] (the extractor applies its own normalisation)
   * @returns one `[B, H/r, W/r, C]` map per level; smoothed by the 3x3 average (zeros counted)
   *   unless the extractor was created with `smooth: false`. The caller disposes them.
   */
  extract(images: tf.Tensor4D): tf.Tensor4D[];
  /** JSON-able description sufficient to rebuild the extractor (name, outIndices, weights). */
  toConfig(): Record<string, unknown>;
  dispose(): void;
}
