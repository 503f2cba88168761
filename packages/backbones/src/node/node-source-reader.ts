/**
 * The Node {@link SourceReader}: local paths are read from disk, remote sources go through the
 * download cache (tfjs models: `model.json` and every shard it lists).
 */
import { readFile } from 'node:fs/promises';
import type { SourceReader } from '../registry.js';
import { isRemoteSource, resolveSourceUrl } from '../weight-source.js';
import { fileModelHandler } from './file-model-io.js';
import { ensureCached, readWeightsFile, type CacheOptions } from './weight-cache.js';

/** A source reader backed by the disk cache. `options` apply to every download. */
export function nodeSourceReader(options: CacheOptions = {}): SourceReader {
  return {
    bytes: (source, onProgress) => readWeightsFile(source, { ...options, onProgress: onProgress ?? options.onProgress }),
    async modelHandler(source, onProgress) {
      if (!isRemoteSource(source)) return fileModelHandler(source);
      const opts = { ...options, onProgress: onProgress ?? options.onProgress, sha256: undefined, size: undefined };
      const jsonPath = await ensureCached(source, opts);
      const manifest =
        (JSON.parse(await readFile(jsonPath, 'utf8')) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
      const base = resolveSourceUrl(source);
      for (const group of manifest) {
        for (const p of group.paths) await ensureCached(new URL(p, base).toString(), opts);
      }
      // Shards are cached beside model.json (the cache mirrors URL paths), so the file handler finds them.
      return fileModelHandler(jsonPath);
    },
  };
}
