/**
 * Parallel feature extraction with `@rlr/core/node`'s worker pool: the recipe that builds a copy
 * of an extractor in every worker.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FeatureExtractor } from '@rlr/core';
import type { ExtractorRecipe } from '@rlr/core/node';
import { exportBackboneWeights } from '../backbone-persistence.js';

/** The module a worker imports: the built file, or the TypeScript source when run from sources. */
function workerModule(): string {
  const js = new URL('./backbone-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return js.href;
  const ts = new URL('./backbone-worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(ts))) return ts.href;
  throw new Error(`@rlr/backbones/node: ${fileURLToPath(js)} is missing; rebuild @rlr/backbones (npm run build) or reinstall it`);
}

/**
 * The recipe of a copy of `extractor` for every worker of a pool: the weights it runs with
 * (pretrained, loaded from a file, or random with calibrated BatchNorm statistics) travel with
 * it, so the workers need no download, no file and no calibration images, and compute exactly
 * its features.
 * @example
 * const backbone = await createBackbone('tf_efficientnet_b6', { outIndices: [2, 3] });
 * const remote = await pool.createExtractor(await backboneRecipe(backbone));
 * await remote.extractFeatures(batches(train, { batchSize: 8, resize: 256, crop: 256 }), bank);
 * @throws for extractors not made by `@rlr/backbones`
 */
export async function backboneRecipe(extractor: FeatureExtractor): Promise<ExtractorRecipe> {
  return { module: workerModule(), exportName: 'backboneFromWeights', args: [extractor.toConfig(), await exportBackboneWeights(extractor)] };
}
