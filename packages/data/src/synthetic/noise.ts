/**
 * Stateless noise for the synthetic generator: an integer hash (per-pixel sensor noise, lattice
 * values) and smooth fractal value noise over a whole image. Everything is a pure function of its
 * seed, so images are reproducible bit for bit.
 */

/** A 32-bit hash of two integer coordinates and a seed, as an unsigned integer. */
export function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** {@link hash2} mapped to [0, 1). */
export function hashUnit(x: number, y: number, seed: number): number {
  return hash2(x, y, seed) / 4294967296;
}

/**
 * Fractal value noise sampled at every pixel of a `height x width` image: `octaves` layers of
 * smoothly interpolated lattice noise, the first with cells of `cellY x cellX` pixels, each next
 * layer with half the cell size and half the weight. Values lie in [0, 1] around 0.5.
 */
export function fbmField(height: number, width: number, cellY: number, cellX: number, octaves: number, seed: number): Float32Array {
  const out = new Float32Array(height * width);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const cy = Math.max(1, cellY / 2 ** o);
    const cx = Math.max(1, cellX / 2 ** o);
    addValueNoise(out, height, width, cy, cx, amp, seed + o * 7919);
    total += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** Adds one layer of value noise times `amp` to `out`. */
function addValueNoise(out: Float32Array, height: number, width: number, cellY: number, cellX: number, amp: number, seed: number): void {
  // A seeded sub-cell phase keeps lattice lines from lining up between images and octaves.
  const offY = hashUnit(1, 0, seed) * cellY;
  const offX = hashUnit(0, 1, seed) * cellX;
  const gx = Math.ceil((width + offX) / cellX) + 2;
  const gy = Math.ceil((height + offY) / cellY) + 2;
  const lattice = new Float32Array(gx * gy);
  for (let j = 0; j < gy; j++) for (let i = 0; i < gx; i++) lattice[j * gx + i] = hashUnit(i, j, seed);
  // Interpolation indices and smoothstep weights per column/row, computed once, not per pixel.
  const ix = new Int32Array(width);
  const wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const f = (x + offX) / cellX;
    ix[x] = Math.floor(f);
    const t = f - ix[x];
    wx[x] = t * t * (3 - 2 * t);
  }
  for (let y = 0; y < height; y++) {
    const f = (y + offY) / cellY;
    const iy = Math.floor(f);
    let t = f - iy;
    t = t * t * (3 - 2 * t);
    const r0 = iy * gx;
    const r1 = r0 + gx;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = ix[x];
      const w = wx[x];
      const a = lattice[r0 + i] + (lattice[r0 + i + 1] - lattice[r0 + i]) * w;
      const b = lattice[r1 + i] + (lattice[r1 + i + 1] - lattice[r1 + i]) * w;
      out[row + x] += amp * (a + (b - a) * t);
    }
  }
}
