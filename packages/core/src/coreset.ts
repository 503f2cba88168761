import { deriveSeed, Rng } from './rng.js';

/**
 * Greedy (k-center) coreset selection, as PatchCore subsamples its memory bank: start from one
 * seeded random token, then repeatedly add the token farthest (L2) from everything chosen so far.
 * The chosen tokens cover the bank: every token lies within the last selection's distance of one
 * of them. Plain TypeScript on host arrays (no tensors), so it runs the same everywhere.
 */

/** Options of {@link greedyCoreset}. */
export interface CoresetOptions {
  /** Seed of the first pick and of the random projection. */
  seed: number;
  /**
   * Compare tokens in a random projection to this many dimensions instead of the full channels
   * (a Gaussian map scaled by 1/√dims, which keeps distances approximately, Johnson–Lindenstrauss);
   * 0 (default) or a value ≥ the channel count compares the exact channels.
   */
  projection?: number;
  /** Called every so often with (chosen, count). */
  onProgress?: (chosen: number, count: number) => void;
  /** Stops the selection (between steps) with an error when aborted. */
  signal?: AbortSignal;
}

/** Milliseconds of selection between yields to the event loop (keeps progress output and Ctrl-C alive). */
const YIELD_MS = 100;

/**
 * The random projection of `rows` [n, channels] to [n, dims]: rows · G with G [channels, dims]
 * drawn N(0, 1/dims) from `seed`.
 */
export function randomProjection(rows: Float32Array, channels: number, dims: number, seed: number): Float32Array {
  const n = rows.length / channels;
  const g = new Rng(deriveSeed(seed, 0x636f7265)).fillNormal(new Float32Array(channels * dims), 0, 1 / Math.sqrt(dims));
  const out = new Float32Array(n * dims);
  const acc = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    const r = i * channels;
    for (let c = 0; c < channels; c++) {
      const v = rows[r + c];
      if (v === 0) continue;
      const gr = c * dims;
      for (let k = 0; k < dims; k++) acc[k] += v * g[gr + k];
    }
    out.set(acc, i * dims);
  }
  return out;
}

/**
 * Choose `count` of the `rows.length / channels` tokens by greedy k-center selection.
 * Step 1 picks a seeded random token; each next step picks the token whose distance to its
 * nearest chosen token is largest (the lowest index among ties). Distances are computed directly
 * as Σ (a − b)² in double precision; a token's distance to the new pick is skipped where the
 * triangle inequality proves the pick is not nearer than its current nearest (exact, and most
 * tokens once the coreset covers the bank).
 * @param rows tokens [n, channels], row-major
 * @returns the chosen token indices, in the order chosen
 */
export async function greedyCoreset(rows: Float32Array, channels: number, count: number, options: CoresetOptions): Promise<Int32Array> {
  if (!Number.isInteger(channels) || channels < 1 || rows.length % channels !== 0) {
    throw new Error(`greedyCoreset: ${rows.length} values are not rows of ${channels} channels`);
  }
  const n = rows.length / channels;
  if (!Number.isInteger(count) || count < 1 || count > n) throw new Error(`greedyCoreset: cannot choose ${count} of ${n} tokens`);
  const dims = options.projection && options.projection > 0 && options.projection < channels ? options.projection : channels;
  const x = dims === channels ? rows : randomProjection(rows, channels, dims, options.seed);
  const chosen = new Int32Array(count);
  // Squared distance of every token to its nearest chosen token, that distance, and which step chose it.
  const nearestSq = new Float64Array(n).fill(Infinity);
  const nearest = new Float64Array(n).fill(Infinity);
  const owner = new Int32Array(n).fill(-1);
  // Distances from the newest chosen token to every earlier one.
  const centres = new Float64Array(count);
  // Chosen tokens are never picked again, even where duplicates leave every distance at 0.
  const taken = new Uint8Array(n);
  const dist2 = (a: number, b: number): number => {
    let d = 0;
    for (let k = 0; k < dims; k++) {
      const t = x[a + k] - x[b + k];
      d += t * t;
    }
    return d;
  };
  let next = new Rng(deriveSeed(options.seed, 0x6b63)).int(n);
  let lastYield = performance.now();
  for (let step = 0; step < count; step++) {
    chosen[step] = next;
    taken[next] = 1;
    const c = next * dims;
    for (let j = 0; j < step; j++) centres[j] = Math.sqrt(dist2(chosen[j] * dims, c));
    let best = -1;
    let bestAt = 0;
    for (let i = 0; i < n; i++) {
      // Triangle inequality: d(i, new) ≥ d(owner, new) − d(i, owner) ≥ d(i, owner) when
      // d(owner, new) ≥ 2·d(i, owner); then the new token cannot be nearer, so skip the distance.
      const o = owner[i];
      if (o < 0 || centres[o] < 2 * nearest[i]) {
        const d = dist2(i * dims, c);
        if (d < nearestSq[i]) {
          nearestSq[i] = d;
          nearest[i] = Math.sqrt(d);
          owner[i] = step;
        }
      }
      if (nearestSq[i] > best && !taken[i]) {
        best = nearestSq[i];
        bestAt = i;
      }
    }
    next = bestAt;
    if (performance.now() - lastYield > YIELD_MS && step + 1 < count) {
      options.onProgress?.(step + 1, count);
      await new Promise((r) => setTimeout(r, 0));
      if (options.signal?.aborted) throw new Error('greedyCoreset: stopped (aborted)');
      lastYield = performance.now();
    }
  }
  options.onProgress?.(count, count);
  return chosen;
}

/** Tokens kept by a coreset `fraction` of `n` tokens: round(fraction · n), at least 1. */
export function coresetSize(n: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`coreset fraction ${fraction} is outside (0, 1]`);
  return Math.min(n, Math.max(1, Math.round(fraction * n)));
}
