import { anomalyMap, type LevelScores } from './anomaly-map.js';
import { countNonFinite, firstNonFinite } from './finite-check.js';
import { gaussianBlur, mapMaxima } from './gaussian-blur.js';

/** Scoring settings (SPEC section 3 defaults). */
export interface ScoringOptions {
  /** σ of the Gaussian applied before taking the image score (4). */
  sigma: number;
  /** SciPy `truncate` (4: radius 16 at σ = 4). */
  truncate: number;
}

export const SCORING_DEFAULTS: ScoringOptions = { sigma: 4, truncate: 4 };

/** Scores of a batch of images. All arrays are row-major host arrays. */
export interface Prediction {
  /** Images in the batch. */
  batch: number;
  /** Map size [H, W] (the crop size). */
  size: [number, number];
  /** Image anomaly scores [B]: the maximum of the smoothed map. */
  scores: Float32Array;
  /** Pixel anomaly map [B, H, W]: the level average of the upsampled token scores (pixel metrics use it). */
  maps: Float32Array;
  /** The maps after the Gaussian blur [B, H, W]. */
  smoothedMaps: Float32Array;
  /** Token scores per level, [B, h, w] each. */
  tokenScores: Float32Array[];
}

/**
 * Throw when an image's token scores hold a NaN or an infinity. Such a score compares false with
 * every threshold, so it would read as "normal"; it is always an error instead. NaN comes from
 * non-finite model or backbone weights (or features), never from a valid image.
 */
export function assertFiniteScores(levels: LevelScores[], batch: number): void {
  for (const [li, l] of levels.entries()) {
    const at = firstNonFinite(l.data);
    if (at < 0) continue;
    const perImage = l.data.length / batch;
    const image = Math.floor(at / perImage);
    const bad = countNonFinite(l.data.subarray(image * perImage, (image + 1) * perImage));
    throw new Error(
      `non-finite anomaly score: image ${image} of the batch has ${bad} of ${perImage} token scores at level ${li} equal to NaN or Infinity ` +
        `(first: ${l.data[at]}); the model's or the backbone's weights hold NaN/Infinity, or its features do. ` +
        'No score is reported rather than a wrong one: restore or retrain the model and check the backbone weights.',
    );
  }
}

/**
 * Turn per-level token scores into maps and image scores.
 * @throws when a token score is NaN or infinite (see `assertFiniteScores`)
 */
export function scoreFromTokens(
  levels: LevelScores[],
  batch: number,
  size: [number, number],
  options: Partial<ScoringOptions> = {},
): Prediction {
  const { sigma, truncate } = { ...SCORING_DEFAULTS, ...options };
  const [H, W] = size;
  assertFiniteScores(levels, batch);
  const maps = anomalyMap(levels, batch, size);
  const smoothedMaps = gaussianBlur(maps, batch, H, W, sigma, truncate);
  return {
    batch,
    size: [H, W],
    scores: mapMaxima(smoothedMaps, batch, H, W),
    maps,
    smoothedMaps,
    tokenScores: levels.map((l) => l.data),
  };
}
