/**
 * A tfjs `IOHandler` for a `model.json` and its weight shards, over any byte source: `fetch` here
 * (browser-safe), the file system in `@rlr/backbones/node`. tfjs's own `file://` loader needs
 * tfjs-node, which this project does not require.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Reads the pieces of a tfjs model: `model.json` and shard files relative to it. */
export interface ModelFiles {
  /** Where the model lives, for error messages. */
  readonly location: string;
  readModelJson(): Promise<string>;
  /** @param relativePath a shard path as written in the weights manifest */
  readShard(relativePath: string): Promise<ArrayBuffer>;
}

/** An `IOHandler` (load only) over {@link ModelFiles}. */
export function modelFilesIOHandler(files: ModelFiles): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await files.readModelJson()) as tf.io.ModelJSON;
      } catch (e) {
        throw new Error(
          `${files.location}: could not read model.json (${(e as Error).message}); pass the path or URL of a tfjs model.json`,
        );
      }
      if (!json.modelTopology)
        throw new Error(`${files.location}: model.json has no modelTopology; is it a tfjs layers or graph model?`);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const shards = await Promise.all(
          manifest.flatMap((group) =>
            group.paths.map(async (p) => {
              try {
                return await files.readShard(p);
              } catch (e) {
                throw new Error(
                  `${files.location}: weight shard "${p}" listed in model.json could not be read (${(e as Error).message})`,
                );
              }
            }),
          ),
        );
        return [specs, shards];
      });
    },
  };
}

/** The directory part of a URL or path, with a trailing slash. */
export function baseOf(location: string): string {
  const cut = location.lastIndexOf('/');
  return cut < 0 ? '' : location.slice(0, cut + 1);
}

/**
 * Model files over HTTP(S) (or any URL `fetch` understands); shards resolve relative to the URL
 * of `model.json`.
 */
export function fetchModelFiles(modelJsonUrl: string, fetchImpl: typeof fetch = globalThis.fetch): ModelFiles {
  const get = async (url: string) => {
    const res = await fetchImpl(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
    return res;
  };
  return {
    location: modelJsonUrl,
    readModelJson: async () => (await get(modelJsonUrl)).text(),
    readShard: async (p) => (await get(new URL(p, modelJsonUrl).toString())).arrayBuffer(),
  };
}
