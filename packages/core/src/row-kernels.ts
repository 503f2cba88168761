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
          const dst = be.typedArrayFromHeap(outs[i]);
          // A plain element loop: V8 compiles it to tight code; per-row subarray objects cost more.
          for (let r = 0; r < m; r++) {
            const so = r * k + c0;
            const d0 = r * s;
            for (let c = 0; c < s; c++) dst[d0 + c] = src[so + c];
          }
          c0 += s;
        });
        return outs;
      },
    });
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
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
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

/** Σ over rows of x [M, k] → [k]. */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  if (useHeapKernels(x)) return tf.engine().runKernel(COLUMN_SUM, { x }, {}) as tf.Tensor1D;
  return tf.sum(x, 0) as tf.Tensor1D;
}
