/**
 * `@rlr/backbones/node`: everything from the main entry, plus the Node-only parts: the weight
 * download cache, reading tfjs models from disk, and a `createBackbone` that accepts local paths
 * and caches downloads.
 */
import type { BlobStore, FeatureExtractor } from '@rlr/core';
import {
  loadBackboneFromStore as loadBackboneFromStoreWith,
  type LoadBackboneOptions,
  type SavedBackboneConfig,
} from '../backbone-persistence.js';
import { createBackbone as createBackboneWith, type CreateBackboneOptions } from '../registry.js';
import { nodeSourceReader } from './node-source-reader.js';
import type { CacheOptions } from './weight-cache.js';

export * from '../index.js';
export { fileModelFiles, fileModelHandler } from './file-model-io.js';
export { nodeSourceReader } from './node-source-reader.js';
export { backboneRecipe } from './backbone-recipe.js';
export { backboneFromWeights } from './backbone-worker.js';
export { formatFromName, weightFileProblem, type WeightFormat } from './weight-file-check.js';
export {
  cachePathFor,
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  defaultCacheDir,
  DownloadAbortedError,
  ensureCached,
  offlineFromEnv,
  readWeightsFile,
  sha256File,
  type CacheOptions,
} from './weight-cache.js';

/** Options of the Node `createBackbone`: the main options plus the cache settings. */
export interface NodeCreateBackboneOptions extends CreateBackboneOptions {
  /** Cache directory, offline mode, expected checksum/size, retries (see {@link CacheOptions}). */
  cache?: Omit<CacheOptions, 'onProgress'>;
}

/**
 * `createBackbone` for Node: `weights` may also be a local path (safetensors file, or a tfjs
 * `model.json` / its directory); remote weights are downloaded once into the cache
 * (`RLR_CACHE`), and `RLR_OFFLINE=1` forbids the network.
 * @example
 * const backbone = await createBackbone('tf_efficientnet_b6', { outIndices: [2, 3] });
 */
export function createBackbone(name: string, options: NodeCreateBackboneOptions = {}): Promise<FeatureExtractor> {
  const { cache, ...rest } = options;
  return createBackboneWith(name, { ...rest, sources: rest.sources ?? nodeSourceReader(cache) });
}

/** Options of the Node `loadBackboneFromStore`: the main options plus the cache settings. */
export interface NodeLoadBackboneOptions extends LoadBackboneOptions {
  /** Cache directory, offline mode, retries for a remote weights source (see {@link CacheOptions}). */
  cache?: Omit<CacheOptions, 'onProgress'>;
}

/**
 * `loadBackboneFromStore` for Node: a weights source in the config may also be a local path, and
 * remote sources are downloaded once into the cache (`RLR_CACHE`; `RLR_OFFLINE=1` forbids the
 * network).
 * @example
 * const store = fileStore('runs/parts/model');
 * const model = await loadModel(store);
 * const backbone = await loadBackboneFromStore(store, model.metadata.backbone as Record<string, unknown>);
 */
export function loadBackboneFromStore(
  store: BlobStore,
  config?: SavedBackboneConfig | Record<string, unknown>,
  options: NodeLoadBackboneOptions = {},
): Promise<FeatureExtractor> {
  const { cache, ...rest } = options;
  return loadBackboneFromStoreWith(store, config, { ...rest, sources: rest.sources ?? nodeSourceReader(cache) });
}
