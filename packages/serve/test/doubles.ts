import { encodeGrayPng } from '../src/png.js';
import type { PredictOptions, PredictOutcome, Predictor } from '../src/predictor.js';

/** A small gray PNG whose pixels are all `value`. */
export function png(value: number, size = 8): Buffer {
  return encodeGrayPng(new Uint8Array(size * size).fill(value), size, size);
}

/**
 * A predictor double: the score of an image is its first pixel byte's PNG length (any stable
 * function of the bytes), an image without a PNG IEND trailer is "truncated", and every batch is
 * recorded. `gate` holds batches until it is opened.
 */
export class RecordingPredictor implements Predictor {
  readonly batches: number[] = [];
  closed = false;
  private open: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private readyGate: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor(options: { ready?: boolean } = {}) {
    this.readyGate = new Promise((ok) => (this.markReady = ok));
    if (options.ready !== false) this.markReady();
  }

  /** Hold every batch from now until {@link openGate}. */
  closeGate(): void {
    this.open = new Promise((ok) => (this.release = ok));
  }

  openGate(): void {
    this.release();
  }

  becomeReady(): void {
    this.markReady();
  }

  ready(): Promise<void> {
    return this.readyGate;
  }

  async predictBatch(images: Buffer[], options: PredictOptions = {}): Promise<PredictOutcome[]> {
    this.batches.push(images.length);
    await this.open;
    return images.map((b) => {
      if (b.subarray(-8, -4).toString('latin1') !== 'IEND') return { error: 'the upload: could not be decoded (truncated PNG: the file ends early)' };
      const score = b.length / 100;
      return { score, normalizedScore: score / 2, label: score >= 2 ? 1 : 0, threshold: 2, ...(options.maps ? { map: { data: Float32Array.from({ length: 16 }, (_, i) => i), height: 4, width: 4 } } : {}) };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  describe(): Record<string, unknown> {
    return { model: 'double' };
  }
}
