import * as tf from '@tensorflow/tfjs-core';
import type { GradientMap } from './gradients.js';
import { applyJitter, jitterNoise } from './jitter.js';
import type { RLRLevel } from './rlr-level.js';
import { tidy } from './tidy.js';
import type { BatchPart, StepPosition } from './trainer-pool.js';

/**
 * Loss and gradients of part of a training batch for one level: the clean features of images
 * `[part.first, part.first + part.images)` of a batch of `part.batchImages`, jittered with the
 * noise a pass over the whole batch draws for those images (the noise depends only on
 * (seed, epoch, batch, level), so a split batch sees exactly the serial run's noise).
 *
 * The loss is a mean over images, so a part's loss and gradients are weighted by
 * `images / batchImages`: summing the parts of a batch gives the batch's loss and gradients. The
 * whole batch (weight 1) is returned unscaled, bit-identical to an unsplit step.
 *
 * @param features clean features of the part's images, `[images, h, w, C]` row-major
 * @param levelIndex the level's index in the model (part of the noise seed)
 * @returns the weighted loss (a scalar) and gradients; the caller disposes both
 */
export function batchPartGradients(
  level: RLRLevel,
  levelIndex: number,
  features: Float32Array,
  part: BatchPart,
  at: StepPosition,
): { loss: tf.Scalar; grads: GradientMap } {
  const { channels: C } = level.config;
  const per = level.tokens * C;
  if (features.length !== part.images * per) {
    throw new Error(`batchPartGradients: level ${levelIndex} got ${features.length} values for ${part.images} images of ${per}`);
  }
  return tidy(() => {
    const rows = part.images * level.tokens;
    // [rows, C] clean target and its jittered copy. The noise stream is drawn from the batch's
    // first image on, so a later part generates (and skips) the values of the images before it.
    const target = tf.tensor2d(features, [rows, C]);
    const stream = jitterNoise((part.first + part.images) * per, at.seed, at.epoch, at.batch, levelIndex);
    const noise = tf.tensor2d(part.first === 0 ? stream : stream.subarray(part.first * per), [rows, C]);
    const input = applyJitter(target, noise, at.jitterScale);
    // Gradients are kept tensors: they survive this scope.
    const result = level.lossAndGradients(input, target, at.imagesPerPass);
    if (part.images === part.batchImages) return result;
    const w = part.images / part.batchImages;
    const grads: GradientMap = new Map();
    for (const [name, g] of result.grads) {
      grads.set(name, tf.keep(tf.mul(g, w)));
      g.dispose();
    }
    const loss = tf.mul(result.loss, w) as tf.Scalar;
    result.loss.dispose();
    return { loss, grads };
  });
}

/**
 * Contiguous near-equal parts of `n` images for `workers` workers (never an empty part; fewer
 * parts when the batch is smaller than the pool). The split depends only on `n` and `workers`,
 * so a run resumed with the same worker count repeats it exactly.
 */
export function splitBatch(n: number, workers: number): BatchPart[] {
  const parts: BatchPart[] = [];
  const k = Math.max(1, Math.min(n, workers));
  let first = 0;
  for (let w = 0; w < k; w++) {
    const images = Math.floor(n / k) + (w < n % k ? 1 : 0);
    parts.push({ first, images, batchImages: n });
    first += images;
  }
  return parts;
}
