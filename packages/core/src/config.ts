import { ATTENTION_VARIANTS, DEFAULT_ATTENTION, isAttentionVariant, type AttentionVariant } from './attention-variants.js';
import { defaultWindow, validateWindow } from './window-mask.js';
import type { FeatureInfo } from './feature-extractor.js';

/** One feature level the model reconstructs: a backbone stage's map at the crop size. */
export interface LevelSpec {
  /** Token grid [h, w] of the backbone map. */
  grid: [number, number];
  /** Backbone channels C. */
  channels: number;
  /** Stride of the map relative to the image (used by the paper's default width d = 32·stride). */
  reduction?: number;
}

/** What the model is built for: the image crop and its feature levels. */
export interface RLRSpec {
  /** Crop size [H, W] of the images; anomaly maps are produced at this size. */
  imageSize: [number, number];
  levels: LevelSpec[];
}

/** A value given once for all levels or once per level. */
export type PerLevel<T> = T | readonly T[];

/** Hyperparameters of the RLR model (SPEC section 3). */
export interface RLRConfig {
  /** Hidden width d per level; default `dPerStride` × the level's stride. */
  d?: PerLevel<number>;
  /**
   * Width per unit of stride when `d` is not given: d = dPerStride × stride. Default 32, the
   * paper's rule (128, 256, 512 for strides 4, 8, 16).
   */
  dPerStride?: number;
  /** Attention heads (d must be divisible by it). */
  heads: PerLevel<number>;
  /** Encoder layers L. */
  layers: PerLevel<number>;
  /** FFN hidden width as a multiple of d. */
  ffnRatio: number;
  /**
   * Attention window side (odd, smaller than the grid). Default by the grid's shorter side: the
   * paper's 16 → 5, 32 → 7, 64 → 11, otherwise the nearest of those on a log scale, capped so it
   * fits the grid (side 4 → 3); see `defaultWindow`.
   */
  window?: PerLevel<number>;
  /**
   * Weight α of local cross-attention in LN₁(α·LCA + MLKA) (also of CA in `cross+mlka`; the
   * variants with one attention have no α).
   */
  alpha: PerLevel<number>;
  /**
   * The attention sublayer of every layer (see `ATTENTION_VARIANTS`): `mlka+lca` (the default,
   * the paper's model) or one of the paper's ablations.
   */
  attention?: PerLevel<AttentionVariant>;
  /** Jitter scale s of the training noise ε·(‖t‖₂/C)·s; 0 trains on clean features. */
  jitterScale: number;
  /** Seed of the parameter initialisation (and the trainer's default seed). */
  seed: number;
}

/**
 * The named presets' model hyperparameters (the CLI's `--preset` adds backbone, image size and
 * training settings to these). Widths follow the level's stride, so one preset fits any backbone:
 * at EfficientNet levels 2 and 3 (strides 8 and 16) `paper` has d = 256 and 512, `fast` 128 and
 * 256, `demo` 32 and 64.
 */
export const presets = {
  /** The released configuration (SPEC section 3): d = 32 × stride, 8 heads, 4 layers. */
  paper: { heads: 8, layers: 4, ffnRatio: 4, alpha: 2, jitterScale: 4, seed: 3407 } satisfies RLRConfig,
  /**
   * For CPUs: half the paper's width (d = 16 × stride) and depth (2 layers), 8 heads. Chosen by
   * measurement against `paper` (packages/cli/README.md, docs/presets.md).
   */
  fast: { heads: 8, layers: 2, ffnRatio: 4, alpha: 2, jitterScale: 4, seed: 3407, dPerStride: 16 } satisfies RLRConfig,
  /** Demos, tests and first looks: one narrow layer (d = 4 × stride), 4 heads. */
  demo: { heads: 4, layers: 1, ffnRatio: 4, alpha: 2, jitterScale: 4, seed: 3407, dPerStride: 4 } satisfies RLRConfig,
} as const;

/** Names of the {@link presets}. */
export type PresetName = keyof typeof presets;

