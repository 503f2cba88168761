import * as tf from '@tensorflow/tfjs-core';
import { gatherRows, transpose2d } from './row-kernels.js';
import { tidy } from './tidy.js';

/**
 * Distance from each query token to its nearest token of a memory bank, for banks far larger
 * than memory allows a full distance matrix for (10⁶ tokens × 384 channels and more).
 *
 * The bank is held as chunks of rows [m, C] with their squared norms. Queries are processed in
 * chunks too; per (query chunk, bank chunk) pair one untransposed 2-D product
 * `bank · (−2·queriesᵀ)` plus the bank norms gives ‖b‖² − 2 b·q — the squared distance up to the
 * query's own ‖q‖², which does not change which bank token is nearest. The bank is the left
 * operand on purpose: on `wasm` the right operand is repacked (and cached, doubling its memory)
 * per tensor, so the small query chunk goes there and the large bank streams through.
 * Only an [m, n] block exists at any time. The nearest token of each chunk is then gathered and
 * its distance recomputed directly as Σ (q − b)², so the result has the accuracy of a brute-force
 * computation (the expanded form loses digits to cancellation when ‖q‖ ≫ ‖q − b‖).
 */

/** Chunk sizes of {@link NearestDistanceIndex}. */
export interface NearestDistanceOptions {
  /** Bank rows per chunk (default 4096). */
  bankChunk?: number;
  /** Query rows per product (default 1024). */
  queryChunk?: number;
}

const DEFAULT_BANK_CHUNK = 4096;
const DEFAULT_QUERY_CHUNK = 1024;

interface BankChunk {
  rows: tf.Tensor2D;
  /** ‖b‖² as a column [m, 1]. */
  sqNorms: tf.Tensor2D;
}

/** A memory bank of tokens on the tfjs backend, ready for nearest-distance queries. */
export class NearestDistanceIndex {
  readonly channels: number;
  readonly bankChunk: number;
  readonly queryChunk: number;
  private readonly chunks: BankChunk[] = [];
  private count = 0;

  constructor(channels: number, options: NearestDistanceOptions = {}) {
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`NearestDistanceIndex: channels must be a positive integer, got ${channels}`);
    this.channels = channels;
    this.bankChunk = Math.max(1, Math.floor(options.bankChunk ?? DEFAULT_BANK_CHUNK));
    this.queryChunk = Math.max(1, Math.floor(options.queryChunk ?? DEFAULT_QUERY_CHUNK));
  }

  /** An index over `rows` [M, channels] (copied to the backend; the array is not kept). */
  static fromRows(rows: Float32Array, channels: number, options: NearestDistanceOptions = {}): NearestDistanceIndex {
    const index = new NearestDistanceIndex(channels, options);
    index.add(rows);
    return index;
  }

  /** Bank tokens held. */
  get size(): number {
    return this.count;
  }

  /** Append bank tokens `rows` [m, channels] (copied; split into chunks of `bankChunk` rows). */
  add(rows: Float32Array): void {
    const C = this.channels;
    if (rows.length % C !== 0) throw new Error(`NearestDistanceIndex.add: ${rows.length} values are not rows of ${C} channels`);
    const m = rows.length / C;
    for (let start = 0; start < m; start += this.bankChunk) {
      const n = Math.min(this.bankChunk, m - start);
      const t = tf.tensor2d(rows.subarray(start * C, (start + n) * C), [n, C]);
      this.chunks.push({ rows: t, sqNorms: tidy(() => tf.sum(tf.square(t), 1, true) as tf.Tensor2D) });
    }
    this.count += m;
  }

  /**
   * Squared distance of each query to its nearest bank token.
   * @param queries [N, channels] (not disposed)
   * @returns [N]; the caller disposes it
   */
  nearestSquared(queries: tf.Tensor2D): tf.Tensor1D {
    const [N, C] = queries.shape;
    if (C !== this.channels) throw new Error(`NearestDistanceIndex: queries have ${C} channels, the bank ${this.channels}`);
    if (this.count === 0) throw new Error('NearestDistanceIndex: the bank is empty');
    const parts: tf.Tensor1D[] = [];
    for (let start = 0; start < N; start += this.queryChunk) {
      const n = Math.min(this.queryChunk, N - start);
      parts.push(
        tidy(() => {
          const q = gatherRows(queries, [[start, n]]);
          const qT = tf.mul(transpose2d(q), -2) as tf.Tensor2D; // [C, n], the right operand of every product
          let best = tf.fill([n], Infinity) as tf.Tensor1D;
          for (const chunk of this.chunks) {
            const next = tidy(() => {
              const partial = tf.add(tf.matMul(chunk.rows, qT), chunk.sqNorms) as tf.Tensor2D; // [m, n]
              const nearestRow = tf.argMin(transpose2d(partial), 1) as tf.Tensor1D; // [n]
              const exact = tf.sum(tf.squaredDifference(tf.gather(chunk.rows, nearestRow), q), 1) as tf.Tensor1D;
              return tf.minimum(best, exact) as tf.Tensor1D;
            });
            best.dispose();
            best = next;
          }
          return best;
        }),
      );
    }
    if (parts.length === 1) return parts[0];
    const all = tf.concat(parts) as tf.Tensor1D;
    tf.dispose(parts);
    return all;
  }

  /**
   * L2 distance of each query to its nearest bank token, on the host.
   * @param queries [N, channels]: a tensor (not disposed) or a row-major array
   */
  async nearest(queries: tf.Tensor2D | Float32Array): Promise<Float32Array> {
    const q = queries instanceof Float32Array ? tf.tensor2d(queries, [queries.length / this.channels, this.channels]) : queries;
    try {
      const d = tidy(() => tf.sqrt(this.nearestSquared(q)));
      const out = (await d.data()) as Float32Array;
      d.dispose();
      return out;
    } finally {
      if (q !== queries) q.dispose();
    }
  }

  /** Release the bank's tensors. */
  dispose(): void {
    for (const c of this.chunks) tf.dispose([c.rows, c.sqNorms]);
    this.chunks.length = 0;
    this.count = 0;
  }
}
