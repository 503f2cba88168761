import * as tf from '@tensorflow/tfjs-core';

/**
 * Data-movement kernels the attention layout needs, fast on every backend.
 *
 * On `wasm`, `tf.slice` and `tf.split` first copy their WHOLE input into JavaScript
 * (`readSync`), so cutting a [4096, 256] activation into 8 heads costs ~65 ms and taking 1024
 * rows out of a [4096, 1024] matrix ~60 ms. These kernels read the input through a view of the
 * wasm heap instead (`typedArrayFromHeap`), so they cost only the bytes they write (2.5 ms and
 * 0.2 ms). A column sum (bias and LayerNorm gradients) reads rows the same way instead of
 * transposing first as wasm's `Sum` over a leading axis does. They are registered under RLR's
 * own kernel names for the `wasm` backend only —
 * tfjs's built-in kernels are left untouched — and every other backend (or a wasm backend
 * without those methods) uses the equivalent `tf.slice`/`tf.concat`/`tf.split`.
 */

const GATHER_ROWS = 'RLRGatherRows';
const SPLIT_COLUMNS = 'RLRSplitColumns';
const COLUMN_SUM = 'RLRColumnSum';
const TRANSPOSE = 'RLRTranspose2D';
const CONCAT_COLUMNS = 'RLRConcatColumns';
const ADD_BLOCKS = 'RLRAddBlocks';

/** Block side of the transpose: a 64x64 block of source and destination stays in L1/L2. */
const TRANSPOSE_BLOCK = 64;

/**
 * dst [k, m] = src [m, k]ᵀ, cache-blocked, eight source rows at a time (eight sequential reads,
 * one run of eight adjacent writes): ~2.5 ns per element on [1024, 1024], against ~7 for one
 * row at a time in 16x16 blocks and ~16 for wasm's own Transpose (power-of-two row strides make
 * single-row blocks conflict in the cache).
 */
export function transposeInto(src: Float32Array, dst: Float32Array, m: number, k: number): void {
  const B = TRANSPOSE_BLOCK;
  for (let r0 = 0; r0 < m; r0 += B) {
    const r1 = Math.min(m, r0 + B);
    for (let c0 = 0; c0 < k; c0 += B) {
      const c1 = Math.min(k, c0 + B);
      let r = r0;
      for (; r + 7 < r1; r += 8) {
        const s0 = r * k;
        const s1 = s0 + k;
        const s2 = s1 + k;
        const s3 = s2 + k;
        const s4 = s3 + k;
        const s5 = s4 + k;
        const s6 = s5 + k;
        const s7 = s6 + k;
        for (let c = c0; c < c1; c++) {
          const d = c * m + r;
          dst[d] = src[s0 + c];
          dst[d + 1] = src[s1 + c];
          dst[d + 2] = src[s2 + c];
          dst[d + 3] = src[s3 + c];
          dst[d + 4] = src[s4 + c];
          dst[d + 5] = src[s5 + c];
          dst[d + 6] = src[s6 + c];
          dst[d + 7] = src[s7 + c];
        }
      }
      for (; r < r1; r++) {
        const so = r * k;
        for (let c = c0; c < c1; c++) dst[c * m + r] = src[so + c];
      }
    }
  }
}

/** The methods of tfjs-backend-wasm's backend object these kernels use (duck-typed, not imported). */
interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function isHeapBackend(b: unknown): b is HeapBackend {
  const x = b as Partial<HeapBackend> | null;
  return !!x && typeof x.typedArrayFromHeap === 'function' && typeof x.makeOutput === 'function';
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  registerColumnSum();
  registerTranspose();
  registerConcatColumns();
  registerAddBlocks();
  if (!tf.getKernel(GATHER_ROWS, 'wasm')) {
    tf.registerKernel({
      kernelName: GATHER_ROWS,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        const runs = (attrs as unknown as { runs: number[] }).runs;
        const be = backend as unknown as HeapBackend;
        const k = x.shape[1];
        let total = 0;
        for (let i = 1; i < runs.length; i += 2) total += runs[i];
        const out = be.makeOutput([total, k], 'float32');
        // Views are taken after allocating: allocation may grow (and move) the wasm heap.
        const src = be.typedArrayFromHeap(x);
        const dst = be.typedArrayFromHeap(out);
        let at = 0;
        for (let i = 0; i < runs.length; i += 2) {
          dst.set(src.subarray(runs[i] * k, (runs[i] + runs[i + 1]) * k), at);
          at += runs[i + 1] * k;
        }
        return out;
      },
    });
  }
  if (!tf.getKernel(SPLIT_COLUMNS, 'wasm')) {
    tf.registerKernel({
      kernelName: SPLIT_COLUMNS,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        const sizes = (attrs as unknown as { sizes: number[] }).sizes;
        const be = backend as unknown as HeapBackend;
        const [m, k] = x.shape;
        const outs = sizes.map((s) => be.makeOutput([m, s], 'float32'));
        const src = be.typedArrayFromHeap(x);
        let c0 = 0;
        sizes.forEach((s, i) => {
          copyColumns(src, k, c0, be.typedArrayFromHeap(outs[i]), s, 0, m, s);
          c0 += s;
        });
        return outs;
      },
    });
  }
}

