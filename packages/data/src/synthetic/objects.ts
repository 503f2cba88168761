import type { Rng } from '@rlr/core/rng';
import { fbmField, hashUnit } from './noise.js';
import { jitterColour, putRgb, type Scene } from './scene.js';

/**
 * Object categories: one part on a plain background, with a small random shift and rotation
 * (pose jitter). Parts are drawn from signed distances, so edges are anti-aliased and the
 * coverage (`alpha`) is known exactly, which the "missing piece" defect needs.
 */

/** Coverage of a pixel by a shape whose signed distance (negative inside) is `d` pixels. */
function coverage(d: number): number {
  return d <= -0.5 ? 1 : d >= 0.5 ? 0 : 0.5 - d;
}

function box(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = Math.max(x0 - px, px - x1);
  const dy = Math.max(y0 - py, py - y1);
  return dx > 0 && dy > 0 ? Math.hypot(dx, dy) : Math.max(dx, dy);
}

function compose(scene: Omit<Scene, 'albedo' | 'support'>, fg: Float32Array): Scene {
  const { height, width, alpha, background } = scene as Required<Pick<Scene, 'alpha' | 'background'>> & Scene;
  const albedo = new Float32Array(height * width * 3);
  const support = new Uint8Array(height * width);
  for (let i = 0; i < height * width; i++) {
    const a = alpha[i];
    for (let c = 0; c < 3; c++) albedo[3 * i + c] = background[3 * i + c] * (1 - a) + fg[3 * i + c] * a;
    support[i] = a >= 0.999 ? 1 : 0;
  }
  return { ...scene, albedo, support };
}

/** A turned metal washer: brushed rings, a groove, a bevelled rim and a centre hole. */
export function disc(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const cx = width / 2 + rnd.range(-0.03, 0.03) * s;
  const cy = height / 2 + rnd.range(-0.03, 0.03) * s;
  const radius = 0.34 * s * rnd.range(0.98, 1.02);
  const hole = 0.12 * s;
  const light = rnd.range(-0.3, 0.3) - Math.PI / 4; // direction of the specular highlight
  const metal = jitterColour(rnd, [0.78, 0.78, 0.8], 0.02);
  const floor = fbmField(height, width, s / 4, s / 4, 3, seed + 1);
  const n = height * width;
  const alpha = new Float32Array(n);
  const background = new Float32Array(n * 3);
  const fg = new Float32Array(n * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      putRgb(background, i, 0.16, 0.16, 0.18, 0.8 + 0.4 * floor[i]);
      const r = Math.hypot(x - cx, y - cy);
      alpha[i] = coverage(r - radius) * (1 - coverage(r - hole));
      if (alpha[i] === 0) continue;
      const rel = r / radius;
      const theta = Math.atan2(y - cy, x - cx);
      // Brushed rings: a random shade per thin annulus; a highlight along one direction.
      let v = 0.62 + 0.1 * Math.cos(2 * (theta - light)) - 0.08 * rel * rel + 0.05 * (hashUnit(Math.floor(r * 1.7), 0, seed) - 0.5);
      if (Math.abs(rel - 0.6) < 0.018) v *= 0.55; // machined groove
      if (rel > 0.9) v *= 0.78 + 0.35 * Math.cos(theta - light) * ((rel - 0.9) / 0.1); // bevelled rim
      if (r < hole + 0.035 * s) v *= 0.85; // inner chamfer
      putRgb(fg, i, metal[0], metal[1], metal[2], v);
    }
  }
  return compose({ height, width, alpha, background, lighting: 1 }, fg);
}

/** A painted L-shaped bracket with two mounting holes, casting a soft shadow on a light table. */
export function bracket(height: number, width: number, rnd: Rng, seed: number): Scene {
  const s = Math.min(height, width);
  const cx = width / 2 + rnd.range(-0.03, 0.03) * s;
  const cy = height / 2 + rnd.range(-0.03, 0.03) * s;
  const a = (rnd.range(-5, 5) * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const arm = 0.36 * s;
  const thick = 0.2 * s;
  const holeR = 0.05 * s;
  // Two mounting holes, one in each arm: (h1, c) and (c, h1) in the part's frame.
  const h1 = 0.2 * s;
  const c = -arm + thick / 2;
  const paint = jitterColour(rnd, [0.36, 0.47, 0.66]);
  const table = fbmField(height, width, s / 3, s / 3, 3, seed + 1);
  const speckle = fbmField(height, width, 2, 2, 1, seed + 2);
  const n = height * width;
  const alpha = new Float32Array(n);
  const background = new Float32Array(n * 3);
  const fg = new Float32Array(n * 3);
  // Signed distance to the bracket outline, in the part's own (rotated) frame (u, v).
  const sdf = (u: number, v: number) => {
    const d = Math.min(box(u, v, -arm, -arm, arm, -arm + thick), box(u, v, -arm, -arm, -arm + thick, arm));
    return Math.max(d, holeR - Math.hypot(u - h1, v - c), holeR - Math.hypot(u - c, v - h1));
  };
  const shadow = 0.025 * s;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const u = cos * (x - cx) + sin * (y - cy);
      const v = -sin * (x - cx) + cos * (y - cy);
      const su = cos * (x - shadow - cx) + sin * (y - shadow - cy);
      const sv = -sin * (x - shadow - cx) + cos * (y - shadow - cy);
      const shade = 1 - 0.3 * coverage(sdf(su, sv) / 3);
      putRgb(background, i, 0.8, 0.79, 0.76, (0.92 + 0.16 * table[i]) * shade);
      const d = sdf(u, v);
      alpha[i] = coverage(d);
      if (alpha[i] === 0) continue;
      // Painted metal: a gentle gradient, a bright bevel within 3 px of every edge, fine speckle.
      let value = 0.85 + 0.1 * ((u + v) / (2 * arm)) + 0.08 * (speckle[i] - 0.5);
      if (d > -3) value *= 1.25;
      putRgb(fg, i, paint[0], paint[1], paint[2], value);
    }
  }
  return compose({ height, width, alpha, background, lighting: 0.8 }, fg);
}
