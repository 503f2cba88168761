/**
 * EfficientNet B0–B7 as a frozen multi-scale feature extractor (timm `tf_efficientnet_*`
 * semantics, `features_only=True`): ImageNet normalisation, stem, blocks up to the deepest
 * requested stage, optional 3x3 smoothing of each returned level.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseSafetensors, type FeatureExtractor, type FeatureInfo } from '@rlr/core';
import { smoothFeatures } from '../feature-smoothing.js';
import { checkOutIndices } from '../out-indices.js';
import { checkImages, imagenetNormalize } from '../preprocessing.js';
import type { TensorMap } from '../weights/checkpoint-tensors.js';
import { runBlocks } from './efficientnet-blocks.js';
import { efficientNetParamShapes } from './efficientnet-params.js';
import {
  efficientNetArchitecture,
  EFFICIENTNET_NAMES,
  isEfficientNetName,
  type EfficientNetArchitecture,
  type EfficientNetName,
} from './efficientnet-variants.js';
import { foldEfficientNetWeights } from './efficientnet-weights.js';
import { FoldedOps } from './folded-ops.js';

/** The stages RLR uses by default (the paper's levels at stride 8 and 16). */
export const DEFAULT_OUT_INDICES: readonly number[] = [2, 3];

/** Options of an EfficientNet extractor. */
export interface EfficientNetOptions {
  /** Feature stages to return; stage i has stride 2^(i+1). Default `[2, 3]`. */
  outIndices?: readonly number[];
  /** Apply the 3x3 smoothing (zeros counted) to each level. Default `true`. */
  smooth?: boolean;
  /** Where the weights came from (a path, URL, `hf://` id or `random`), recorded by `toConfig()`. */
  weightsSource?: string;
  /** Extra JSON-able fields for `toConfig()` (e.g. the seed of random weights). */
  configExtras?: Record<string, unknown>;
}

/** Resolve a variant name, with a message listing the valid ones. */
export function requireEfficientNetName(name: string): EfficientNetName {
  if (!isEfficientNetName(name)) {
    throw new Error(`unknown EfficientNet "${name}"; expected one of ${EFFICIENTNET_NAMES.join(', ')}`);
  }
  return name;
}

/** Channels and strides of the requested stages, without loading any weights. */
export function efficientNetFeatureInfo(name: string, outIndices: readonly number[] = DEFAULT_OUT_INDICES): FeatureInfo {
  const arch = efficientNetArchitecture(requireEfficientNetName(name));
  const idx = checkOutIndices(outIndices, arch.features.length, name, ' (stage i has stride 2^(i+1))');
  return {
    channels: idx.map((i) => arch.features[i].channels),
    reductions: idx.map((i) => arch.features[i].reduction),
  };
}

/** A loaded EfficientNet feature extractor. */
export class EfficientNetExtractor implements FeatureExtractor {
  readonly name: EfficientNetName;
  readonly outIndices: number[];
  readonly featureInfo: FeatureInfo;
  readonly smooth: boolean;
  /** Blocks actually built and run (those of the deepest requested stage). */
  readonly blockCount: number;
  private readonly arch: EfficientNetArchitecture;
  private ops: FoldedOps | undefined;
  private readonly config: Record<string, unknown>;
  /** The timm tensors it runs (stem and `blockCount` blocks), unfolded, for {@link checkpointTensors}. */
  private readonly tensors: TensorMap;

  /**
   * @param weights decoded timm checkpoint (names and PyTorch layouts as in timm; tensors of later
   *   blocks, the head and the classifier are ignored) or the raw safetensors bytes
   */
  constructor(name: string, weights: TensorMap | Uint8Array, options: EfficientNetOptions = {}) {
    this.name = requireEfficientNetName(name);
    this.arch = efficientNetArchitecture(this.name);
    this.featureInfo = efficientNetFeatureInfo(this.name, options.outIndices ?? DEFAULT_OUT_INDICES); // validates outIndices
    this.outIndices = [...(options.outIndices ?? DEFAULT_OUT_INDICES)];
    this.smooth = options.smooth ?? true;
    this.blockCount = Math.max(...this.outIndices.map((i) => this.arch.features[i].blockCount));
    const source = options.weightsSource ?? 'in-memory weights';
    const tensors = weights instanceof Uint8Array ? parseSafetensors(weights, source).tensors : weights;
    this.ops = new FoldedOps(foldEfficientNetWeights(this.arch, tensors, this.blockCount, source));
    // Keep only what runs (the folding above has checked every one of these exists): a whole
    // checkpoint's later blocks, head and classifier are not retained.
    this.tensors = new Map();
    for (const key of efficientNetParamShapes(this.arch, { blockCount: this.blockCount, head: false }).keys()) {
      this.tensors.set(key, tensors.get(key)!);
    }
    this.config = {
      name: this.name,
      outIndices: this.outIndices,
      smooth: this.smooth,
      weights: options.weightsSource ?? null,
      ...options.configExtras,
    };
  }

  /**
   * @param images `[B, H, W, 3]` RGB in [0, 1]; any size (TF "SAME" padding handles odd sizes)
   * @returns one `[B, ceil(H/r), ceil(W/r), C]` map per out index; the caller disposes them
   */
  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    const ops = this.ops;
    if (!ops) throw new Error(`${this.name}: extract() called after dispose(); create the backbone again`);
    checkImages(images, this.name);
    const wanted = new Map<number, number>(); // block index → position in outIndices
    this.outIndices.forEach((stage, pos) => wanted.set(this.arch.features[stage].blockCount - 1, pos));
    const outs = new Array<tf.Tensor4D>(this.outIndices.length);
    const x = imagenetNormalize(images);
    try {
      runBlocks(ops, this.arch, x, this.blockCount, (i, y) => {
        const pos = wanted.get(i);
        if (pos === undefined) return false;
        outs[pos] = y;
        return true;
      });
    } catch (e) {
      tf.dispose(outs.filter(Boolean)); // levels kept before the failure
      throw e;
    } finally {
      x.dispose();
    }
    if (!this.smooth) return outs;
    return outs.map((o) => {
      const s = smoothFeatures(o);
      o.dispose();
      return s;
    });
  }

  toConfig(): Record<string, unknown> {
    return structuredClone(this.config);
  }

  /**
   * The weights this extractor runs, as a timm checkpoint: timm names and PyTorch layouts (F32),
   * BatchNorm running statistics as loaded or calibrated (not folded), covering the stem and the
   * blocks up to the deepest requested stage. `new EfficientNetExtractor(name, tensors, options)`
   * with the same `outIndices` rebuilds an identical extractor. The arrays are shared: do not
   * modify them.
   */
  checkpointTensors(): TensorMap {
    return new Map(this.tensors);
  }

  dispose(): void {
    this.ops?.dispose();
    this.ops = undefined;
  }
}
