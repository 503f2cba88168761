import { transformGeometry, type TransformGeometry, type TransformOptions } from '../geometry.js';
import { fillPadding, toRgbFloat, transformMask, type RawPixels } from '../pixels.js';
import type { BinaryMask, RgbImage } from '../types.js';

/** The subset of a 2-D canvas context the browser path uses. */
export interface Canvas2D {
  imageSmoothingEnabled: boolean;
  imageSmoothingQuality: 'low' | 'medium' | 'high';
  drawImage(image: CanvasImageSource, dx: number, dy: number, dw: number, dh: number): void;
  getImageData(sx: number, sy: number, sw: number, sh: number): { data: Uint8ClampedArray };
}

/** Makes a `width x height` drawing surface; the default uses `OffscreenCanvas` or a `<canvas>`. */
export type CanvasFactory = (width: number, height: number) => Canvas2D;

/** Anything a canvas can draw whose pixel size is known: `ImageBitmap`, `<img>`, `<canvas>`, ... */
export type ImageSourceLike = CanvasImageSource & ({ width: number; height: number } | { naturalWidth: number; naturalHeight: number });

/** Browser-path options: the shared transform plus an optional canvas factory (tests, workers). */
export interface CanvasTransformOptions extends TransformOptions {
  canvas?: CanvasFactory;
}

/** The default canvas factory: `OffscreenCanvas` where available (workers too), else a DOM canvas. */
export function defaultCanvas(width: number, height: number): Canvas2D {
  let ctx: unknown;
  if (typeof OffscreenCanvas !== 'undefined') {
    ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  } else if (typeof document !== 'undefined') {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    ctx = c.getContext('2d', { willReadFrequently: true });
  }
  if (!ctx) throw new Error('no 2-D canvas is available here: the browser path of @rlr/data needs OffscreenCanvas or a DOM; in Node use @rlr/data/node');
  return ctx as Canvas2D;
}

/** Pixel size of a drawable source. */
export function sourceSize(source: ImageSourceLike): [height: number, width: number] {
  return 'naturalWidth' in source && source.naturalWidth > 0
    ? [source.naturalHeight, source.naturalWidth]
    : [(source as { height: number }).height, (source as { width: number }).width];
}

/**
 * Resizes (antialiased, the browser's high-quality smoothing) and center-crops a drawable image
 * with the same geometry as the Node path. Returns `[H, W, 3]` RGB in [0, 1].
 */
export function imageFromSource(source: ImageSourceLike, options: CanvasTransformOptions = {}): RgbImage & { geometry: TransformGeometry } {
  const raw = pixelsFromSource(source, options);
  const [h, w] = sourceSize(source);
  // Where the image lies in the crop (`fit`: inside the padding), for scoring that leaves the padding out.
  return { data: toRgbFloat(raw), height: raw.height, width: raw.width, geometry: transformGeometry(h, w, options) };
}

/** {@link imageFromSource} without the float conversion: the canvas's RGBA bytes of the crop. */
export function pixelsFromSource(source: ImageSourceLike, options: CanvasTransformOptions = {}): RawPixels {
  const [h, w] = sourceSize(source);
  const g = transformGeometry(h, w, options);
  const ctx = (options.canvas ?? defaultCanvas)(g.width, g.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  // Drawing the whole resized image shifted by the crop offset leaves exactly the crop window on the canvas.
  ctx.drawImage(source, -g.left, -g.top, g.resizedWidth, g.resizedHeight);
  const { data } = ctx.getImageData(0, 0, g.width, g.height);
  const raw: RawPixels = { data, height: g.height, width: g.width, channels: 4, maxValue: 255 };
  // `fit`: the canvas leaves the letterbox transparent; give it the same padding as the Node path.
  fillPadding(raw, g);
  return raw;
}

/**
 * Reads a mask at full resolution and applies the shared nearest-neighbour transform
 * ({@link transformMask}), so browser and Node masks are identical. Returns `[H, W]` 0/1.
 */
export function maskFromSource(source: ImageSourceLike, options: CanvasTransformOptions = {}): BinaryMask {
  const [h, w] = sourceSize(source);
  const g = transformGeometry(h, w, options);
  const ctx = (options.canvas ?? defaultCanvas)(w, h);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, 0, 0, w, h);
  const { data } = ctx.getImageData(0, 0, w, h);
  return { data: transformMask({ data, height: h, width: w, channels: 4, maxValue: 255 }, g), height: g.height, width: g.width };
}
