import { isAbsolute, resolve } from 'node:path';
import { RESIZE_MODES, type ResizeMode } from '@rlr/data';
import { usageError } from './errors.js';

/**
 * Every setting a command can take from a flag or a config file, with one parser each. Flags and
 * file values go through the same parser, so `--hidden 128,256` and `hidden: [128, 256]` agree.
 */
export type SettingKind = 'string' | 'path' | 'weights' | 'int' | 'float' | 'intList' | 'list' | 'size' | 'pixels' | 'format' | 'modelKind' | 'resizeMode' | 'bool';

/** Dataset formats `@rlr/data` reads. */
export const FORMATS = ['mvtec', 'visa', 'folder'] as const;
export type DatasetFormat = (typeof FORMATS)[number];

export const SETTING_KINDS = {
  data: 'path',
  format: 'format',
  categories: 'list',
  normalDir: 'path',
  abnormalDir: 'path',
  maskDir: 'path',
  normalTestDir: 'path',
  testFraction: 'float',
  allowMissingMasks: 'bool',
  preset: 'string',
  backbone: 'string',
  weights: 'weights',
  outIndices: 'intList',
  imageSize: 'size',
  resize: 'int',
  resizeMode: 'resizeMode',
  tile: 'size',
  tileStride: 'pixels',
  tileScale: 'float',
  epochs: 'int',
  batchSize: 'int',
  layers: 'int',
  hidden: 'intList',
  heads: 'int',
  window: 'intList',
  attention: 'list',
  alpha: 'float',
  jitterScale: 'float',
  lr: 'float',
  seed: 'int',
  backend: 'string',
  out: 'path',
  checkpointEvery: 'int',
  coreset: 'float',
  modelKind: 'modelKind',
  refInit: 'string',
  lrSchedule: 'string',
  warmupEpochs: 'float',
  maxMinutes: 'float',
  snapshotMinutes: 'list',
  valFraction: 'float',
  earlyStop: 'int',
  keep: 'string',
  thresholdQuantile: 'float',
  sensitivity: 'float',
} as const satisfies Record<string, SettingKind>;

export type SettingName = keyof typeof SETTING_KINDS;

/** Parsed setting values, as they come out of `parseSetting` (flags and config-file values alike). */
export type SettingValues = Partial<{
  data: string;
  format: DatasetFormat;
  categories: string[];
  normalDir: string;
  abnormalDir: string;
  maskDir: string;
  normalTestDir: string;
  testFraction: number;
  allowMissingMasks: boolean;
  preset: string;
  backbone: string;
  weights: string;
  outIndices: number[];
  imageSize: [number, number];
  resize: number;
  resizeMode: ResizeMode;
  tile: [number, number];
  tileStride: [number, number];
  tileScale: number;
  epochs: number;
  batchSize: number;
  layers: number;
  hidden: number[];
  heads: number;
  window: number[];
  attention: string[];
  alpha: number;
  jitterScale: number;
  lr: number;
  seed: number;
  backend: string;
  out: string;
  checkpointEvery: number;
  coreset: number;
  /** `rlr train --model`: in a config file `model: knn` (a scalar; `model:` with keys is the model section). */
  modelKind: 'rlr' | 'knn';
  refInit: string;
  lrSchedule: string;
  warmupEpochs: number;
  maxMinutes: number;
  snapshotMinutes: string[];
  valFraction: number;
  earlyStop: number;
  keep: string;
  thresholdQuantile: number;
  sensitivity: number;
}>;

/** `kebab-case` / `snake_case` / `camelCase` → `camelCase`. */
export function camelCase(key: string): string {
  return key.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `camelCase` → `--kebab-case` for messages. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Parse `256` or `256x640` (height x width). */
export function parseImageSize(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a size: use 256 or HxW such as 256x640`);
  const h = Number(m[1]);
  const w = m[2] === undefined ? h : Number(m[2]);
  if (h < 32 || w < 32) throw new Error(`${h}x${w} is too small: the backbone needs at least 32 pixels per side`);
  return [h, w];
}

/** Parse `128` or `128x64` (height x width): any positive pixel counts (a stride, not an input size). */
export function parsePixelPair(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a pixel count: use 128 or HxW such as 128x64`);
  const h = Number(m[1]);
  const w = m[2] === undefined ? h : Number(m[2]);
  if (h < 1 || w < 1) throw new Error(`${h}x${w}: a stride is at least 1 pixel`);
  return [h, w];
}

