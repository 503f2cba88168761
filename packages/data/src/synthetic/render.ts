import { DataError } from '../errors.js';
import { deriveSeed, Rng } from '@rlr/core/rng';
import { DEFECT_TYPES, isDefectType, isSyntheticCategory, SYNTHETIC_CATEGORIES, type DefectType, type SyntheticCategory } from './categories.js';
import { paintDefect } from './defects.js';
import { hash2 } from './noise.js';
import { bracket, disc } from './objects.js';
import type { SceneRenderer } from './scene.js';
import { cloudy, grid, weave, wood } from './textures.js';

const RENDERERS: Record<SyntheticCategory, SceneRenderer> = { weave, grid, cloudy, wood, disc, bracket };

/** What to draw: one image of a category, optionally with one defect. */
export interface SyntheticImageOptions {
  height: number;
  width: number;
  /** Everything random about the image (pose, colours, lighting, noise, defect) follows from it. */
  seed: number;
  /** Draw this defect; omit for a normal image. */
  defect?: DefectType;
}

/** A rendered synthetic image. */
export interface SyntheticImage {
  /** `[H, W, 3]` 8-bit RGB. */
  rgb: Uint8Array;
  /** `[H, W]` 0/1: exactly the pixels the defect changed (absent for normal images). */
  mask?: Uint8Array;
  height: number;
  width: number;
}

/** Smallest defect, as a fraction of the image, so every defect is visible. */
const MIN_DEFECT_AREA = 0.0015;

/**
 * Renders one synthetic image. Deterministic: the same category, size, seed and defect give the
 * same bytes. The normal image of a seed is the defective image of that seed with the defect
 * removed (same pose, lighting and noise), which is what makes the masks exact.
 *
 * Variation between images: pose (small shift/rotation, pattern phase and scale), colour, a
 * global gain and linear light gradient, and sensor noise (σ ≈ 3/255).
 */
export function renderSynthetic(category: string, options: SyntheticImageOptions): SyntheticImage {
  if (!isSyntheticCategory(category)) {
    throw new DataError('invalid-option', `category "${category}"`, 'is not a synthetic category', `Use one of ${SYNTHETIC_CATEGORIES.join(', ')}.`);
  }
  const { height, width, seed, defect } = options;
  if (defect !== undefined && !isDefectType(defect)) {
    throw new DataError('invalid-option', `defect "${String(defect)}"`, 'is not a synthetic defect type', `Use one of ${DEFECT_TYPES.join(', ')}.`);
  }
  for (const [v, name] of [
    [height, 'height'],
    [width, 'width'],
  ] as const) {
    if (!Number.isInteger(v) || v < 32) throw new DataError('invalid-option', name, `must be an integer >= 32, got ${v}`, 'Pass a larger image size.');
  }
  // Independent streams for the scene, the lighting and the defect: adding a defect changes nothing else.
  const scene = RENDERERS[category](height, width, new Rng(deriveSeed(seed, 'scene')), deriveSeed(seed, 'scene-noise'));
  let mask: Uint8Array | undefined;
  if (defect) {
    const base = scene.albedo.slice();
    for (let attempt = 0; ; attempt++) {
      mask = new Uint8Array(height * width);
      paintDefect(defect, scene, new Rng(deriveSeed(seed, 'defect', attempt)), deriveSeed(seed, 'defect-noise', attempt), mask);
      let area = 0;
      for (let i = 0; i < mask.length; i++) area += mask[i];
      if (area >= MIN_DEFECT_AREA * height * width || attempt >= 20) break;
      scene.albedo.set(base); // too small (e.g. clipped by the part's outline): try another placement
    }
  }

  const light = new Rng(deriveSeed(seed, 'light'));
  const gain = 1 + light.range(-0.08, 0.08) * scene.lighting;
  const gx = light.range(-0.12, 0.12) * scene.lighting;
  const gy = light.range(-0.12, 0.12) * scene.lighting;
  const rgb = expose(scene.albedo, height, width, gain, gx, gy, deriveSeed(seed, 'sensor'));
  return { rgb, height, width, ...(mask ? { mask } : {}) };
}

/**
 * The camera: a global gain with a linear gradient, sensor noise, 8-bit quantisation.
 * A separate small function so V8 optimises the per-pixel loop on its own.
 */
function expose(albedo: Float32Array, height: number, width: number, gain: number, gx: number, gy: number, noiseSeed: number): Uint8Array {
  // A clamped array rounds and clamps on store, much faster than Math.round plus range checks.
  const rgb = new Uint8ClampedArray(height * width * 3);
  for (let y = 0; y < height; y++) {
    const rowGain = gain * (1 + gy * (y / height - 0.5));
    for (let x = 0; x < width; x++) {
      const g = (rowGain + gain * gx * (x / width - 0.5)) * 255;
      // Sensor noise: a triangular distribution from the two halves of one hash (σ ≈ 3/255).
      const h = hash2(x, y, noiseSeed);
      const noise = (((h & 0xffff) + (h >>> 16)) / 65536 - 1) * (0.018 * 255);
      const o = 3 * (y * width + x);
      rgb[o] = albedo[o] * g + noise;
      rgb[o + 1] = albedo[o + 1] * g + noise;
      rgb[o + 2] = albedo[o + 2] * g + noise;
    }
  }
  return new Uint8Array(rgb.buffer);
}
