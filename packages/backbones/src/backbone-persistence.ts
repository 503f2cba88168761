/**
 * A backbone saved with a model: `backbone.safetensors` in the model's directory holds the weights
 * the extractor ran with, so the model can be scored later without the weights' original source
 * (random weights with calibrated BatchNorm statistics, a local file that has moved, weights
 * passed in memory). Browser-safe: everything goes through a {@link BlobStore}.
 *
 * - EfficientNet: a timm checkpoint (timm names, PyTorch layouts, F32) of the stem and the blocks
 *   the extractor runs, BatchNorm running statistics as loaded or calibrated. timm reads it with
 *   `load_state_dict(..., strict=False)`; any timm checkpoint of the variant works as the file too.
 * - tfjs models (MobileNet): every weight of the model by its tfjs name, and the model's topology
 *   in the safetensors metadata.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  parseSafetensors,
  readModelManifest,
  serializeSafetensors,
  type BlobStore,
  type FeatureExtractor,
  type TensorToWrite,
} from '@rlr/core';
import { EfficientNetExtractor } from './efficientnet/efficientnet.js';
import { createBackbone, getBackboneEntry, type BackboneEntry, type SourceReader } from './registry.js';
import { TfjsModelBackbone } from './tfjs-model/tfjs-model-backbone.js';
import { isRemoteSource, type DownloadProgress } from './weight-source.js';

/** Name of the backbone's weights file in a model directory. */
export const BACKBONE_WEIGHTS = 'backbone.safetensors';

/** `format` in the metadata of a file written by {@link exportBackboneWeights}. */
const FILE_FORMAT = 'rlr-backbone';

/**
 * The backbone entry of a saved model's `config.json`: what `extractor.toConfig()` returns
 * (`name`, `outIndices`, `smooth`, `weights` source, and for random weights `seed` and
 * `calibrationImageCount`).
 */
export interface SavedBackboneConfig {
  name: string;
  outIndices?: number[];
  smooth?: boolean;
  /** Path, URL, `hf://` id or `random`; `null` when the weights were passed in memory. */
  weights?: string | null;
  seed?: number;
  calibrationImageCount?: number;
  [key: string]: unknown;
}

/**
 * Whether a backbone can be rebuilt from its config alone: its weights are a URL or `hf://` id
 * (fetched again, through the cache in Node), or random weights without calibration (seeded).
 * Anything else (calibrated random weights, a local path, weights passed in memory) must be saved
 * with the model as {@link BACKBONE_WEIGHTS}.
 */
export function isRebuildableFromConfig(config: Record<string, unknown>): boolean {
  const weights = config.weights;
  if (typeof weights !== 'string') return false;
  if (weights === 'random') return !config.calibrationImageCount;
  return isRemoteSource(weights);
}

/** A store location joined with a blob name, for messages. */
function blobLocation(store: BlobStore, name: string): string {
  return `${store.location}${store.location.endsWith('/') ? '' : '/'}${name}`;
}

const TFJS_DTYPES: Record<string, TensorToWrite['dtype']> = { float32: 'F32', int32: 'I32', bool: 'U8' };

/** Every weight of a tfjs model by name, plus its topology as metadata. */
async function tfjsModelFile(extractor: TfjsModelBackbone): Promise<{ tensors: Map<string, TensorToWrite>; metadata: Record<string, string> }> {
  const { weightData, weightSpecs, modelTopology, ...rest } = await extractor.modelArtifacts();
  if (!modelTopology || modelTopology instanceof ArrayBuffer || !weightSpecs || !weightData) {
    throw new Error(
      `${extractor.name}: the tfjs model has no JSON topology or no weights to export; ` +
        `keep its model.json at a URL and save the model without backbone weights`,
    );
  }
  const tensors = new Map<string, TensorToWrite>();
  const decoded = tf.io.decodeWeights(weightData, weightSpecs);
  try {
    for (const spec of weightSpecs) {
      const dtype = TFJS_DTYPES[spec.dtype];
      if (!dtype) throw new Error(`${extractor.name}: weight "${spec.name}" has dtype ${spec.dtype}, which cannot be exported`);
      const t = decoded[spec.name];
      const data = t.dataSync();
      tensors.set(spec.name, {
        shape: [...t.shape],
        data: dtype === 'U8' ? Uint8Array.from(data as ArrayLike<number>) : (data),
        dtype,
      });
    }
  } finally {
    tf.dispose(Object.values(decoded));
  }
  return {
    tensors,
    metadata: {
      tfjsArtifacts: JSON.stringify({ ...rest, modelTopology }),
      tfjsWeights: JSON.stringify(weightSpecs.map((s) => ({ name: s.name, shape: s.shape, dtype: s.dtype }))),
    },
  };
}