function positiveInt(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${String(v)}" is not a non-negative integer`);
  return n;
}

function list(v: unknown): string[] {
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Parse one setting value from a flag (string) or a config file (any JSON/YAML value).
 * Relative paths resolve against `baseDir` (the working directory for flags, the file's folder for
 * config files). Throws a usage error naming `source`.
 */
export function parseSetting(name: SettingName, value: unknown, source: string, baseDir: string): unknown {
  const kind: SettingKind = SETTING_KINDS[name];
  try {
    switch (kind) {
      case 'string':
        return String(value);
      case 'path':
        return resolve(baseDir, String(value));
      case 'weights': {
        // URLs, hf:// ids and the keyword `random` pass through; anything else is a local path.
        const s = String(value);
        return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s === 'random' || isAbsolute(s) ? s : resolve(baseDir, s);
      }
      case 'int':
        return positiveInt(value);
      case 'float': {
        const n = typeof value === 'number' ? value : Number(String(value).trim());
        if (!Number.isFinite(n)) throw new Error(`"${String(value)}" is not a number`);
        return n;
      }
      case 'intList': {
        const items = Array.isArray(value) ? value : list(value);
        if (items.length === 0) throw new Error('the list is empty');
        return items.map(positiveInt);
      }
      case 'list':
        return list(value);
      case 'size':
        return Array.isArray(value) ? parseImageSize(value.join('x')) : parseImageSize(String(value));
      case 'pixels':
        return parsePixelPair(Array.isArray(value) ? value.join('x') : String(value));
      case 'resizeMode': {
        const s = String(value).trim().toLowerCase();
        if (!(RESIZE_MODES as readonly string[]).includes(s)) throw new Error(`"${String(value)}" is not a resize mode`);
        return s;
      }
      case 'modelKind': {
        const s = String(value).trim().toLowerCase();
        if (s !== 'rlr' && s !== 'knn') throw new Error(`"${String(value)}" is not a model: use rlr or knn`);
        return s;
      }
      case 'bool': {
        if (typeof value === 'boolean') return value;
        const b = String(value).trim().toLowerCase();
        if (['true', 'yes', '1', 'on'].includes(b)) return true;
        if (['false', 'no', '0', 'off'].includes(b)) return false;
        throw new Error(`"${String(value)}" is not true or false`);
      }
      case 'format': {
        const s = String(value).toLowerCase();
        if (!(FORMATS as readonly string[]).includes(s)) throw new Error(`"${String(value)}" is not a dataset format`);
        return s;
      }
    }
  } catch (e) {
    throw usageError(`${source}: ${(e as Error).message}`, hintFor(name));
  }
}

function hintFor(name: SettingName): string {
  switch (name) {
    case 'format':
      return `use one of ${FORMATS.join(', ')}`;
    case 'imageSize':
    case 'tile':
      return 'use a side length (256) or HxW (256x640)';
    case 'tileStride':
      return 'use a stride in pixels (128) or HxW (128x64), at most the --tile size';
    case 'resizeMode':
      return `use --resize-mode ${RESIZE_MODES.join(', --resize-mode ')}`;
    case 'outIndices':
    case 'hidden':
      return 'use a comma-separated list of integers, e.g. 2,3';
    case 'modelKind':
      return 'use --model rlr or --model knn (in a config file, model: knn)';
    case 'window':
      return 'use one odd window for all levels (5) or one per level (7,5)';
    case 'epochs':
      return 'pass a whole number of epochs, 1 or more, e.g. --epochs 10';
    case 'alpha':
      return 'pass the weight of local cross-attention, e.g. --alpha 2 (the paper)';
    case 'jitterScale':
      return 'pass the scale of the training feature noise, e.g. --jitter-scale 4 (the paper), or 0 for none';
    default:
      return `see \`rlr train --help\` for ${flagName(name)}`;
  }
}

/** Whether `key` (already camelCased) names a setting. */
export function isSettingName(key: string): key is SettingName {
  return Object.hasOwn(SETTING_KINDS, key);
}

/** Parse a non-negative integer option that is not a run setting (e.g. `--gallery`, `--iterations`). */
export function parseCount(value: unknown, flag: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0) throw usageError(`${flag}: "${String(value)}" is not a non-negative integer`, `pass a whole number, e.g. ${flag} 3`);
  return n;
}
