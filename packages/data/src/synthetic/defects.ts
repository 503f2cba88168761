import type { Rng } from '@rlr/core/rng';
import type { DefectType } from './categories.js';
import { fbmField } from './noise.js';
import type { Scene } from './scene.js';

/**
 * Defect painters. Each first decides the defect's pixel set (the mask), restricted to where the
 * defect can exist, then changes only those pixels, so the mask is exact: it is the set of pixels
 * that differ from the defect-free image of the same seed. Sizes are relative to the shorter
 * image side `s`; at 256 px a scratch is about 3 px wide and 65-115 px long.
 */

type Point = [x: number, y: number];

/** Sets to 1 every pixel within `radius` of the polyline `points`. */
function strokePolyline(mask: Uint8Array, height: number, width: number, points: Point[], radius: number): void {
  for (let k = 0; k + 1 < points.length; k++) {
    const [x0, y0] = points[k];
    const [x1, y1] = points[k + 1];
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy || 1;
    const xa = Math.max(0, Math.floor(Math.min(x0, x1) - radius));
    const xb = Math.min(width - 1, Math.ceil(Math.max(x0, x1) + radius));
    const ya = Math.max(0, Math.floor(Math.min(y0, y1) - radius));
    const yb = Math.min(height - 1, Math.ceil(Math.max(y0, y1) + radius));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        // Distance from the pixel centre to the segment.
        const t = Math.max(0, Math.min(1, ((x + 0.5 - x0) * dx + (y + 0.5 - y0) * dy) / len2));
        const ex = x + 0.5 - (x0 + t * dx);
        const ey = y + 0.5 - (y0 + t * dy);
        if (ex * ex + ey * ey <= radius * radius) mask[y * width + x] = 1;
      }
    }
  }
}

/** Sets to 1 every pixel inside a star-shaped blob around (cx, cy) with boundary radius `r(angle)`. */
function fillBlob(mask: Uint8Array, height: number, width: number, cx: number, cy: number, maxR: number, r: (angle: number) => number): void {
  const ya = Math.max(0, Math.floor(cy - maxR));
  const yb = Math.min(height - 1, Math.ceil(cy + maxR));
  const xa = Math.max(0, Math.floor(cx - maxR));
  const xb = Math.min(width - 1, Math.ceil(cx + maxR));
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (Math.hypot(dx, dy) <= r(Math.atan2(dy, dx))) mask[y * width + x] = 1;
    }
  }
}

/** An irregular outline: a base radius modulated by a few random harmonics. */
function wobbly(rnd: Rng, base: number, amount: number): (angle: number) => number {
  const terms = [2, 3, 5].map((k) => ({ k, a: rnd.range(0, amount) / k ** 0.5, p: rnd.range(0, 2 * Math.PI) }));
  return (angle) => base * (1 + terms.reduce((sum, t) => sum + t.a * Math.sin(t.k * angle + t.p), 0));
}

/** A point of the support, chosen uniformly, at least `margin` pixels from the image border. */
function pickPoint(scene: Scene, rnd: Rng, margin: number): Point {
  const { height, width, support } = scene;
  for (let tries = 0; tries < 200; tries++) {
    const x = rnd.range(margin, width - margin);
    const y = rnd.range(margin, height - margin);
    if (support[Math.floor(y) * width + Math.floor(x)]) return [x, y];
  }
  return [width / 2, height / 2];
}

/** Blends the masked pixels towards `colour` by `amount` (per pixel via `amountAt`, optional). */
function tint(scene: Scene, mask: Uint8Array, colour: readonly number[], amount: number, amountAt?: (i: number) => number): void {
  const { albedo } = scene;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const a = amountAt ? amountAt(i) : amount;
    for (let c = 0; c < 3; c++) albedo[3 * i + c] += (colour[c] - albedo[3 * i + c]) * a;
  }
}

function restrict(mask: Uint8Array, keep: Uint8Array): void {
  for (let i = 0; i < mask.length; i++) mask[i] &= keep[i];
}

