/**
 * The backbone registry, keyed by the checkpoint's own name (timm names for EfficientNet), and
 * `createBackbone`, the one-call entry point: resolve the weights (published default, path, URL,
 * `hf://` id, bytes or `random`), build the extractor, select the stages.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor, FeatureInfo } from '@rlr/core';
import { calibrateBatchNorm } from './efficientnet/bn-calibration.js';
import { DEFAULT_OUT_INDICES, EfficientNetExtractor, efficientNetFeatureInfo } from './efficientnet/efficientnet.js';
import { randomEfficientNetWeights } from './efficientnet/efficientnet-random-init.js';
import { efficientNetArchitecture, EFFICIENTNET_NAMES, type EfficientNetName } from './efficientnet/efficientnet-variants.js';
import { mobileNetV1Definition, mobileNetV1Url } from './tfjs-model/mobilenet-v1.js';
import { fetchModelFiles, modelFilesIOHandler } from './tfjs-model/model-json-io.js';
import { TfjsModelBackbone, tfjsModelFeatureInfo, type TfjsModelDefinition } from './tfjs-model/tfjs-model-backbone.js';
import type { TensorMap } from './weights/checkpoint-tensors.js';
import { fetchBytes, isRemoteSource, type DownloadProgress } from './weight-source.js';

/** A registered backbone. */
export interface BackboneEntry {
  name: string;
  family: 'efficientnet' | 'tfjs-model';
  /** Where `createBackbone` gets weights when none are given. */
  defaultWeights: string;
  /** Number of selectable stages (valid `outIndices` are 0..stages-1). */
  stages: number;
  /** Stages returned when `outIndices` is not given. */
  defaultOutIndices: readonly number[];
  /** Tap definition (tfjs models only). */
  definition?: TfjsModelDefinition;
  description: string;
}

const registry = new Map<string, BackboneEntry>();

for (const name of EFFICIENTNET_NAMES) {
  registry.set(name, {
    name,
    family: 'efficientnet',
    defaultWeights: `hf://timm/${name}.aa_in1k/model.safetensors`,
    stages: efficientNetArchitecture(name).features.length,
    defaultOutIndices: DEFAULT_OUT_INDICES,
    description: `EfficientNet-${name.slice(-2).toUpperCase()} (timm ${name}, TF-ported ImageNet weights, SAME padding)`,
  });
}
for (const [name, alpha] of [
  ['mobilenet_v1_0.25', 0.25],
  ['mobilenet_v1_0.75', 0.75],
  ['mobilenet_v1', 1],
] as const) {
  const definition = mobileNetV1Definition(alpha);
  registry.set(name, {
    name,
    family: 'tfjs-model',
    defaultWeights: mobileNetV1Url(alpha),
    stages: definition.taps.length,
    defaultOutIndices: definition.defaultOutIndices ?? [],
    definition,
    description: `Keras MobileNetV1 (alpha ${alpha}, ImageNet), tfjs layers model tapped at ${definition.taps.join(', ')}`,
  });
}

/** All registered backbones. */
export function listBackbones(): BackboneEntry[] {
  return [...registry.values()];
}

/** Look up a backbone; the error lists the registered names. */
export function getBackboneEntry(name: string): BackboneEntry {
  const entry = registry.get(name);
  if (!entry) throw new Error(`unknown backbone "${name}"; registered: ${[...registry.keys()].join(', ')}`);
  return entry;
}

/**
 * Register a tfjs model (layers or graph) under a name, so that `createBackbone(name)` loads it.
 * @param defaultWeights URL or path of its `model.json`
 */
export function registerTfjsBackbone(
  name: string,
  definition: TfjsModelDefinition,
  defaultWeights: string,
  description = name,
): void {
  if (registry.get(name)?.family === 'efficientnet')
    throw new Error(`registerTfjsBackbone: "${name}" is a built-in EfficientNet name`);
  tfjsModelFeatureInfo(name, definition); // validates the definition
  registry.set(name, {
    name,
    family: 'tfjs-model',
    defaultWeights,
    stages: definition.taps.length,
    defaultOutIndices: definition.defaultOutIndices ?? definition.taps.map((_, i) => i),
    definition,
    description,
  });
}

/** Channels and strides of a backbone's stages (timm-like feature info), without loading weights. */
export function backboneFeatureInfo(name: string, outIndices?: readonly number[]): FeatureInfo {
  const entry = getBackboneEntry(name);
  if (entry.family === 'efficientnet') return efficientNetFeatureInfo(name, outIndices ?? entry.defaultOutIndices);
  return tfjsModelFeatureInfo(name, entry.definition!, outIndices ?? entry.defaultOutIndices);
}

/** How weight sources given as strings are read. The Node entry supplies a disk-cached reader. */
export interface SourceReader {
  /** The bytes of a weights file (safetensors) named by path, URL or `hf://` id. */
  bytes(source: string, onProgress?: (p: DownloadProgress) => void): Promise<Uint8Array>;
  /** An IOHandler for a tfjs `model.json` named by path or URL. */
  modelHandler(source: string, onProgress?: (p: DownloadProgress) => void): Promise<tf.io.IOHandler>;
}

/** The browser-safe reader: remote sources over `fetch`, no disk cache, no local paths. */
export const fetchSourceReader: SourceReader = {
  async bytes(source, onProgress) {
    if (!isRemoteSource(source)) throw localPathError(source);
    return fetchBytes(source, { onProgress });
  },
  async modelHandler(source) {
    if (!isRemoteSource(source)) throw localPathError(source);
    return modelFilesIOHandler(fetchModelFiles(source));
  },
};

