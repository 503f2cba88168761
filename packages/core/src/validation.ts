import * as tf from '@tensorflow/tfjs-core';
import type { FeatureSource } from './feature-source.js';
import type { RLRModel } from './rlr-model.js';

/** Summary of image anomaly scores on the validation images. */
export interface ScoreSummary {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

/** What {@link validate} measures on held-out normal images. */
export interface ValidationReport {
  /**
   * Mean over levels of {@link losses}: the training loss on the clean (unjittered) validation
   * features, i.e. the mean token score (MSE + 1 − cos per token).
   */
  loss: number;
  /** Per model level, the mean token score over the validation images. */
  losses: number[];
  /** Distribution of the validation images' image scores (the maximum of the smoothed map). */
  scores: ScoreSummary;
  /** Validation images scored. */
  images: number;
  /** Wall time of the validation in seconds. */
  seconds: number;
}

/** The `q`-quantile (0…1) of sorted values, linear between neighbours (NumPy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Mean, median, 95th percentile and maximum of `values`. */
export function summarizeScores(values: ArrayLike<number>): ScoreSummary {
  const sorted = Float64Array.from(values).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { mean, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.length ? sorted[sorted.length - 1] : NaN };
}

/**
 * Score the validation images' cached features with `model` (no backbone pass, no gradients):
 * the validation loss per level and the distribution of image scores. Costs about one forward
 * pass per validation image, a small part of an epoch for a validation set a tenth of the
 * training set.
 * @param source features of the held-out normal images (never test images)
 */
export async function validate(model: RLRModel, source: FeatureSource, batchSize = 8): Promise<ValidationReport> {
  const t0 = performance.now();
  const sums = model.levels.map(() => 0);
  const scores = new Float32Array(source.size);
  for (let first = 0; first < source.size; first += batchSize) {
    const n = Math.min(batchSize, source.size - first);
    const data = await source.read(Array.from({ length: n }, (_, k) => first + k));
    const maps = data.map((d, i) => {
      const [h, w] = model.levels[i].config.grid;
      return tf.tensor4d(d, [n, h, w, model.levels[i].config.channels]);
    });
    try {
      const p = await model.predict(maps, { batchSize });
      scores.set(p.scores, first);
      p.tokenScores.forEach((t, i) => {
        let s = 0;
        for (let j = 0; j < t.length; j++) s += t[j];
        sums[i] += s / model.levels[i].tokens;
      });
    } finally {
      tf.dispose(maps);
    }
  }
  const losses = sums.map((s) => s / source.size);
  return {
    loss: losses.reduce((a, b) => a + b, 0) / losses.length,
    losses,
    scores: summarizeScores(scores),
    images: source.size,
    seconds: (performance.now() - t0) / 1000,
  };
}
