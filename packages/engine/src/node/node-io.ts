/**
 * The Node readers of a detector: file paths, `file:` and `http(s):` URLs, encoded bytes
 * (`Buffer`/`Uint8Array`), Blobs and raw RGBA `ImageData`, decoded by sharp (`@rlr/data/node`).
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { toRgbFloat, type RgbImage, type TransformGeometry } from '@rlr/data';
import { batches, readImagePixels, type ReadImageOptions } from '@rlr/data/node';
import type { DetectorInput, DetectorIO, ImageDataLike, ImageGeometry } from '../detector.js';

function isRgbImage(x: unknown): x is RgbImage {
  return typeof x === 'object' && x !== null && (x as RgbImage).data instanceof Float32Array;
}

function isImageData(x: unknown): x is ImageDataLike {
  const d = (x as ImageDataLike | null)?.data;
  return typeof x === 'object' && x !== null && (d instanceof Uint8ClampedArray || d instanceof Uint8Array) && typeof (x as ImageDataLike).width === 'number' && typeof (x as ImageDataLike).height === 'number';
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Decode an image file or its bytes at `t`, with where it lies in the crop. */
async function decode(input: string | Uint8Array, t: ReadImageOptions): Promise<RgbImage & { geometry: TransformGeometry }> {
  const { raw, geometry } = await readImagePixels(input, t);
  return { data: toRgbFloat(raw), height: raw.height, width: raw.width, geometry };
}

/** Decode any {@link DetectorInput} at `g` (resize, crop and `mode`). */
export async function decodeNode(input: DetectorInput, g: ImageGeometry): Promise<RgbImage & { geometry?: TransformGeometry }> {
  if (isRgbImage(input)) {
    if (input.height !== g.crop[0] || input.width !== g.crop[1]) throw new Error(`predict: an RgbImage of ${input.height}x${input.width} is not at the detector's crop size ${g.crop.join('x')}; pass the encoded image or its path instead`);
    return input;
  }
  const t = { resize: g.resize, crop: g.crop, mode: g.mode };
  if (input instanceof URL || (typeof input === 'string' && /^(https?|file):/i.test(input))) {
    const url = String(input);
    if (url.startsWith('file:')) return decode(fileURLToPath(url), t);
    return decode(await fetchBytes(url), { ...t, label: url });
  }
  if (typeof input === 'string') return decode(input, t);
  if (input instanceof Uint8Array) return decode(input, { ...t, label: 'the image bytes' });
  if (input instanceof Blob) return decode(new Uint8Array(await input.arrayBuffer()), { ...t, label: 'the image blob' });
  if (isImageData(input)) {
    const png = await sharp(Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength), { raw: { width: input.width, height: input.height, channels: 4 } }).png().toBuffer();
    return decode(new Uint8Array(png), { ...t, label: 'the ImageData' });
  }
  throw new Error('predict: pass a file path, a URL, image bytes (Buffer), a Blob, ImageData or an RgbImage');
}

/** Files and Buffers in, sharp decoding. */
export const nodeIO: DetectorIO = {
  decode: decodeNode,
  batches: (samples, o) => batches(samples, o),
};
