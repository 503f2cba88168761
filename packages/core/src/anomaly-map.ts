/**
 * The pixel anomaly map (SPEC section 3): each level's [h, w] token-score grid is upsampled
 * bilinearly with align_corners = true to the crop size, and the levels are averaged.
 * Plain TypeScript on host arrays: the grids are small and this keeps every backend identical.
 */

/** Bilinear resize with align_corners = true: src [B, h, w] → [B, H, W] (row-major). */
export function upsampleBilinearAlignCorners(
  src: Float32Array,
  batch: number,
  h: number,
  w: number,
  H: number,
  W: number,
): Float32Array {
  if (src.length !== batch * h * w) {
    throw new Error(`upsampleBilinearAlignCorners: ${src.length} values do not form [${batch}, ${h}, ${w}]`);
  }
  const out = new Float32Array(batch * H * W);
  const sy = H > 1 ? (h - 1) / (H - 1) : 0;
  const sx = W > 1 ? (w - 1) / (W - 1) : 0;
  // Column taps are the same for every row: precompute them.
  const x0 = new Int32Array(W);
  const x1 = new Int32Array(W);
  const lx = new Float64Array(W);
  for (let x = 0; x < W; x++) {
    const fx = x * sx;
    x0[x] = Math.min(Math.floor(fx), w - 1);
    x1[x] = Math.min(x0[x] + 1, w - 1);
    lx[x] = fx - x0[x];
  }
  for (let b = 0; b < batch; b++) {
    const s = b * h * w;
    const o = b * H * W;
    for (let y = 0; y < H; y++) {
      const fy = y * sy;
      const y0 = Math.min(Math.floor(fy), h - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ly = fy - y0;
      const r0 = s + y0 * w;
      const r1 = s + y1 * w;
      for (let x = 0; x < W; x++) {
        const top = src[r0 + x0[x]] * (1 - lx[x]) + src[r0 + x1[x]] * lx[x];
        const bot = src[r1 + x0[x]] * (1 - lx[x]) + src[r1 + x1[x]] * lx[x];
        out[o + y * W + x] = top * (1 - ly) + bot * ly;
      }
    }
  }
  return out;
}

/** One level's token scores [B, h, w] (row-major) and its grid. */
export interface LevelScores {
  data: Float32Array;
  grid: [number, number];
}

/** Average of the levels' upsampled token scores: the anomaly map [B, H, W]. */
export function anomalyMap(levels: LevelScores[], batch: number, size: [number, number]): Float32Array {
  const [H, W] = size;
  const out = new Float32Array(batch * H * W);
  for (const lv of levels) {
    const up = upsampleBilinearAlignCorners(lv.data, batch, lv.grid[0], lv.grid[1], H, W);
    for (let i = 0; i < out.length; i++) out[i] += up[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= levels.length;
  return out;
}
