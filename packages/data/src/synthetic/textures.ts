import type { Rng } from '@rlr/core/rng';
import { fbmField } from './noise.js';
import { jitterColour, putRgb, type Scene } from './scene.js';

/**
 * Texture categories: a pattern filling the whole image, with a small random rotation, phase and
 * scale per image (pose jitter) and low-frequency colour unevenness.
 */

interface Frame {
  cos: number;
  sin: number;
  cx: number;
  cy: number;
  du: number;
  dv: number;
}

/** A slightly rotated and shifted pattern frame: pattern coordinates (u, v) of pixel (x, y). */
function frame(rnd: Rng, height: number, width: number, maxDegrees: number, shift: number): Frame {
  const a = (rnd.range(-maxDegrees, maxDegrees) * Math.PI) / 180;
  return { cos: Math.cos(a), sin: Math.sin(a), cx: width / 2, cy: height / 2, du: rnd.range(0, shift), dv: rnd.range(0, shift) };
}

function fullSupport(height: number, width: number): Uint8Array {
  return new Uint8Array(height * width).fill(1);
}

/** Woven fabric: alternating over/under threads with fibre streaks. */
export function weave(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const period = (s / 20) * rnd.range(0.95, 1.05);
  const f = frame(rnd, height, width, 4, period * 2);
  const colour = jitterColour(rnd, [0.8, 0.71, 0.55]);
  const uneven = fbmField(height, width, s / 3, s / 3, 2, seed + 1);
  const fibre = fbmField(height, width, 2, 2, 1, seed + 2);
  const albedo = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const px = x - f.cx;
      const py = y - f.cy;
      const u = (f.cos * px + f.sin * py) / period + f.du;
      const v = (-f.sin * px + f.cos * py) / period + f.dv;
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      // Threads alternate every cell: horizontal on top where (iu + iv) is even, vertical otherwise.
      const across = (iu + iv) % 2 === 0 ? v - iv : u - iu;
      const profile = Math.sin(Math.PI * across);
      const value = 0.3 + 0.62 * Math.sqrt(profile) * (0.88 + 0.24 * fibre[i]) + 0.2 * (uneven[i] - 0.5);
      putRgb(albedo, i, colour[0], colour[1], colour[2], value);
    }
  }
  return { height, width, albedo, support: fullSupport(height, width), lighting: 1 };
}

/** Metal mesh: a textured plate crossed by darker bars with a bright edge. */
export function grid(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const period = (s / 10) * rnd.range(0.96, 1.04);
  const bar = period * 0.22;
  const f = frame(rnd, height, width, 3, period);
  const tone = rnd.range(0.5, 0.58);
  const grain = fbmField(height, width, s / 8, s / 8, 3, seed + 1);
  const albedo = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const px = x - f.cx;
      const py = y - f.cy;
      const u = (f.cos * px + f.sin * py) / period + f.du;
      const v = (-f.sin * px + f.cos * py) / period + f.dv;
      // Distance in pixels to the nearest bar centre line.
      const d = Math.min(Math.abs(u - Math.round(u)), Math.abs(v - Math.round(v))) * period;
      let value = tone + 0.25 * (grain[i] - 0.5);
      if (d < bar) value = 0.2 + 0.35 * Math.pow(Math.cos((Math.PI / 2) * (d / bar)), 4);
      putRgb(albedo, i, 1, 1, 1.02, value);
    }
  }
  return { height, width, albedo, support: fullSupport(height, width), lighting: 1 };
}

/** Leather-like clouds: two colours blended by fractal noise, with fine grain. */
export function cloudy(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const dark = jitterColour(rnd, [0.48, 0.27, 0.2]);
  const light = jitterColour(rnd, [0.74, 0.5, 0.36]);
  const clouds = fbmField(height, width, s / 5, s / 5, 4, seed + 1);
  const grain = fbmField(height, width, 3, 3, 1, seed + 2);
  const albedo = new Float32Array(height * width * 3);
  for (let i = 0; i < height * width; i++) {
    const t = Math.min(1, Math.max(0, (clouds[i] - 0.5) * 3.2 + 0.5));
    const g = 0.9 + 0.2 * grain[i];
    putRgb(albedo, i, dark[0] + (light[0] - dark[0]) * t, dark[1] + (light[1] - dark[1]) * t, dark[2] + (light[2] - dark[2]) * t, g);
  }
  return { height, width, albedo, support: fullSupport(height, width), lighting: 1 };
}

/** Wood: wavy dark grain lines running roughly vertically, with fine streaks. */
export function wood(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const period = (s / 9) * rnd.range(0.9, 1.1);
  const f = frame(rnd, height, width, 4, 1);
  const light = jitterColour(rnd, [0.8, 0.6, 0.38]);
  const dark = jitterColour(rnd, [0.45, 0.27, 0.14]);
  const warp = fbmField(height, width, s / 1.5, s / 6, 2, seed + 1);
  const streak = fbmField(height, width, s / 4, 1.5, 1, seed + 2);
  const albedo = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const u = (f.cos * (x - f.cx) + f.sin * (y - f.cy)) / period + f.du + 2.2 * warp[i];
      const ring = 0.5 + 0.5 * Math.sin(2 * Math.PI * u);
      const t = ring * ring * ring * 0.8 + 0.25 * (streak[i] - 0.5);
      putRgb(albedo, i, light[0] + (dark[0] - light[0]) * t, light[1] + (dark[1] - light[1]) * t, light[2] + (dark[2] - light[2]) * t, 1);
    }
  }
  return { height, width, albedo, support: fullSupport(height, width), lighting: 1 };
}

