import type { LoadedSample } from '../batch-stream.js';
import { DataError } from '../errors.js';
import { transformGeometry, type TransformGeometry, type TransformOptions } from '../geometry.js';
import { placeInWindow, toRgbFloat, transformMask, type RawPixels } from '../pixels.js';
import type { BinaryMask, RgbImage, Sample } from '../types.js';
import { openImage, toRaw, type ImageInput } from './decode.js';

/** A transformed image plus the size of the file it came from. */
export interface DecodedImage extends RgbImage {
  sourceHeight: number;
  sourceWidth: number;
}

/** A transformed mask plus the size of the file it came from. */
export interface DecodedMask extends BinaryMask {
  sourceHeight: number;
  sourceWidth: number;
}

/** Options of {@link readImage}: the transform, and how errors name the image. */
export interface ReadImageOptions extends TransformOptions {
  /**
   * How error messages name the image, e.g. `upload "part-17.png"` (default: the path, or
   * `image bytes` when bytes are given).
   */
  label?: string;
}

/**
 * Decodes an image (PNG, JPEG, BMP, TIFF or WebP; 8 or 16 bit; gray, RGB or RGBA), given as a
 * file path or as the file's bytes (a `Buffer` or `Uint8Array`, e.g. an upload), resizes its
 * shorter side to `resize` with an antialiased bilinear filter (sharp's `linear` kernel, which
 * widens with the scale factor like PIL's), and center-crops it to `crop` (or, with
 * `mode: 'fit'`, letterboxes it into `crop`; with `mode: 'stretch'`, resizes it to `crop`).
 * Returns `[H, W, 3]` RGB float32 in [0, 1]: gray is replicated, alpha dropped.
 * @throws {@link DataError} naming the path or `options.label` when the image cannot be decoded
 */
export async function readImage(input: ImageInput, options: ReadImageOptions = {}): Promise<DecodedImage> {
  const { raw, sourceHeight, sourceWidth } = await readImagePixels(input, options);
  return { data: toRgbFloat(raw), height: raw.height, width: raw.width, sourceHeight, sourceWidth };
}

/**
 * {@link readImage} without the float conversion: the transformed image as the decoder's
 * integer pixels (1 channel for gray files, 3 for colour; 8 or 16 bit), for loaders that convert
 * straight into a batch.
 */
export async function readImagePixels(input: ImageInput, options: ReadImageOptions = {}): Promise<{ raw: RawPixels; sourceHeight: number; sourceWidth: number; geometry: TransformGeometry }> {
  const opened = await openImage(input, options.label);
  const g = transformGeometry(opened.height, opened.width, options);
  let p = opened.pipeline;
  if (g.resizedHeight !== g.sourceHeight || g.resizedWidth !== g.sourceWidth) {
    p = p.resize(g.resizedWidth, g.resizedHeight, { fit: 'fill', kernel: 'linear' });
  }
  const padded = g.top < 0 || g.left < 0;
  if (!padded && (g.height !== g.resizedHeight || g.width !== g.resizedWidth)) {
    p = p.extract({ left: g.left, top: g.top, width: g.width, height: g.height });
  }
  // The letterbox padding is written here, not by sharp, so 8/16-bit and gray images get the same value.
  const raw = await toRaw(opened, p);
  return { raw: padded ? placeInWindow(raw, g) : raw, sourceHeight: g.sourceHeight, sourceWidth: g.sourceWidth, geometry: g };
}

/** Options of {@link readMask}: the image transform, and optionally the size its image has. */
export interface ReadMaskOptions extends ReadImageOptions {
  /** `[height, width]` of the image the mask belongs to; a different mask size is an error. */
  imageSize?: readonly [height: number, width: number];
  /** The image path, named in the size-mismatch error. */
  imagePath?: string;
}

/**
 * Decodes a ground-truth mask (a file path or the file's bytes) and applies the image geometry
 * with nearest-neighbour sampling; pixels with any channel > 0 become 1. Returns `[H, W]` 0/1.
 */
export async function readMask(input: ImageInput, options: ReadMaskOptions = {}): Promise<DecodedMask> {
  const opened = await openImage(input, options.label);
  if (options.imageSize && (options.imageSize[0] !== opened.height || options.imageSize[1] !== opened.width)) {
    const [ih, iw] = options.imageSize;
    throw new DataError(
      'size-mismatch',
      opened.path,
      `mask is ${opened.height}x${opened.width} (h x w) but its image${options.imagePath ? ` ${options.imagePath}` : ''} is ${ih}x${iw}`,
      'A mask must have the pixel size of its image: re-export the mask at the image size, or fix which mask belongs to which image.',
    );
  }
  const g = transformGeometry(opened.height, opened.width, options);
  const raw = await toRaw(opened, opened.pipeline);
  return { data: transformMask(raw, g), height: g.height, width: g.width, sourceHeight: g.sourceHeight, sourceWidth: g.sourceWidth };
}

/**
 * Decodes a sample's image and (if it has one) its mask, checking that their sizes agree. The
 * image comes back as integer pixels (see {@link readImagePixels}); `toRgbFloat` converts it.
 */
export async function loadSample(sample: Sample, options: TransformOptions = {}): Promise<LoadedSample> {
  const { raw, sourceHeight, sourceWidth, geometry } = await readImagePixels(sample.path, options);
  if (!sample.maskPath) return { image: raw, geometry };
  const mask = await readMask(sample.maskPath, { ...options, imageSize: [sourceHeight, sourceWidth], imagePath: sample.path });
  return { image: raw, mask, geometry };
}
