import { streamBatches, type BatchStreamOptions, type LoadedSample } from '../batch-stream.js';
import { DataError } from '../errors.js';
import type { ImageBatch, Sample } from '../types.js';
import { imageFromSource, maskFromSource, pixelsFromSource, sourceSize, type CanvasTransformOptions } from './canvas-transform.js';

/** Options of the browser loaders: the transform, the canvas factory and a `fetch` to use. */
export interface UrlLoadOptions extends CanvasTransformOptions {
  fetch?: typeof fetch;
}

async function bitmapOf(input: string | Blob, fetchImpl: typeof fetch): Promise<ImageBitmap> {
  let blob: Blob;
  if (typeof input === 'string') {
    let res: Response;
    try {
      res = await fetchImpl(input);
    } catch (e) {
      throw new DataError('not-found', input, `could not be fetched (${(e as Error).message})`, 'Check the URL and that the server allows the request (CORS).');
    }
    if (!res.ok) throw new DataError('not-found', input, `HTTP ${res.status} ${res.statusText}`, 'Check the URL.');
    blob = await res.blob();
  } else {
    blob = input;
  }
  try {
    // No colour-space conversion or premultiplication: pixel values as stored, like the Node path.
    return await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    const name = typeof input === 'string' ? input : 'image blob';
    throw new DataError('corrupt', name, `the browser could not decode it (${(e as Error).message})`, 'Re-export it as PNG or JPEG.');
  }
}

/** Fetches and decodes an image URL (or a `Blob`, e.g. a dropped `File`) and transforms it. */
export async function readImageUrl(input: string | Blob, options: UrlLoadOptions = {}) {
  const bitmap = await bitmapOf(input, options.fetch ?? fetch);
  try {
    return imageFromSource(bitmap, options);
  } finally {
    bitmap.close();
  }
}

/** Fetches and decodes a mask URL (or `Blob`) and transforms it with nearest-neighbour sampling. */
export async function readMaskUrl(input: string | Blob, options: UrlLoadOptions = {}) {
  const bitmap = await bitmapOf(input, options.fetch ?? fetch);
  try {
    return maskFromSource(bitmap, options);
  } finally {
    bitmap.close();
  }
}

/** Loads one sample (image and, if any, mask of the same pixel size) in the browser. */
export async function loadSampleUrl(sample: Sample, options: UrlLoadOptions = {}): Promise<LoadedSample> {
  const fetchImpl = options.fetch ?? fetch;
  const bitmap = await bitmapOf(sample.path, fetchImpl);
  try {
    const image = pixelsFromSource(bitmap, options);
    if (!sample.maskPath) return { image };
    const maskBitmap = await bitmapOf(sample.maskPath, fetchImpl);
    try {
      const [ih, iw] = sourceSize(bitmap);
      const [mh, mw] = sourceSize(maskBitmap);
      if (ih !== mh || iw !== mw) {
        throw new DataError('size-mismatch', sample.maskPath, `mask is ${mh}x${mw} but its image ${sample.path} is ${ih}x${iw}`, 'Masks must have the pixel size of their image; re-export the mask.');
      }
      return { image, mask: maskFromSource(maskBitmap, options) };
    } finally {
      maskBitmap.close();
    }
  } finally {
    bitmap.close();
  }
}

/** Browser counterpart of `batches` from `@rlr/data/node`: samples are URLs. */
export function urlBatches(samples: readonly Sample[], options: BatchStreamOptions & UrlLoadOptions): AsyncIterable<ImageBatch> {
  return streamBatches(samples, (s) => loadSampleUrl(s, options), options);
}
