import type { Command } from 'commander';
import { backboneFeatureInfo } from '@rlr/backbones';
import {
  ATTENTION_VARIANTS,
  isAttentionVariant,
  LR_SCHEDULES,
  REF_INITS,
  resolveLevels,
  specFromFeatureInfo,
  type LrScheduleKind,
  type RefInit,
  type RLRConfig,
} from '@rlr/core';
import { loadConfigFile } from './config-file.js';
import { applyInputFlags } from './input-geometry.js';
import { usageError } from './errors.js';
import { PRESET_NAMES } from './preset-names.js';
import { getPreset, presetWidths, type KeepPolicy, type ModelSettings, type TrainSettings } from './presets.js';
import { flagName, isSettingName, parseSetting, type DatasetFormat, type SettingValues } from './settings.js';

/** Where the images come from (the dataset part of the settings). */
export interface DataSettings {
  root?: string;
  format: DatasetFormat;
  categories?: string[];
  normalDir?: string;
  abnormalDir?: string;
  maskDir?: string;
  normalTestDir?: string;
  testFraction?: number;
  /** Keep anomalous test images that have no mask (image-level metrics only; `--allow-missing-masks`). */
  allowMissingMasks?: boolean;
}

/** Models `rlr train --model` builds: the RLR model, or the nearest-neighbour baseline. */
export const MODEL_KINDS = ['rlr', 'knn'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Default `--coreset`: the fraction of training tokens a knn bank keeps. */
export const DEFAULT_CORESET = 0.1;

/** Settings of the nearest-neighbour baseline (`--model knn`). */
export interface KnnSettings {
  /** Fraction of each level's training tokens the greedy coreset keeps, in (0, 1]. */
  coreset: number;
  /**
   * `--val-fraction` when given: that share of the training normals is held out of the bank and
   * fits the post-processor's thresholds. Without it the bank keeps every normal and the model has
   * no thresholds of its own.
   */
  valFraction?: number;
}

/** Fully resolved settings of a training run. */
export interface RunSettings {
  /** Which model the run builds; absent (run folders from before `--model`) means `rlr`. */
  kind?: ModelKind;
  /** The knn model's settings (only with `kind: 'knn'`). */
  knn?: KnnSettings;
  preset: string;
  data: DataSettings;
  model: ModelSettings;
  train: TrainSettings;
  /** Backbone weights source (path, URL, hf:// id, `random`) or undefined for the default download. */
  weights?: string;
}

/**
 * Settings given on the command line: only options the user typed (commander's value source
 * `cli`), parsed by the shared parsers. Relative paths resolve against `cwd`.
 */
export function flagSettings(cmd: Command, cwd: string): SettingValues {
  const out: Record<string, unknown> = {};
  const opts = cmd.opts();
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined || !isSettingName(key) || cmd.getOptionValueSource(key) !== 'cli') continue;
    out[key] = parseSetting(key, value, flagName(key), cwd);
  }
  return out;
}

/** Config file (if `--config`) overlaid with the flags. */
export async function fileAndFlagSettings(cmd: Command, cwd: string): Promise<SettingValues> {
  const config = cmd.opts().config as string | undefined;
  const fromFile = config ? await loadConfigFile(parseSetting('out', config, '--config', cwd) as string) : {};
  return { ...fromFile, ...flagSettings(cmd, cwd) };
}

/** The dataset part of `s`, checked for completeness. */
export function dataSettings(s: SettingValues, command: string): DataSettings {
  const format = s.format ?? (s.normalDir ? 'folder' : undefined);
  if (!format) {
    throw usageError(`rlr ${command}: no dataset given`, 'pass --data <root> --format mvtec|visa|folder (or --normal-dir … for a folder dataset), or --config <file>');
  }
  if (format === 'folder') {
    if (!s.normalDir) throw usageError('the folder format needs --normal-dir (normal training images)', 'add --normal-dir <dir> (and --abnormal-dir, --mask-dir for testing), or normal_dir in the config file');
  } else if (!s.data) {
    throw usageError(`the ${format} format needs --data <root>`, `pass the dataset root folder, e.g. --data ./${format === 'mvtec' ? 'mvtec_ad' : 'visa'}`);
  }
  if (s.testFraction !== undefined && !(s.testFraction >= 0 && s.testFraction < 1)) {
    throw usageError(`--test-fraction ${s.testFraction} is not a fraction in [0, 1)`, 'pass the share of --normal-dir held out for testing, e.g. --test-fraction 0.2, or give the normal test images with --normal-test-dir');
  }
  return {
    root: s.data,
    format,
    categories: s.categories,
    normalDir: s.normalDir,
    abnormalDir: s.abnormalDir,
    maskDir: s.maskDir,
    normalTestDir: s.normalTestDir,
    testFraction: s.testFraction,
    ...(s.allowMissingMasks !== undefined ? { allowMissingMasks: s.allowMissingMasks } : {}),
  };
}

