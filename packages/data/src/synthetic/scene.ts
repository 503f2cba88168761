import type { Rng } from '@rlr/core/rng';

/**
 * A defect-free synthetic image before lighting and sensor noise, plus what the defect painter
 * needs to know about it.
 */
export interface Scene {
  height: number;
  width: number;
  /** `[H, W, 3]` surface colour in [0, 1]. */
  albedo: Float32Array;
  /** `[H, W]` 1 where a surface defect may appear (the part, or the whole texture). */
  support: Uint8Array;
  /** Objects only: `[H, W]` coverage of the part in [0, 1] (anti-aliased edge). */
  alpha?: Float32Array;
  /** Objects only: `[H, W, 3]` what shows where the part is not. */
  background?: Float32Array;
  /** Relative strength of the lighting variation for this category. */
  lighting: number;
}

/** Draws a scene of one category. `seed` feeds the stateless noise, `rnd` the pose and colours. */
export type SceneRenderer = (height: number, width: number, rnd: Rng, seed: number) => Scene;

/** Writes `[r, g, b] * v` at pixel `i` of an `[H, W, 3]` array. */
export function putRgb(out: Float32Array, i: number, r: number, g: number, b: number, v: number): void {
  out[3 * i] = r * v;
  out[3 * i + 1] = g * v;
  out[3 * i + 2] = b * v;
}

/** A colour jittered by a few percent per channel, so no two images share the exact hue. */
export function jitterColour(rnd: Rng, [r, g, b]: readonly [number, number, number], amount = 0.03): [number, number, number] {
  return [r * (1 + rnd.range(-amount, amount)), g * (1 + rnd.range(-amount, amount)), b * (1 + rnd.range(-amount, amount))];
}
