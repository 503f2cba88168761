/** Shared pieces of the parity tests: tfjs reference scores, random images, relative comparison. */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeatureExtractor, KnnModel, RLRModel } from '@rlr/core';
import { expect } from 'vitest';
import { exportDetector, type ExportOptions } from '../src/index.js';
import { OnnxDetector, writeOnnxModel, type OnnxScores } from '../src/node/index.js';

/** Seeded uint8 RGB images `[B, H, W, 3]` with some structure (smooth gradients plus noise). */
export function randomImages(batch: number, H: number, W: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Uint8Array(batch * H * W * 3);
  for (let b = 0; b < batch; b++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          const base = 128 + 100 * Math.sin((x + 2 * c + b) / 5) * Math.cos((y - c) / 7);
          out[((b * H + y) * W + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + 40 * (rand() - 0.5))));
        }
  return out;
}

/** The tfjs path: images / 255 → extractor → model.predict. */
export async function tfjsScores(extractor: FeatureExtractor, model: RLRModel | KnnModel, pixels: Uint8Array, batch: number, H: number, W: number): Promise<{ scores: Float32Array; maps: Float32Array }> {
  const images = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(pixels), [batch, H, W, 3]), 255) as tf.Tensor4D);
  const features = extractor.extract(images);
  images.dispose();
  try {
    const p = await model.predict(features, { batchSize: batch });
    return { scores: p.scores, maps: p.maps };
  } finally {
    tf.dispose(features);
  }
}

/** Export, write to a temporary file, open in onnxruntime and score. */
export async function onnxScores(extractor: FeatureExtractor, model: RLRModel | KnnModel, pixels: Uint8Array, batch: number, H: number, W: number, options?: ExportOptions): Promise<OnnxScores & { bytes: number }> {
  const bytes = await exportDetector(extractor, model, options);
  const dir = mkdtempSync(join(tmpdir(), 'rlr-onnx-'));
  try {
    const path = join(dir, 'model.onnx');
    await writeOnnxModel(path, bytes);
    const det = await OnnxDetector.open(path, { threads: 1 });
    try {
      return { ...(await det.score({ images: pixels, batch, height: H, width: W })), bytes: bytes.length };
    } finally {
      await det.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a − b| / max |b| ≤ tol (maps), and each |a_i − b_i| ≤ tol·|b_i| (scores). */
export function expectRelativeClose(got: Float32Array, want: Float32Array, tol: number, what: string, elementwise: boolean): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  expect(scale, `${what} is not all zero`).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const ref = elementwise ? Math.abs(want[i]) : scale;
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / ref);
  }
  expect(worst, `${what}: worst relative difference`).toBeLessThanOrEqual(tol);
}