function localPathError(source: string): Error {
  return new Error(
    `weights "${source}" look like a local path, which the browser-safe entry cannot read; ` +
      `in Node import createBackbone from '@rlr/backbones/node', or pass an https:// URL, an hf:// id or the bytes`,
  );
}

/** What `createBackbone` accepts as weights. */
export type BackboneWeights =
  /** `random` (EfficientNet: seeded timm init), a path (Node entry), an https:// URL or an `hf://` id. */
  | string
  /** safetensors bytes of a timm checkpoint (EfficientNet). */
  | Uint8Array
  /** a decoded timm checkpoint (EfficientNet). */
  | TensorMap
  /** a tfjs IOHandler that loads the model (tfjs models). */
  | tf.io.IOHandler;

/** Options of {@link createBackbone}. */
export interface CreateBackboneOptions {
  /** Default: the registry's published weights (`defaultWeights`). */
  weights?: BackboneWeights;
  /** Stages to return (stage i of EfficientNet has stride 2^(i+1)). Default: `[2, 3]`. */
  outIndices?: readonly number[];
  /** 3x3 smoothing of each level, zeros counted (SPEC section 3). Default `true`. */
  smooth?: boolean;
  /** Seed of `weights: 'random'` (default 0). */
  seed?: number;
  /**
   * With `weights: 'random'`: `[B, H, W, 3]` images in [0, 1] whose batch statistics become the
   * BatchNorm running statistics (see `calibrateBatchNorm`), for well-scaled random features.
   */
  calibrationImages?: tf.Tensor4D;
  /** Download progress. */
  onProgress?: (p: DownloadProgress) => void;
  /** How string sources are read (default: `fetch`, or the disk cache in the Node entry). */
  sources?: SourceReader;
}

function isIOHandler(w: unknown): w is tf.io.IOHandler {
  return typeof w === 'object' && w !== null && typeof (w as tf.io.IOHandler).load === 'function';
}

async function createEfficientNet(entry: BackboneEntry, options: CreateBackboneOptions): Promise<EfficientNetExtractor> {
  const name = entry.name as EfficientNetName;
  const outIndices = options.outIndices ?? entry.defaultOutIndices;
  const weights = options.weights ?? entry.defaultWeights;
  const common = { outIndices, smooth: options.smooth };
  if (weights === 'random') {
    efficientNetFeatureInfo(name, outIndices); // validates outIndices before any work
    const arch = efficientNetArchitecture(name);
    const blockCount = Math.max(...outIndices.map((i) => arch.features[i].blockCount));
    const seed = options.seed ?? 0;
    let tensors = randomEfficientNetWeights(name, { seed, blockCount, head: false });
    if (options.calibrationImages) {
      tensors = calibrateBatchNorm(name, tensors, options.calibrationImages, { blockCount }).weights;
    }
    return new EfficientNetExtractor(name, tensors, {
      ...common,
      weightsSource: 'random',
      configExtras: { seed, calibrationImageCount: options.calibrationImages?.shape[0] ?? 0 },
    });
  }
  if (options.calibrationImages) {
    throw new Error(
      `${name}: calibrationImages only applies to weights: 'random' (real checkpoints carry their own BatchNorm statistics)`,
    );
  }
  if (typeof weights === 'string') {
    const bytes = await (options.sources ?? fetchSourceReader).bytes(weights, options.onProgress);
    return new EfficientNetExtractor(name, bytes, { ...common, weightsSource: weights });
  }
  if (weights instanceof Uint8Array || weights instanceof Map) {
    return new EfficientNetExtractor(name, weights, common); // toConfig() says weights: null
  }
  throw new Error(`${name}: weights must be a path, URL, hf:// id, 'random', safetensors bytes or a decoded checkpoint`);
}

async function createTfjsModel(entry: BackboneEntry, options: CreateBackboneOptions): Promise<TfjsModelBackbone> {
  const weights = options.weights ?? entry.defaultWeights;
  const common = { outIndices: options.outIndices ?? entry.defaultOutIndices, smooth: options.smooth };
  if (weights === 'random' || options.calibrationImages) {
    throw new Error(
      `${entry.name}: random weights and calibration are only available for EfficientNet; pass the model.json location`,
    );
  }
  if (typeof weights === 'string') {
    const handler = await (options.sources ?? fetchSourceReader).modelHandler(weights, options.onProgress);
    return TfjsModelBackbone.load(entry.name, entry.definition!, handler, { ...common, weightsSource: weights });
  }
  if (isIOHandler(weights)) return TfjsModelBackbone.load(entry.name, entry.definition!, weights, common);
  throw new Error(`${entry.name}: weights must be the path or URL of a model.json, or a tfjs IOHandler`);
}

/**
 * Create a registered backbone as a feature extractor.
 * @example
 * const backbone = await createBackbone('tf_efficientnet_b6', {
 *   weights: 'hf://timm/tf_efficientnet_b6.aa_in1k/model.safetensors', outIndices: [2, 3] });
 * const [f8, f16] = backbone.extract(images); // [B, H/8, W/8, 72], [B, H/16, W/16, 200]
 */
export async function createBackbone(name: string, options: CreateBackboneOptions = {}): Promise<FeatureExtractor> {
  const entry = getBackboneEntry(name);
  return entry.family === 'efficientnet' ? createEfficientNet(entry, options) : createTfjsModel(entry, options);
}
