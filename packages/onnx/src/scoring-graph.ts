/**
 * Token scores → pixel map → image score as ONNX nodes (SPEC section 3). The bilinear
 * align-corners upsampling and SciPy's reflect-border Gaussian blur are linear and separable, so
 * each is a pair of constant matrices: `A_y · S · A_xᵀ`.
 */
import { gaussianKernel1D, reflectIndex } from '@rlr/core/internal';
import type { GraphBuilder } from './graph-builder.js';

/** `[out, in]` weights of a 1-D bilinear resize with align_corners = true. */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const s = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  for (let o = 0; o < outSize; o++) {
    const f = o * s;
    const i0 = Math.min(Math.floor(f), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const t = f - i0;
    m[o * inSize + i0] += 1 - t;
    m[o * inSize + i1] += t;
  }
  return m;
}

/** `[n, n]` weights of SciPy's 1-D Gaussian filter with the 'reflect' border. */
export function gaussianMatrix(n: number, sigma: number, truncate: number): Float32Array {
  const k = gaussianKernel1D(sigma, truncate);
  const r = (k.length - 1) / 2;
  const acc = new Float64Array(n * n);
  for (let y = 0; y < n; y++) for (let t = 0; t < k.length; t++) acc[y * n + reflectIndex(y + t - r, n)] += k[t];
  return Float32Array.from(acc);
}

const transpose = (m: Float32Array, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
};

/** `A [R, r] · S [B, r, c] · Bᵀ` with B `[C, c]`: `[B, R, C]`. */
function sandwich(g: GraphBuilder, s: string, left: Float32Array, rows: [number, number], right: Float32Array, cols: [number, number], hint: string): string {
  const rt = g.floats(`${hint}_right`, transpose(right, cols[0], cols[1]), [cols[1], cols[0]]);
  const l = g.floats(`${hint}_left`, left, rows);
  return g.node('MatMul', [l, g.node('MatMul', [s, rt])]);
}

/** Per level: its `[B, N]` token scores and grid. */
export interface LevelTokenScores {
  scores: string;
  grid: [number, number];
}

/**
 * @returns the anomaly map `[B, H, W]` (level average of the upsampled grids) and the image score
 *   `[B]` (maximum of the blurred map)
 */
export function addScoring(g: GraphBuilder, levels: LevelTokenScores[], size: [number, number], sigma: number, truncate: number): { map: string; score: string } {
  const [H, W] = size;
  let sum: string | undefined;
  levels.forEach((lv, i) => {
    const [h, w] = lv.grid;
    const grid = g.node('Reshape', [lv.scores, g.int64s(`grid${i}_shape`, [0, h, w])]);
    const up = sandwich(g, grid, bilinearMatrix(h, H), [H, h], bilinearMatrix(w, W), [W, w], `up${i}`);
    sum = sum === undefined ? up : g.node('Add', [sum, up]);
  });
  if (sum === undefined) throw new Error('ONNX export: the model has no levels');
  const map = g.node('Div', [sum, g.scalar('levels', levels.length)]);
  const blurred = sandwich(g, map, gaussianMatrix(H, sigma, truncate), [H, H], gaussianMatrix(W, sigma, truncate), [W, W], 'blur');
  const score = g.node('ReduceMax', [blurred], { axes: [1, 2], keepdims: 0 });
  return { map, score };
}