/**
 * Resolve a run's settings: preset, then config file, then flags. Derived values follow the
 * SPEC unless set: hidden widths from the out indices, the resize side from the crop.
 */
export function resolveRunSettings(s: SettingValues, defaultPreset = 'paper', kind: ModelKind = 'rlr'): RunSettings {
  const name = s.preset ?? defaultPreset;
  const preset = getPreset(name);
  if (!preset) throw usageError(`unknown preset "${name}"`, `use one of ${PRESET_NAMES.join(', ')}`);
  const model: ModelSettings = { ...preset.model };
  if (s.backbone !== undefined) model.backbone = s.backbone;
  if (s.outIndices !== undefined) model.outIndices = s.outIndices;
  if (s.hidden !== undefined) model.hidden = s.hidden;
  else if (s.backbone !== undefined || s.outIndices !== undefined) {
    // Other levels: the preset's widths for their strides (d = dPerStride × stride).
    try {
      model.hidden = presetWidths(preset.name, model.backbone, model.outIndices);
    } catch (e) {
      throw usageError((e as Error).message, 'pick a registered --backbone and --out-indices it has (see `rlr train --help`)');
    }
  }
  if (s.window !== undefined) model.window = s.window;
  if (s.imageSize !== undefined) {
    model.imageSize = s.imageSize;
    if (s.resize === undefined) model.resize = Math.min(...s.imageSize);
  }
  if (s.resize !== undefined) model.resize = s.resize;
  applyInputFlags(model, s);
  if (s.layers !== undefined) model.layers = s.layers;
  if (s.heads !== undefined) model.heads = s.heads;
  applyModelOptions(model, s);
  const train: TrainSettings = { ...preset.train };
  if (s.epochs !== undefined) train.epochs = s.epochs;
  if (s.batchSize !== undefined) train.batchSize = s.batchSize;
  if (s.lr !== undefined) train.lr = s.lr;
  if (s.seed !== undefined) train.seed = s.seed;
  applyTrainOptions(train, s);
  checkModel(model, train);
  const settings: RunSettings = { preset: name, data: dataSettings(s, 'train'), model, train, weights: s.weights };
  if (kind === 'knn') {
    // The RLR hyperparameters do not apply; only the backbone, levels and crop do.
    settings.kind = 'knn';
    settings.knn = { coreset: checkCoreset(s.coreset ?? DEFAULT_CORESET), ...(s.valFraction === undefined ? {} : { valFraction: train.valFraction }) };
    return settings;
  }
  if (s.coreset !== undefined) throw usageError('--coreset applies only to the nearest-neighbour model', 'add --model knn, or drop --coreset');
  checkModelFits(settings);
  return settings;
}

/** Parse `--model` of `rlr train` / `rlr bench`: rlr (default) or knn. */
export function parseModelKind(value: unknown): ModelKind {
  if (value === undefined) return 'rlr';
  const v = String(value).trim().toLowerCase();
  if (!(MODEL_KINDS as readonly string[]).includes(v)) throw usageError(`--model: "${String(value)}" is not a model`, `use --model rlr (the default) or --model knn (the nearest-neighbour baseline)`);
  return v as ModelKind;
}

/** A coreset fraction, checked to lie in (0, 1]. */
export function checkCoreset(f: number): number {
  if (!(Number.isFinite(f) && f > 0 && f <= 1)) {
    throw usageError(`--coreset ${f} is outside (0, 1]`, 'give the fraction of training tokens the knn bank keeps, e.g. --coreset 0.1 (1 keeps all)');
  }
  return f;
}

/** The model kind of a run (run folders from before `--model` are RLR runs). */
export function runKind(s: Pick<RunSettings, 'kind'>): ModelKind {
  return s.kind ?? 'rlr';
}

/** The @rlr/core model configuration of a run's settings. */
export function rlrConfig(s: RunSettings): Partial<RLRConfig> {
  const w = s.model.window;
  const a = s.model.attention;
  return {
    d: s.model.hidden,
    heads: s.model.heads,
    layers: s.model.layers,
    ffnRatio: s.model.ffnRatio,
    alpha: s.model.alpha,
    jitterScale: s.model.jitterScale,
    window: w === undefined ? undefined : w.length === 1 ? w[0] : w,
    ...(a === undefined ? {} : { attention: a.length === 1 ? a[0] : a }),
    seed: s.train.seed,
  };
}