/** Draws the shape of one defect into `mask` (0/1) and paints it onto `scene.albedo`. */
export function paintDefect(type: DefectType, scene: Scene, rnd: Rng, seed: number, mask: Uint8Array): void {
  const { height, width } = scene;
  const s = Math.min(height, width);
  const margin = 0.08 * s;
  switch (type) {
    case 'scratch': {
      // A light, slightly curved line (quadratic Bezier).
      const [x0, y0] = pickPoint(scene, rnd, margin);
      const len = rnd.range(0.25, 0.45) * s;
      const dir = rnd.range(0, 2 * Math.PI);
      const bend = rnd.range(-0.25, 0.25) * len;
      const [x2, y2] = [x0 + Math.cos(dir) * len, y0 + Math.sin(dir) * len];
      const [x1, y1] = [(x0 + x2) / 2 - Math.sin(dir) * bend, (y0 + y2) / 2 + Math.cos(dir) * bend];
      const points: Point[] = [];
      for (let k = 0; k <= 24; k++) {
        const t = k / 24;
        points.push([(1 - t) ** 2 * x0 + 2 * (1 - t) * t * x1 + t * t * x2, (1 - t) ** 2 * y0 + 2 * (1 - t) * t * y1 + t * t * y2]);
      }
      strokePolyline(mask, height, width, points, rnd.range(0.005, 0.008) * s);
      restrict(mask, scene.support);
      tint(scene, mask, [0.97, 0.96, 0.92], 0.75);
      return;
    }
    case 'crack': {
      // A dark jagged random walk with one side branch.
      const start = pickPoint(scene, rnd, margin);
      const step = 0.03 * s;
      const walk = (from: Point, heading: number, steps: number) => {
        const pts: Point[] = [from];
        let [x, y] = from;
        for (let k = 0; k < steps; k++) {
          heading += rnd.range(-0.6, 0.6);
          x += Math.cos(heading) * step;
          y += Math.sin(heading) * step;
          pts.push([x, y]);
        }
        return pts;
      };
      const heading = rnd.range(0, 2 * Math.PI);
      const main = walk(start, heading, rnd.intIn(8, 13));
      const radius = rnd.range(0.004, 0.0065) * s;
      strokePolyline(mask, height, width, main, radius);
      const fork = main[rnd.intIn(2, main.length - 3)];
      strokePolyline(mask, height, width, walk(fork, heading + rnd.pick([-1, 1]) * rnd.range(0.6, 1.2), rnd.intIn(3, 6)), radius * 0.8);
      restrict(mask, scene.support);
      tint(scene, mask, [0.04, 0.035, 0.03], 0.8);
      return;
    }
    case 'spot': {
      // A dark brownish stain with an irregular outline, darker in the middle.
      const [cx, cy] = pickPoint(scene, rnd, margin);
      const base = rnd.range(0.03, 0.055) * s;
      fillBlob(mask, height, width, cx, cy, base * 1.6, wobbly(rnd, base, 0.25));
      restrict(mask, scene.support);
      tint(scene, mask, [0.12, 0.08, 0.05], 0, (i) => {
        const d = Math.hypot((i % width) + 0.5 - cx, Math.floor(i / width) + 0.5 - cy) / (base * 1.3);
        return 0.75 - 0.25 * Math.min(1, d);
      });
      return;
    }
    case 'hole': {
      // A round hole: nearly black inside, with a bright torn rim.
      const [cx, cy] = pickPoint(scene, rnd, margin);
      const r = rnd.range(0.03, 0.05) * s;
      fillBlob(mask, height, width, cx, cy, r, () => r);
      restrict(mask, scene.support);
      tint(scene, mask, [0.03, 0.03, 0.03], 0, (i) => {
        const d = Math.hypot((i % width) + 0.5 - cx, Math.floor(i / width) + 0.5 - cy);
        return d > r - 1.5 ? -0.4 : 0.93; // a negative amount pushes the rim away from black
      });
      return;
    }
    case 'contamination': {
      // Foreign matter: a lumpy blob of a colour that does not belong, with its own texture.
      const [cx, cy] = pickPoint(scene, rnd, margin);
      const base = rnd.range(0.045, 0.08) * s;
      fillBlob(mask, height, width, cx, cy, base * 1.8, wobbly(rnd, base, 0.45));
      restrict(mask, scene.support);
      const colour = rnd.pick([
        [0.25, 0.6, 0.2],
        [0.15, 0.3, 0.85],
        [0.85, 0.15, 0.1],
        [0.95, 0.85, 0.15],
      ]);
      const lumps = fbmField(height, width, 4, 4, 2, seed + 101);
      tint(scene, mask, colour, 0, (i) => 0.55 + 0.4 * lumps[i]);
      return;
    }
    case 'missing_piece': {
      if (scene.alpha && scene.background) {
        // A bite out of the part's outline: the background shows through.
        const { alpha, background, albedo } = scene;
        const edge: number[] = [];
        for (let i = 0; i < alpha.length; i++) if (alpha[i] > 0.2 && alpha[i] < 0.8) edge.push(i);
        const at = edge.length ? rnd.pick(edge) : Math.floor(alpha.length / 2);
        const r = rnd.range(0.07, 0.11) * s;
        fillBlob(mask, height, width, (at % width) + 0.5, Math.floor(at / width) + 0.5, r * 1.4, wobbly(rnd, r, 0.2));
        for (let i = 0; i < mask.length; i++) {
          if (!mask[i]) continue;
          if (alpha[i] === 0) mask[i] = 0;
          else for (let c = 0; c < 3; c++) albedo[3 * i + c] = background[3 * i + c];
        }
        return;
      }
      // A texture with a patch where the pattern is worn away to a flat, slightly darker colour.
      const [cx, cy] = pickPoint(scene, rnd, margin);
      const base = rnd.range(0.06, 0.09) * s;
      fillBlob(mask, height, width, cx, cy, base * 1.5, wobbly(rnd, base, 0.3));
      restrict(mask, scene.support);
      const mean = [0, 0, 0];
      let count = 0;
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        for (let c = 0; c < 3; c++) mean[c] += scene.albedo[3 * i + c];
        count++;
      }
      tint(scene, mask, mean.map((m) => (0.6 * m) / Math.max(1, count)), 0.92);
      return;
    }
  }
}
