import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// #region wasm-paths
// Vite copies each binary into the build output and hands back its final URL, so the wasm backend
// never reaches for a CDN.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});
// #endregion wasm-paths

export type BackendName = 'webgl' | 'wasm' | 'cpu';

/** The order the page tries backends in: GPU first, then XNNPACK on wasm, then plain JS. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgl', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The backend tfjs is now running on. */
  name: BackendName;
  /** One line per backend that was tried and rejected, with the reason. */
  rejected: string[];
}

/**
 * A backend is only useful when it computes correctly at float32 precision. WebGL in a browser
 * without a GPU may come up on a software rasteriser that only renders half floats; anomaly
 * scores would then drift by more than the differences we care about, so such a context is
 * rejected.
 */
async function usable(name: BackendName): Promise<string | undefined> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    return (e as Error).message;
  }
  if (!ok) return 'failed to initialise';
  if (name === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE')) {
    return 'no float32 render targets (half precision only)';
  }
  // A tiny product whose answer is known exactly in float32.
  const probe = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([0.5, -1, 2, 0.25], [2, 2])));
  const got = await probe.data();
  probe.dispose();
  const want = [4.5, -0.5, 9.5, -2];
  if (want.some((v, i) => Math.abs(v - got[i]) > 1e-6)) return `wrong arithmetic (${Array.from(got).join(', ')})`;
  return undefined;
}

/**
 * Switch tfjs to the first backend in `order` that works. `preferred` (from the page's
 * `?backend=` parameter) moves one backend to the front.
 */
export async function chooseBackend(preferred?: string | null): Promise<BackendChoice> {
  const order = [...BACKEND_ORDER];
  const front = order.indexOf(preferred as BackendName);
  if (front > 0) order.unshift(...order.splice(front, 1));
  const rejected: string[] = [];
  for (const name of order) {
    const why = await usable(name);
    if (why === undefined) return { name, rejected };
    rejected.push(`${name}: ${why}`);
    // A half-initialised backend keeps its GL context or wasm memory; drop it before moving on.
    if (tf.findBackend(name)) tf.removeBackend(name);
  }
  throw new Error(`no tfjs backend works in this browser (${rejected.join('; ')})`);
}