/**
 * Copy and check the model options of `s` that have no preset-derived defaults into `model`:
 * `--attention` (a variant for all levels or one per level), `--alpha` (> 0) and
 * `--jitter-scale` (≥ 0; 0 trains on clean features).
 * @throws a usage error naming the flag for a bad value
 */
export function applyModelOptions(model: ModelSettings, s: SettingValues): void {
  if (s.attention !== undefined) {
    const names = s.attention.map((v) => v.toLowerCase());
    const bad = names.find((v) => !isAttentionVariant(v));
    if (bad !== undefined || names.length === 0) {
      throw usageError(`--attention "${bad ?? ''}" is not one of ${ATTENTION_VARIANTS.join(', ')}`, 'use --attention mlka+lca (the paper, the default) or an ablation such as --attention cross; see docs/variants.md');
    }
    model.attention = names.filter(isAttentionVariant);
  }
  if (s.alpha !== undefined) {
    if (!(s.alpha > 0)) throw usageError(`--alpha ${s.alpha} must be positive: it weights local cross-attention in LN(α·LCA + MLKA)`, 'use e.g. --alpha 2 (the paper; it also tried 1 and 3)');
    model.alpha = s.alpha;
  }
  if (s.jitterScale !== undefined) {
    if (!(s.jitterScale >= 0)) throw usageError(`--jitter-scale ${s.jitterScale} is negative`, 'use --jitter-scale 4 (the paper), or 0 to train without feature noise');
    model.jitterScale = s.jitterScale;
  }
}

/**
 * Check that the model settings fit the backbone's feature grids at the crop size (widths, heads,
 * windows), from the backbone's registry entry: no weights, no data, nothing written yet.
 * @throws a usage error naming the level, its grid and the flag to change
 */
export function checkModelFits(s: RunSettings): void {
  let info;
  try {
    info = backboneFeatureInfo(s.model.backbone, s.model.outIndices);
  } catch (e) {
    throw usageError((e as Error).message, 'pick a registered --backbone and --out-indices it has (see `rlr train --help`)');
  }
  const spec = specFromFeatureInfo(info, s.model.imageSize);
  try {
    resolveLevels(spec, rlrConfig(s));
  } catch (e) {
    throw usageError(
      `the model settings do not fit the ${spec.levels.map((l) => l.grid.join('x')).join(' and ')} feature grids of ${s.model.imageSize.join('x')} images: ${(e as Error).message}`,
      'use a larger --image-size, other --out-indices, or other --hidden/--heads/--window',
    );
  }
}

function checkModel(m: ModelSettings, t: TrainSettings): void {
  if (m.hidden.length !== m.outIndices.length) {
    throw usageError(`--hidden has ${m.hidden.length} widths but --out-indices has ${m.outIndices.length} levels`, 'give one hidden width per out index, e.g. --out-indices 2,3 --hidden 256,512');
  }
  for (const d of m.hidden) {
    if (d <= 0 || d % m.heads !== 0) throw usageError(`hidden width ${d} is not a positive multiple of ${m.heads} heads`, 'use widths divisible by --heads, e.g. 128 or 256');
  }
  if (m.layers < 1) throw usageError('--layers must be at least 1', 'use --layers 1 or more');
  if (m.window !== undefined) {
    if (m.window.length !== 1 && m.window.length !== m.outIndices.length) {
      throw usageError(`--window has ${m.window.length} values but --out-indices has ${m.outIndices.length} levels`, 'give one window for all levels (--window 5) or one per level (--window 7,5)');
    }
    for (const w of m.window) if (w < 1 || w % 2 === 0) throw usageError(`--window ${w} is not a positive odd number`, 'use odd windows such as 3, 5 or 7, or leave --window out for the default by grid size');
  }
  if (m.attention !== undefined && m.attention.length !== 1 && m.attention.length !== m.outIndices.length) {
    throw usageError(`--attention has ${m.attention.length} variants but --out-indices has ${m.outIndices.length} levels`, 'give one variant for all levels (--attention lca) or one per level (--attention lca,cross)');
  }
  checkEpochs(t.epochs);
  if (t.batchSize < 1) throw usageError('--batch-size must be at least 1', 'use --batch-size 1 or more');
  if (t.lr <= 0) throw usageError('--lr must be positive', 'e.g. --lr 1e-4');
  if (m.resize < Math.min(...m.imageSize)) {
    throw usageError(`--resize ${m.resize} is smaller than the crop ${m.imageSize.join('x')}`, 'make --resize at least the shorter crop side, or leave it out');
  }
}

