import type { BlobStore } from './blob-store.js';
import type { RLRSpec } from './config.js';
import { KnnModel, resolveKnnConfig, type KnnConfig } from './knn-model.js';
import { MODEL_CONFIG, readModelManifest } from './model-io.js';
import { assertFiniteTensors } from './finite-check.js';
import { sha256Hex, verifySha256 } from './sha256.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.js';
import { VERSION } from './version.js';

/**
 * A knn model directory has the layout of an RLR one (`saveModel`): `config.json`, with
 * `"kind": "knn"`, the spec and the {@link KnnConfig}, and the banks as safetensors
 * (`bank.safetensors`: `level<i>` [M_i, C_i] float32). Written and read through a
 * {@link BlobStore}, so browsers load it with `urlStore(url)`.
 */

/** Name of the banks' blob. */
export const KNN_BANK = 'bank.safetensors';

/** Contents of a knn model's `config.json`. */
export interface KnnManifest {
  format: 'rlr-model';
  formatVersion: 1;
  /** Which model the folder holds (RLR folders have no `kind`, or `"rlr"`). */
  kind: 'knn';
  library: { name: '@rlr/core'; version: string };
  spec: RLRSpec;
  config: KnnConfig;
  /** Bank size per level (informative). */
  levels: { grid: [number, number]; channels: number; bankSize: number }[];
  weights: string;
  /** sha256 (hex) of the bank file, verified when loading (as RLR model folders record theirs). */
  checksums?: Record<string, string>;
  [extra: string]: unknown;
}

/**
 * Save a knn model: the banks first, then `config.json` (a folder with a config.json is complete).
 * @param extra JSON-able entries merged into config.json (backbone, preprocessing, …); `model.metadata` is written too
 */
export async function saveKnnModel(model: KnnModel, store: BlobStore, extra: Record<string, unknown> = {}): Promise<KnnManifest> {
  const tensors = new Map<string, TensorToWrite>();
  model.banks.forEach((b, i) => tensors.set(`level${i}`, { shape: [model.bankSizes[i], model.spec.levels[i].channels], data: b }));
  assertFiniteTensors(tensors, `saveKnnModel(${store.location})`, 'The training features hold NaN/Infinity; extract them again (delete the run\'s features/ folder).');
  const bankBytes = serializeSafetensors(tensors, { format: 'rlr-knn-bank', library: `@rlr/core@${VERSION}` });
  const manifest: KnnManifest = {
    ...model.metadata,
    ...extra,
    format: 'rlr-model',
    formatVersion: 1,
    kind: 'knn',
    library: { name: '@rlr/core', version: VERSION },
    spec: model.spec,
    config: model.config,
    levels: model.spec.levels.map((l, i) => ({ grid: l.grid, channels: l.channels, bankSize: model.bankSizes[i] })),
    weights: KNN_BANK,
    checksums: { [KNN_BANK]: await sha256Hex(bankBytes) },
  };
  await store.write(KNN_BANK, bankBytes);
  await store.write(MODEL_CONFIG, new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
  return manifest;
}

/** Whether a model folder's `config.json` describes a knn model. */
export async function isKnnModel(store: BlobStore): Promise<boolean> {
  return (await readModelManifest(store)).kind === 'knn';
}

/**
 * Load a model saved by {@link saveKnnModel}; extra entries of config.json are `model.metadata`.
 */
export async function loadKnnModel(store: BlobStore): Promise<KnnModel> {
  const manifest = (await readModelManifest(store)) as unknown as KnnManifest;
  const where = `${store.location}/${MODEL_CONFIG}`;
  if (manifest.kind !== 'knn') throw new Error(`${where}: holds an RLR model, not a knn one; load it with loadModel`);
  let config: KnnConfig;
  try {
    config = resolveKnnConfig(manifest.config);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const bankName = manifest.weights ?? KNN_BANK;
  const bytes = await store.read(bankName);
  const expected = manifest.checksums?.[bankName];
  if (expected) await verifySha256(bytes, expected, `${store.location}/${bankName}`, `Restore ${bankName} and ${MODEL_CONFIG} together from a backup, or rebuild the model (rlr train --model knn).`);
  const file = parseSafetensors(bytes, `${store.location}/${bankName}`);
  assertFiniteTensors(file.tensors, `${store.location}/${bankName}`, 'Restore the model folder from a backup or rebuild it.');
  const banks = manifest.spec.levels.map((l, i) => {
    const t = file.tensors.get(`level${i}`);
    if (!t) throw new Error(`${store.location}/${bankName}: no tensor "level${i}"; the folder is incomplete, rebuild the model`);
    if (t.shape.length !== 2 || t.shape[1] !== l.channels || !(t.data instanceof Float32Array)) {
      throw new Error(`${store.location}/${bankName}: "level${i}" is [${t.shape}] ${t.dtype}, expected [M, ${l.channels}] F32`);
    }
    return t.data;
  });
  const model = new KnnModel(manifest.spec, config, banks);
  const { format, formatVersion, kind, library, spec, config: _c, levels, weights, checksums, ...extra } = manifest;
  void format; void formatVersion; void kind; void library; void spec; void _c; void levels; void weights; void checksums;
  model.metadata = extra;
  return model;
}
