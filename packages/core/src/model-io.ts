import * as tf from '@tensorflow/tfjs-core';
import type { BlobStore } from './blob-store.js';
import { presets, resolveLevels, type LevelConfig, type RLRConfig, type RLRSpec } from './config.js';
import { fromOfficial, levelParamsFromValues, readLevelValues, toOfficial, type OfficialTensor } from './level-params.js';
import { modelFromParams, type RLRModel } from './rlr-model.js';
import { assertFiniteTensors } from './finite-check.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.js';
import { sha256Hex, verifySha256 } from './sha256.js';
import { VERSION } from './version.js';

/**
 * A model directory: `config.json` (everything needed to rebuild the model and its inputs) and
 * `weights.safetensors` (every level's parameters under the official checkpoint names with a
 * `level<i>.` prefix, in PyTorch layouts — the same layout `importOfficialCheckpoint` reads).
 * Written through a {@link BlobStore}: `fileStore(dir)` in Node, read back with `urlStore(url)`
 * in browsers.
 */

export const MODEL_CONFIG = 'config.json';
export const MODEL_WEIGHTS = 'weights.safetensors';

/** Contents of `config.json`. */
export interface ModelManifest {
  format: 'rlr-model';
  formatVersion: 1;
  /** Which model the folder holds: absent or `"rlr"` here; `"knn"` for `saveKnnModel`'s folders. */
  kind?: 'rlr' | 'knn';
  library: { name: '@rlr/core'; version: string };
  /** Crop size and feature levels. */
  spec: RLRSpec;
  /** Hyperparameters as given to `createRLR` (preset values filled in). */
  config: RLRConfig;
  /** Resolved per-level settings (informative; rebuilt from spec + config when loading). */
  levels: LevelConfig[];
  weights: string;
  /**
   * sha256 (hex) of each weights file, by blob name, taken when it was saved and verified when it
   * is loaded. Absent in models saved before checksums were recorded (those load unverified).
   */
  checksums?: Record<string, string>;
  /** Anything the caller adds: backbone config, preprocessing, training summary, … */
  [extra: string]: unknown;
}

/** Every level's parameters under their official names, prefixed `level<i>.`. */
export async function modelToOfficialTensors(model: RLRModel): Promise<Map<string, OfficialTensor>> {
  const out = new Map<string, OfficialTensor>();
  for (let i = 0; i < model.levels.length; i++) {
    const lv = model.levels[i];
    for (const [name, t] of toOfficial(lv.config, await readLevelValues(lv.params))) out.set(`level${i}.${name}`, t);
  }
  return out;
}

/** Split official tensors by their `level<i>.` prefix (names without a prefix belong to level 0). */
export function officialTensorsByLevel(tensors: Map<string, OfficialTensor>): Map<string, OfficialTensor>[] {
  const levels: Map<string, OfficialTensor>[] = [];
  for (const [name, t] of tensors) {
    const m = /^level(\d+)\.(.+)$/.exec(name);
    const i = m ? Number(m[1]) : 0;
    while (levels.length <= i) levels.push(new Map());
    levels[i].set(m ? m[2] : name, t);
  }
  return levels;
}

/** Overwrite a model's parameters with official tensors (prefixed `level<i>.`); shapes must match. */
export function assignOfficialTensors(model: RLRModel, tensors: Map<string, OfficialTensor>, where: string): void {
  const byLevel = officialTensorsByLevel(tensors);
  model.levels.forEach((lv, i) => {
    const values = fromOfficial(lv.config, byLevel[i] ?? new Map(), `${where} level${i}`);
    for (const [name, v] of lv.params) v.assign(tf.tensor(values.get(name)!, v.shape));
  });
}

/**
 * Save a model: `config.json` + `weights.safetensors`.
 * @param extra JSON-able entries merged into config.json, e.g. `{ backbone: extractor.toConfig(),
 *   preprocessing: { resize: 256, crop: 256 } }`; `model.metadata` is written too
 */