/** `--epochs` must train at least once: 0 would save an untrained model. */
export function checkEpochs(epochs: number): void {
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw usageError(`--epochs ${epochs}: a run trains for at least 1 epoch (0 would save an untrained model)`, 'pass --epochs 1 or more, e.g. --epochs 10');
  }
}

/** Keep policies of `--keep`. */
export const KEEP_POLICIES: readonly KeepPolicy[] = ['best-val', 'last'];

/**
 * Copy and check the recipe, validation and budget options of `s` into `train`
 * (`--ref-init`, `--lr-schedule`, `--warmup-epochs`, `--val-fraction`, `--early-stop`, `--keep`,
 * `--threshold-quantile`, `--sensitivity`, `--max-minutes`, `--snapshot-minutes`).
 * @throws a usage error naming the flag for a bad value
 */
export function applyTrainOptions(train: TrainSettings, s: SettingValues): void {
  if (s.refInit !== undefined) {
    if (!(REF_INITS as readonly string[]).includes(s.refInit)) throw usageError(`--ref-init "${s.refInit}" is not one of ${REF_INITS.join(', ')}`, 'use --ref-init randn (the paper), mean or sample');
    train.refInit = s.refInit as RefInit;
  }
  if (s.lrSchedule !== undefined) {
    if (!(LR_SCHEDULES as readonly string[]).includes(s.lrSchedule)) throw usageError(`--lr-schedule "${s.lrSchedule}" is not one of ${LR_SCHEDULES.join(', ')}`, 'use --lr-schedule constant (the paper) or cosine');
    train.lrSchedule = s.lrSchedule as LrScheduleKind;
  }
  if (s.warmupEpochs !== undefined) {
    if (!(s.warmupEpochs >= 0)) throw usageError(`--warmup-epochs ${s.warmupEpochs} is negative`, 'use --warmup-epochs 0 (none) or a positive number of epochs, e.g. 2');
    train.warmupEpochs = s.warmupEpochs;
  }
  if (s.valFraction !== undefined) {
    if (!(s.valFraction > 0 && s.valFraction < 1)) {
      throw usageError(`--val-fraction ${s.valFraction} must be between 0 and 1 (exclusive): it is the share of the normal training images held out for validation`, 'use e.g. --val-fraction 0.1 (the default)');
    }
    train.valFraction = s.valFraction;
  }
  if (s.earlyStop !== undefined) {
    if (!(s.earlyStop >= 1)) throw usageError(`--early-stop ${s.earlyStop}: the patience must be at least 1 epoch`, 'use e.g. --early-stop 5, or leave it out to train all --epochs');
    train.earlyStop = s.earlyStop;
  }
  if (s.keep !== undefined) {
    if (!(KEEP_POLICIES as readonly string[]).includes(s.keep)) throw usageError(`--keep "${s.keep}" is not one of ${KEEP_POLICIES.join(', ')}`, 'use --keep best-val (lowest validation loss) or --keep last');
    train.keep = s.keep as KeepPolicy;
  }
  if (s.thresholdQuantile !== undefined) {
    if (!(s.thresholdQuantile > 0 && s.thresholdQuantile <= 1)) throw usageError(`--threshold-quantile ${s.thresholdQuantile} must be in (0, 1]: it is the share of validation normals scored below the threshold`, 'use e.g. --threshold-quantile 0.99 (the default)');
    train.thresholdQuantile = s.thresholdQuantile;
  }
  if (s.sensitivity !== undefined) {
    if (!(s.sensitivity >= 0 && s.sensitivity <= 1)) throw usageError(`--sensitivity ${s.sensitivity} must be in [0, 1]`, 'use e.g. --sensitivity 0.7 to flag more images, 0.3 to flag fewer (0.5: the quantile as it is)');
    train.sensitivity = s.sensitivity;
  }
  if (s.maxMinutes !== undefined) {
    if (!(s.maxMinutes > 0)) throw usageError(`--max-minutes ${s.maxMinutes} must be positive`, 'use e.g. --max-minutes 10, or leave it out for no budget');
    train.maxMinutes = s.maxMinutes;
  }
  if (s.snapshotMinutes !== undefined) {
    const marks = s.snapshotMinutes.map(Number);
    if (marks.some((m) => !(m > 0))) throw usageError(`--snapshot-minutes ${s.snapshotMinutes.join(',')} must be positive numbers`, 'use e.g. --snapshot-minutes 5,10');
    train.snapshotMinutes = marks;
  }
  if (train.keep === 'best-val' && train.valFraction === undefined) throw usageError('--keep best-val needs a validation split', 'add --val-fraction 0.1');
}