/**
 * Copy `width` columns of `rows` rows between row-major matrices: source columns from `srcCol`
 * (row length `srcCols`) to destination columns from `dstCol` (row length `dstCols`). A plain
 * element loop: V8 compiles it to tight code; per-row subarray objects cost more.
 */
function copyColumns(src: Float32Array, srcCols: number, srcCol: number, dst: Float32Array, dstCols: number, dstCol: number, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    const so = r * srcCols + srcCol;
    const d0 = r * dstCols + dstCol;
    for (let c = 0; c < width; c++) dst[d0 + c] = src[so + c];
  }
}

function registerColumnSum(): void {
  if (tf.getKernel(COLUMN_SUM, 'wasm')) return;
  tf.registerKernel({
    kernelName: COLUMN_SUM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const be = backend as unknown as HeapBackend;
      const [m, k] = x.shape;
      const out = be.makeOutput([k], 'float32');
      const src = be.typedArrayFromHeap(x);
      // Row by row into a float64 accumulator: sequential reads, and more accurate than float32.
      const acc = new Float64Array(k);
      for (let r = 0; r < m; r++) {
        const o = r * k;
        for (let c = 0; c < k; c++) acc[c] += src[o + c];
      }
      be.typedArrayFromHeap(out).set(acc);
      return out;
    },
  });
}

function registerTranspose(): void {
  if (tf.getKernel(TRANSPOSE, 'wasm')) return;
  tf.registerKernel({
    kernelName: TRANSPOSE,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const be = backend as unknown as HeapBackend;
      const [m, k] = x.shape;
      const out = be.makeOutput([k, m], 'float32');
      const src = be.typedArrayFromHeap(x);
      const dst = be.typedArrayFromHeap(out);
      transposeInto(src, dst, m, k);
      return out;
    },
  });
}

function registerConcatColumns(): void {
  if (tf.getKernel(CONCAT_COLUMNS, 'wasm')) return;
  tf.registerKernel({
    kernelName: CONCAT_COLUMNS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const xs = Object.keys(inputs)
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
        .map((key) => inputs[key] as tf.TensorInfo);
      const be = backend as unknown as HeapBackend;
      const m = xs[0].shape[0];
      const total = xs.reduce((sum, x) => sum + x.shape[1], 0);
      const out = be.makeOutput([m, total], 'float32');
      const dst = be.typedArrayFromHeap(out);
      let c0 = 0;
      for (const x of xs) {
        const s = x.shape[1];
        copyColumns(be.typedArrayFromHeap(x), s, 0, dst, total, c0, m, s);
        c0 += s;
      }
      return out;
    },
  });
}

function registerAddBlocks(): void {
  if (tf.getKernel(ADD_BLOCKS, 'wasm')) return;
  tf.registerKernel({
    kernelName: ADD_BLOCKS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { rows, cols, at } = attrs as unknown as { rows: number; cols: number; at: number[] };
      const be = backend as unknown as HeapBackend;
      const out = be.makeOutput([rows, cols], 'float32');
      const dst = be.typedArrayFromHeap(out);
      dst.fill(0);
      for (let i = 0; 3 * i < at.length; i++) {
        const x = inputs[`x${i}`] as tf.TensorInfo;
        const [r0, c0, transposed] = [at[3 * i], at[3 * i + 1], at[3 * i + 2]];
        const [m, k] = x.shape;
        const src = be.typedArrayFromHeap(x);
        if (!transposed) {
          for (let r = 0; r < m; r++) {
            const so = r * k;
            const d0 = (r0 + r) * cols + c0;
            for (let c = 0; c < k; c++) dst[d0 + c] += src[so + c];
          }
        } else {
          // xᵀ [k, m] at (r0, c0): source row r is destination column c0 + r.
          for (let r = 0; r < m; r++) {
            const so = r * k;
            const d0 = r0 * cols + c0 + r;
            for (let c = 0; c < k; c++) dst[d0 + c * cols] += src[so + c];
          }
        }
      }
      return out;
    },
  });
}

function useHeapKernels(x: tf.Tensor): boolean {
  if (x.dtype !== 'float32' || tf.getBackend() !== 'wasm' || !isHeapBackend(tf.backend())) return false;
  register();
  return true;
}