/** Everything one level of the model needs, fully resolved. */
export interface LevelConfig {
  grid: [number, number];
  channels: number;
  d: number;
  heads: number;
  layers: number;
  ffnHidden: number;
  window: number;
  alpha: number;
  /**
   * Attention variant; absent means `mlka+lca` (the paper's model; resolved configs of the
   * default leave it out, so they equal those saved before variants existed).
   */
  attention?: AttentionVariant;
}

function pick<T>(value: PerLevel<T> | undefined, level: number, levels: number, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length !== levels) {
      throw new Error(`RLR config: "${name}" lists ${value.length} values but the model has ${levels} levels; give one value per level or a single number`);
    }
    return value[level] as T;
  }
  return value as T;
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`RLR config: "${name}" must be a positive integer, got ${v}`);
  return v;
}

/** Resolve a spec and a (partial) config into per-level settings, validating everything. */
export function resolveLevels(spec: RLRSpec, config: Partial<RLRConfig> = {}): LevelConfig[] {
  const c = { ...presets.paper, ...config };
  if (!spec.levels?.length) throw new Error('RLR spec: "levels" is empty; give at least one feature level');
  const n = spec.levels.length;
  if (c.jitterScale !== undefined && !(Number.isFinite(c.jitterScale) && c.jitterScale >= 0)) {
    throw new Error(`RLR config: "jitterScale" must be a number ≥ 0 (0 turns the training noise off), got ${c.jitterScale}`);
  }
  return spec.levels.map((lv, i) => {
    const where = `RLR level ${i}`;
    const [h, w] = lv.grid;
    positiveInt(h, `${where} grid height`);
    positiveInt(w, `${where} grid width`);
    positiveInt(lv.channels, `${where} channels`);
    let d = pick(c.d, i, n, 'd');
    if (d === undefined) {
      const perStride = c.dPerStride ?? 32;
      if (!lv.reduction) {
        throw new Error(`${where}: no width "d" given and no "reduction" to derive d = ${perStride} × stride from; set config.d`);
      }
      d = perStride * lv.reduction;
    }
    const heads = positiveInt(pick(c.heads, i, n, 'heads')!, 'heads');
    positiveInt(d, 'd');
    if (d % heads !== 0) throw new Error(`${where}: width d=${d} is not divisible by heads=${heads}`);
    if (d % 4 !== 0) throw new Error(`${where}: width d=${d} must be a multiple of 4 (2-D sin-cos position code)`);
    let window = pick(c.window, i, n, 'window');
    try {
      window ??= defaultWindow(h, w);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    validateWindow(h, w, window, `${where} window`);
    const alpha = pick(c.alpha, i, n, 'alpha')!;
    if (!Number.isFinite(alpha)) throw new Error(`${where}: alpha must be a finite number, got ${alpha}`);
    const attention = pick(c.attention, i, n, 'attention') ?? DEFAULT_ATTENTION;
    if (!isAttentionVariant(attention)) {
      throw new Error(`${where}: attention ${JSON.stringify(attention)} is not one of ${ATTENTION_VARIANTS.join(', ')}`);
    }
    return {
      grid: [h, w] as [number, number],
      channels: lv.channels,
      d,
      heads,
      layers: positiveInt(pick(c.layers, i, n, 'layers')!, 'layers'),
      ffnHidden: positiveInt(Math.round(c.ffnRatio * d), 'ffnRatio × d'),
      window,
      alpha,
      ...(attention === DEFAULT_ATTENTION ? {} : { attention }),
    };
  });
}

/**
 * The spec of a backbone at a crop size: grid = ceil(size / stride) per level (TF "SAME" padding,
 * as EfficientNet uses), channels and strides from the extractor's feature info.
 */
export function specFromFeatureInfo(info: FeatureInfo, imageSize: number | [number, number]): RLRSpec {
  const [H, W] = typeof imageSize === 'number' ? [imageSize, imageSize] : imageSize;
  if (info.channels.length !== info.reductions.length) {
    throw new Error(`feature info lists ${info.channels.length} channel counts but ${info.reductions.length} strides`);
  }
  return {
    imageSize: [H, W],
    levels: info.channels.map((channels, i) => {
      const r = info.reductions[i];
      return { grid: [Math.ceil(H / r), Math.ceil(W / r)] as [number, number], channels, reduction: r };
    }),
  };
}