export async function saveModel(model: RLRModel, store: BlobStore, extra: Record<string, unknown> = {}): Promise<ModelManifest> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of await modelToOfficialTensors(model)) tensors.set(name, { shape: t.shape, data: t.data });
  assertFiniteTensors(tensors, `saveModel(${store.location})`, 'Training diverged or the parameters were overwritten; the model was not saved.');
  const weightBytes = serializeSafetensors(tensors, { format: 'rlr-weights', library: `@rlr/core@${VERSION}` });
  const manifest: ModelManifest = {
    ...model.metadata,
    ...extra,
    format: 'rlr-model',
    formatVersion: 1,
    library: { name: '@rlr/core', version: VERSION },
    spec: model.spec,
    config: model.config,
    levels: model.levelConfigs,
    weights: MODEL_WEIGHTS,
    checksums: { [MODEL_WEIGHTS]: await sha256Hex(weightBytes) },
  };
  // Weights first, config last: a directory with a config.json always has matching weights.
  await store.write(MODEL_WEIGHTS, weightBytes);
  await store.write(MODEL_CONFIG, new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
  return manifest;
}

/** Read and validate `config.json` of a model directory. */
export async function readModelManifest(store: BlobStore): Promise<ModelManifest> {
  const where = `${store.location}/${MODEL_CONFIG}`;
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await store.read(MODEL_CONFIG))) as ModelManifest;
  } catch (e) {
    throw new Error(`${where}: cannot read the model configuration (${(e as Error).message}); is this a model directory saved by saveModel?`);
  }
  if (manifest.format !== 'rlr-model') {
    throw new Error(`${where}: "format" is ${JSON.stringify(manifest.format)}, expected "rlr-model"`);
  }
  if (manifest.formatVersion !== 1) {
    throw new Error(`${where}: model format version ${manifest.formatVersion} is newer than this @rlr/core (${VERSION}) reads; upgrade @rlr/core`);
  }
  if (!manifest.spec?.levels?.length || !manifest.spec.imageSize) throw new Error(`${where}: "spec" (imageSize, levels) is missing`);
  return manifest;
}

/**
 * Load a model saved by {@link saveModel}. Extra entries of config.json (backbone,
 * preprocessing, …) are available as `model.metadata`.
 */
export async function loadModel(store: BlobStore): Promise<RLRModel> {
  const manifest = await readModelManifest(store);
  if (manifest.kind === 'knn') {
    throw new Error(`${store.location}/${MODEL_CONFIG}: holds a nearest-neighbour (knn) model, not an RLR one; load it with loadKnnModel`);
  }
  const config = { ...presets.paper, ...manifest.config };
  const levels = resolveLevels(manifest.spec, config);
  const weightsName = manifest.weights ?? MODEL_WEIGHTS;
  const where = `${store.location}/${weightsName}`;
  const bytes = await store.read(weightsName);
  const expected = manifest.checksums?.[weightsName];
  if (expected) await verifySha256(bytes, expected, where, `Restore ${weightsName} and ${MODEL_CONFIG} together from a backup, or retrain the model.`);
  const file = parseSafetensors(bytes, where);
  assertFiniteTensors(file.tensors, where, 'Restore the model folder from a backup or retrain it.');
  const official = new Map<string, OfficialTensor>();
  for (const [name, t] of file.tensors) official.set(name, { shape: t.shape, data: t.data as Float32Array });
  const byLevel = officialTensorsByLevel(official);
  const params = levels.map((cfg, i) =>
    levelParamsFromValues(cfg, fromOfficial(cfg, byLevel[i] ?? new Map(), `${where} level${i}`), `${where} level${i}`),
  );
  const model = modelFromParams(manifest.spec, config, params);
  const { format, formatVersion, kind, library, spec, config: _c, levels: _l, weights, checksums, ...extra } = manifest;
  void format; void formatVersion; void kind; void library; void spec; void _c; void _l; void weights; void checksums;
  model.metadata = extra;
  return model;
}

/**
 * Copy the parameters of `levels` from `source` into `target` (same spec and configuration):
 * joins models whose levels were trained separately, e.g. `Trainer({ levels: [1] })` in a
 * second worker. Levels share nothing, so the result equals training all levels together.
 */
export function mergeLevels(target: RLRModel, source: RLRModel, levels: number[]): RLRModel {
  for (const i of levels) {
    const [a, b] = [target.levels[i], source.levels[i]];
    if (!a || !b) throw new Error(`mergeLevels: level ${i} does not exist in both models`);
    if (JSON.stringify(a.config) !== JSON.stringify(b.config)) {
      throw new Error(`mergeLevels: level ${i} differs (${JSON.stringify(b.config)} vs ${JSON.stringify(a.config)}); build both models from the same spec and config`);
    }
    for (const [name, v] of a.params) v.assign(b.params.get(name)!);
  }
  return target;
}