/**
 * The weights an extractor runs with, as safetensors bytes, to store beside a model as
 * {@link BACKBONE_WEIGHTS} (see {@link saveBackboneWeights}); {@link loadBackboneFromStore} reads
 * them back into an extractor that gives identical features.
 * EfficientNet: a timm checkpoint (timm names and PyTorch layouts, F32) of the stem and the blocks
 * up to the deepest requested stage, with the BatchNorm statistics it runs with (calibrated ones
 * included). tfjs models: every weight by its tfjs name, with the topology in the metadata.
 * @throws for extractors of other kinds (they are not built by `@rlr/backbones`)
 */
export async function exportBackboneWeights(extractor: FeatureExtractor): Promise<Uint8Array> {
  const metadata: Record<string, string> = {
    format: FILE_FORMAT,
    backbone: extractor.name,
    config: JSON.stringify(extractor.toConfig()),
  };
  if (extractor instanceof EfficientNetExtractor) {
    const tensors = new Map<string, TensorToWrite>();
    for (const [name, t] of extractor.checkpointTensors()) {
      tensors.set(name, { shape: t.shape, data: t.data as Float32Array, dtype: 'F32' });
    }
    return serializeSafetensors(tensors, { ...metadata, family: 'efficientnet' });
  }
  if (extractor instanceof TfjsModelBackbone) {
    const file = await tfjsModelFile(extractor);
    return serializeSafetensors(file.tensors, { ...metadata, ...file.metadata, family: 'tfjs-model' });
  }
  throw new Error(
    `exportBackboneWeights: "${extractor.name}" is not an extractor made by @rlr/backbones (EfficientNet or a tfjs model); ` +
      `save its weights yourself and rebuild it the same way`,
  );
}

/** Options of {@link saveBackboneWeights}. */
export interface SaveBackboneOptions {
  /** Write the file even when the weights can be fetched again from their source (default false). */
  always?: boolean;
}

/**
 * Write {@link BACKBONE_WEIGHTS} into a model directory when the extractor cannot be rebuilt
 * from its config alone (see {@link isRebuildableFromConfig}), or always with `always: true`.
 * Call it next to `saveModel(model, store, { backbone: extractor.toConfig(), … })`.
 * @returns whether the file was written
 */
export async function saveBackboneWeights(store: BlobStore, extractor: FeatureExtractor, options: SaveBackboneOptions = {}): Promise<boolean> {
  if (!options.always && isRebuildableFromConfig(extractor.toConfig())) return false;
  await store.write(BACKBONE_WEIGHTS, await exportBackboneWeights(extractor));
  return true;
}

/** Options of {@link loadBackboneFromStore}. */
export interface LoadBackboneOptions {
  /** How weight sources named in the config are read (default `fetch`; the Node entry: the disk cache). */
  sources?: SourceReader;
  /** Download progress of a weights source. */
  onProgress?: (p: DownloadProgress) => void;
}

/** The backbone config of the model saved in `store` (its `config.json`), checked. */
async function savedBackboneConfig(store: BlobStore): Promise<SavedBackboneConfig> {
  const manifest = await readModelManifest(store);
  const backbone = manifest.backbone as SavedBackboneConfig | undefined;
  if (!backbone || typeof backbone !== 'object') {
    throw new Error(
      `${blobLocation(store, 'config.json')} names no backbone; save the model with ` +
        `saveModel(model, store, { backbone: extractor.toConfig() })`,
    );
  }
  return backbone;
}

function checkConfig(store: BlobStore, config: SavedBackboneConfig): BackboneEntry {
  if (typeof config?.name !== 'string') {
    throw new Error(`${store.location}: the backbone config has no "name"; pass the backbone entry of config.json (extractor.toConfig())`);
  }
  return getBackboneEntry(config.name);
}

