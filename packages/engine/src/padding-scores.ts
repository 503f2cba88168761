import { smoothedMaximum, SCORING_DEFAULTS } from '@rlr/core';
import { contentWindow, type TransformGeometry } from '@rlr/data';

/** A batch's image scores and `[B, H, W]` maps (the shape of `BatchScores`). */
export interface MapScores {
  scores: Float32Array;
  maps: Float32Array;
  height: number;
  width: number;
}

/**
 * `--resize-mode fit`: the letterbox padding is not image content, so it must not count as an
 * anomaly. For each image with padding, the map is set to 0 there, and the image score is the
 * usual rule (Gaussian blur, σ = 4, 'reflect' border, then the maximum) applied to the content
 * window of the map alone, so padding neither raises the score nor blurs into it. Images without
 * padding (and every image of `crop` and `stretch`) are left as they are. Changes `r` in place.
 * `Detector.scoreBatch` applies it to every decoded batch, so predictions, evaluation and the
 * post-processor's thresholds all leave the padding out.
 */
export function excludePadding<R extends MapScores>(r: R, geometries: readonly TransformGeometry[] | undefined): R {
  if (!geometries) return r;
  const { height: H, width: W } = r;
  geometries.forEach((g, i) => {
    const c = contentWindow(g);
    if (c.top === 0 && c.left === 0 && c.height === H && c.width === W) return;
    const map = r.maps.subarray(i * H * W, (i + 1) * H * W);
    const content = new Float32Array(c.height * c.width);
    for (let y = 0; y < c.height; y++) content.set(map.subarray((c.top + y) * W + c.left, (c.top + y) * W + c.left + c.width), y * c.width);
    r.scores[i] = smoothedMaximum(content, c.height, c.width, SCORING_DEFAULTS.sigma, SCORING_DEFAULTS.truncate);
    for (let y = 0; y < H; y++) {
      if (y < c.top || y >= c.top + c.height) map.fill(0, y * W, (y + 1) * W);
      else {
        map.fill(0, y * W, y * W + c.left);
        map.fill(0, y * W + c.left + c.width, (y + 1) * W);
      }
    }
  });
  return r;
}