/**
 * Concatenate row ranges of x [M, k]: `runs` lists (start, count) pairs → [Σ count, k].
 * A single run covering all of x returns x itself.
 */
export function gatherRows(x: tf.Tensor2D, runs: [number, number][]): tf.Tensor2D {
  const m = x.shape[0];
  for (const [s, n] of runs) {
    if (!(s >= 0 && n > 0 && s + n <= m)) throw new Error(`gatherRows: run (${s}, ${n}) is outside the ${m} rows`);
  }
  if (runs.length === 1 && runs[0][0] === 0 && runs[0][1] === m) return x;
  if (useHeapKernels(x)) return tf.engine().runKernel(GATHER_ROWS, { x }, { runs: runs.flat() }) as tf.Tensor2D;
  return tf.tidy(() => {
    const parts = runs.map(([s, n]) => tf.slice(x, [s, 0], [n, -1]));
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0));
  });
}

/** Split x [M, Σ sizes] into column blocks [M, sizes[i]]. */
export function splitColumns(x: tf.Tensor2D, sizes: number[]): tf.Tensor2D[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== x.shape[1]) throw new Error(`splitColumns: sizes add up to ${total}, x has ${x.shape[1]} columns`);
  if (sizes.length === 1) return [x];
  if (useHeapKernels(x)) return tf.engine().runKernel(SPLIT_COLUMNS, { x }, { sizes }) as unknown as tf.Tensor2D[];
  return tf.split(x, sizes, 1) as tf.Tensor2D[];
}

/** Transpose of x [M, k] → [k, M]. */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  if (useHeapKernels(x)) return tf.engine().runKernel(TRANSPOSE, { x }, {}) as tf.Tensor2D;
  return tf.transpose(x) as tf.Tensor2D;
}

/** Concatenate [M, k_i] matrices along columns → [M, Σ k_i] (wasm's Concat on axis 1 copies row by row through JavaScript slices, ~10 ns per element). */
export function concatColumns(xs: tf.Tensor2D[]): tf.Tensor2D {
  if (xs.length === 1) return xs[0];
  const m = xs[0].shape[0];
  for (const x of xs) {
    if (x.rank !== 2 || x.shape[0] !== m) throw new Error(`concatColumns: got [${x.shape}] among matrices of ${m} rows`);
  }
  if (xs.every((x) => x.dtype === 'float32') && useHeapKernels(xs[0])) {
    const inputs: Record<string, tf.Tensor> = {};
    xs.forEach((x, i) => (inputs[`x${i}`] = x));
    return tf.engine().runKernel(CONCAT_COLUMNS, inputs, {}) as tf.Tensor2D;
  }
  return tf.concat(xs, 1) as tf.Tensor2D;
}

/** A matrix added into a larger one by {@link addBlocks}: x (or xᵀ) at row `row`, column `col`. */
export interface Block {
  x: tf.Tensor2D;
  row: number;
  col: number;
  transposed?: boolean;
}

/**
 * A [rows, cols] matrix of zeros with every block added at its place, in the order given
 * (overlapping blocks are summed). One kernel instead of padding every block and adding them.
 */
export function addBlocks(rows: number, cols: number, blocks: Block[]): tf.Tensor2D {
  for (const b of blocks) {
    const [m, k] = b.transposed ? [b.x.shape[1], b.x.shape[0]] : b.x.shape;
    if (!(b.row >= 0 && b.col >= 0 && b.row + m <= rows && b.col + k <= cols)) {
      throw new Error(`addBlocks: a [${m}, ${k}] block at (${b.row}, ${b.col}) is outside [${rows}, ${cols}]`);
    }
  }
  if (blocks.length > 0 && blocks.every((b) => b.x.dtype === 'float32') && useHeapKernels(blocks[0].x)) {
    const inputs: Record<string, tf.Tensor> = {};
    blocks.forEach((b, i) => (inputs[`x${i}`] = b.x));
    const at = blocks.flatMap((b) => [b.row, b.col, b.transposed ? 1 : 0]);
    return tf.engine().runKernel(ADD_BLOCKS, inputs, { rows, cols, at }) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    let sum = tf.zeros([rows, cols]) as tf.Tensor2D;
    for (const b of blocks) {
      const x = b.transposed ? (tf.transpose(b.x) as tf.Tensor2D) : b.x;
      const [m, k] = x.shape;
      sum = tf.add(sum, tf.pad(x, [[b.row, rows - b.row - m], [b.col, cols - b.col - k]])) as tf.Tensor2D;
    }
    return sum;
  });
}

/** Σ over rows of x [M, k] → [k]. */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  if (useHeapKernels(x)) return tf.engine().runKernel(COLUMN_SUM, { x }, {}) as tf.Tensor1D;
  return tf.sum(x, 0) as tf.Tensor1D;
}
