import { splitBatch } from '../trainer-step.js';

/** One worker's share of an image batch: a copy of its rows, so its buffer can be transferred. */
export interface ImagePart {
  images: Float32Array<ArrayBuffer>;
  shape: [number, number, number, number];
}

/**
 * Cut a row-major `[B, height, width, 3]` batch into consecutive parts for `workers` workers
 * (fewer when the batch is smaller). `caller` names the method in the error for a bad length.
 */
export function imageParts(images: Float32Array, height: number, width: number, workers: number, caller: string): ImagePart[] {
  const per = height * width * 3;
  const batch = images.length / per;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${caller}: ${images.length} values are not [B, ${height}, ${width}, 3]`);
  return splitBatch(batch, workers).map((part) => ({
    images: images.slice(part.first * per, (part.first + part.images) * per),
    shape: [part.images, height, width, 3],
  }));
}

/** The arrays one after another in one new array. */
export function concatFloat32(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