/** An extractor from the bytes of a {@link BACKBONE_WEIGHTS} file. */
async function fromWeightsFile(entry: BackboneEntry, config: SavedBackboneConfig, bytes: Uint8Array, where: string): Promise<FeatureExtractor> {
  const file = parseSafetensors(bytes, where);
  const saved = file.metadata.backbone;
  if (saved !== undefined && saved !== config.name) {
    throw new Error(`${where} holds weights of ${saved}, but the model's backbone is ${config.name}; copy the right file, or remove it to use the weights source in config.json`);
  }
  if (entry.family === 'efficientnet') {
    const { name: _name, outIndices, smooth, ...extras } = config;
    // Messages about the file name it; toConfig() still says where the weights came from.
    return new EfficientNetExtractor(config.name, file.tensors, { outIndices, smooth, weightsSource: where, configExtras: extras });
  }
  const artifactsJson = file.metadata.tfjsArtifacts;
  const specsJson = file.metadata.tfjsWeights;
  if (file.metadata.family !== 'tfjs-model' || !artifactsJson || !specsJson) {
    throw new Error(`${where} is not a tfjs model export (written by exportBackboneWeights); ${config.name} needs one, or remove the file to use the weights source in config.json`);
  }
  const specs = JSON.parse(specsJson) as tf.io.WeightsManifestEntry[];
  const parts = specs.map((s) => {
    const t = file.tensors.get(s.name);
    if (!t) throw new Error(`${where}: weight "${s.name}" is missing; export the backbone again`);
    const data = s.dtype === 'float32' ? Float32Array.from(t.data) : s.dtype === 'int32' ? Int32Array.from(t.data) : Uint8Array.from(t.data);
    return new Uint8Array(data.buffer);
  });
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    weightData.set(p, at);
    at += p.byteLength;
  }
  const artifacts = { ...(JSON.parse(artifactsJson) as tf.io.ModelArtifacts), weightSpecs: specs, weightData: weightData.buffer };
  return TfjsModelBackbone.load(config.name, entry.definition!, tf.io.fromMemory(artifacts), {
    outIndices: config.outIndices,
    smooth: config.smooth,
    weightsSource: config.weights ?? undefined,
  });
}

/**
 * Rebuild the feature extractor a model was saved with, from its model directory: the weights
 * come from {@link BACKBONE_WEIGHTS} when the directory has it, otherwise from the source in the
 * config (a URL or `hf://` id; a local path in the Node entry; seeded `random` weights without
 * calibration). The result gives the features the model was trained on, and its `toConfig()`
 * equals `config`.
 * @param config the backbone entry of the model's `config.json` (`model.metadata.backbone` of a
 *   loaded model); read from the store's `config.json` when omitted
 * @throws naming the directory, when the weights cannot be found (e.g. calibrated random weights
 *   and no `backbone.safetensors`), with what to do
 */
export async function loadBackboneFromStore(
  store: BlobStore,
  config?: SavedBackboneConfig | Record<string, unknown>,
  options: LoadBackboneOptions = {},
): Promise<FeatureExtractor> {
  const cfg = (config ?? (await savedBackboneConfig(store))) as SavedBackboneConfig;
  const entry = checkConfig(store, cfg);
  if (await store.exists(BACKBONE_WEIGHTS)) {
    const where = blobLocation(store, BACKBONE_WEIGHTS);
    return fromWeightsFile(entry, cfg, await store.read(BACKBONE_WEIGHTS), where);
  }
  const source = cfg.weights;
  const common = { outIndices: cfg.outIndices, smooth: cfg.smooth, sources: options.sources, onProgress: options.onProgress };
  if (source === 'random') {
    if (cfg.calibrationImageCount) {
      throw new Error(
        `${store.location}: the ${cfg.name} backbone has random weights whose BatchNorm statistics were calibrated on ` +
          `${cfg.calibrationImageCount} images, and the directory has no ${BACKBONE_WEIGHTS} holding them; ` +
          `save it with saveBackboneWeights(store, extractor) when saving the model, or retrain`,
      );
    }
    return createBackbone(cfg.name, { ...common, weights: 'random', seed: cfg.seed });
  }
  if (typeof source !== 'string' || source === '') {
    throw new Error(
      `${store.location}: the ${cfg.name} backbone's weights were passed in memory (config "weights" is null) and the ` +
        `directory has no ${BACKBONE_WEIGHTS}; save it with saveBackboneWeights(store, extractor) when saving the model`,
    );
  }
  try {
    return await createBackbone(cfg.name, { ...common, weights: source });
  } catch (e) {
    throw new Error(
      `${store.location}: cannot load the ${cfg.name} backbone from its weights source ${source} (${(e as Error).message.split('\n')[0]}); ` +
        `put the weights there again, or save them with the model as ${BACKBONE_WEIGHTS} (saveBackboneWeights)`,
      { cause: e },
    );
  }
}
