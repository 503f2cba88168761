/**
 * Scoring on worker threads: the workers run an exact copy of the backbone (and of an RLR
 * model); a nearest-neighbour model scores in this thread, on features the workers extract (its
 * bank is one large matrix product per level).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParallelPredictor, RemoteExtractor, WorkerPool } from '@rlr/core/node';
import { backboneRecipe } from '@rlr/backbones/node';
import type { ImageBatch } from '@rlr/data';
import type { BatchScores, Detector } from '../detector.js';
import { isKnn } from '../detector-model.js';

/** A detector's batches scored on a worker pool. */
export interface PooledScoring {
  scoreBatch(b: ImageBatch): Promise<BatchScores>;
  /** Release the copies in the workers (the pool stays open). */
  close(): Promise<void>;
}

/** Copy `detector`'s backbone (and RLR model) into the workers of `pool`. */
export async function poolScoring(detector: Detector, pool: WorkerPool): Promise<PooledScoring> {
  let extractor: RemoteExtractor | undefined;
  let predictor: ParallelPredictor | undefined;
  try {
    extractor = await pool.createExtractor(await backboneRecipe(detector.extractor));
    if (!isKnn(detector.model)) predictor = await pool.predictor(detector.model);
  } catch (e) {
    await extractor?.dispose().catch(() => undefined);
    throw e;
  }
  const remote = extractor;
  return {
    async scoreBatch(b) {
      if (predictor) {
        const p = await predictor.scoreImages(remote, b.images, b.height, b.width, { batchSize: b.samples.length });
        return { scores: p.scores, maps: p.maps, height: p.size[0], width: p.size[1] };
      }
      const maps = await remote.extract({ images: b.images, height: b.height, width: b.width });
      const features = maps.map((m) => tf.tensor4d(m.data, m.shape));
      try {
        return await detector.scoreFeatures(features);
      } finally {
        tf.dispose(features);
      }
    },
    async close() {
      await Promise.all([predictor?.close(), remote.dispose()]);
    },
  };
}
