/**
 * The worker-thread side of `backboneRecipe`: rebuilds a backbone from the weights it runs with
 * (as `exportBackboneWeights` wrote them) inside a worker of an `@rlr/core/node` pool. Built as
 * its own file (`dist/node/backbone-worker.js`) so a worker imports only this.
 */
import { memoryStore, type FeatureExtractor } from '@rlr/core';
import { BACKBONE_WEIGHTS, loadBackboneFromStore } from '../backbone-persistence.js';

/**
 * An extractor identical to the one `config` and `weights` came from (its `toConfig()` equals
 * `config`; features are equal on the same backend).
 * @param config the extractor's `toConfig()`
 * @param weights its `exportBackboneWeights` bytes
 */
export async function backboneFromWeights(config: Record<string, unknown>, weights: Uint8Array): Promise<FeatureExtractor> {
  const store = memoryStore('worker backbone');
  await store.write(BACKBONE_WEIGHTS, weights);
  return loadBackboneFromStore(store, config);
}
