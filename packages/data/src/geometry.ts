import { DataError } from './errors.js';

/**
 * Crop size: one number for a square crop, or `[height, width]`. For tall images such as
 * KolektorSDD (about 500 wide, 1250 high) a 256-wide, 640-high crop is `[640, 256]`.
 */
export type CropSize = number | readonly [height: number, width: number];

/**
 * How an image reaches the `crop` size (`--resize-mode`):
 * - `crop` (default, the paper's pipeline): resize the shorter side to `resize`, then take the
 *   centre `crop` window; the borders outside it are dropped.
 * - `fit` (letterbox): scale the whole image to fit inside `crop`, keeping its aspect ratio, and
 *   pad the rest with {@link PAD_RGB} (the ImageNet mean: zero after normalisation); `resize` is
 *   not used. Nothing is dropped.
 * - `stretch`: resize to exactly `crop`, ignoring the aspect ratio; `resize` is not used.
 *   Nothing is dropped, shapes are distorted.
 */
export type ResizeMode = 'crop' | 'fit' | 'stretch';

/** Every {@link ResizeMode}, for flag parsing. */
export const RESIZE_MODES: readonly ResizeMode[] = ['crop', 'fit', 'stretch'];

/**
 * The padding colour of `fit` (RGB in [0, 1]): the ImageNet mean, which the backbone's
 * normalisation turns into 0, so padding is the most neutral input the backbone can get.
 */
export const PAD_RGB: readonly [number, number, number] = [0.485, 0.456, 0.406];

/** The image transform every path (Node and browser) applies. */
export interface TransformOptions {
  /** Target of the shorter side; the longer side keeps the aspect ratio. Omit to keep the size. */
  resize?: number;
  /** Center crop taken after the resize. Omit to keep the whole resized image. */
  crop?: CropSize;
  /** How the image reaches `crop` (default `crop`); see {@link ResizeMode}. */
  mode?: ResizeMode;
  /**
   * Scale both sides by this factor (rounded to whole pixels) and keep the whole image: the
   * `--tile-scale` of tiling (1 = native resolution). Excludes `resize`, `crop` and `mode`.
   */
  scale?: number;
}

/**
 * Where a source image goes: first scaled to `resizedHeight x resizedWidth`, then the window
 * `[top, top + height) x [left, left + width)` of the scaled image is kept. In `fit` mode `top`
 * and `left` are negative (or 0): the window starts before the scaled image, and output pixels
 * outside the scaled image are padding (see {@link contentWindow}).
 */
export interface TransformGeometry {
  sourceHeight: number;
  sourceWidth: number;
  resizedHeight: number;
  resizedWidth: number;
  top: number;
  left: number;
  height: number;
  width: number;
}

function checkSize(value: number, setting: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new DataError('invalid-option', setting, `must be a positive integer, got ${value}`, 'Pass a whole number of pixels.');
  }
}

/** `crop` as `[height, width]`, validated. */
export function cropShape(crop: CropSize): [height: number, width: number] {
  const [h, w] = typeof crop === 'number' ? [crop, crop] : crop;
  checkSize(h, 'crop height');
  checkSize(w, 'crop width');
  return [h, w];
}

/** Python's `round`: halves go to the even neighbour (what torchvision's center crop uses). */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The size after resizing the shorter side to `resize`, as torchvision's `Resize(int)` computes
 * it: the shorter side becomes `resize` exactly and the longer side `floor(resize * long / short)`.
 */
export function resizedShape(height: number, width: number, resize: number): [height: number, width: number] {
  checkSize(resize, 'resize');
  if (height <= width) return [resize, Math.floor((resize * width) / height)];
  return [Math.floor((resize * height) / width), resize];
}

/**
 * The full resize-then-center-crop geometry for a `sourceHeight x sourceWidth` image.
 *
 * Offsets follow torchvision's `CenterCrop` (`round((size - crop) / 2)`, halves to even). When the
 * shorter-side resize leaves the image smaller than the crop in some direction (torchvision would
 * pad with black), the image is instead scaled up just enough to cover the crop, so every output
 * pixel is image content; for the common case the result equals torchvision's.
 */
export function transformGeometry(sourceHeight: number, sourceWidth: number, options: TransformOptions = {}): TransformGeometry {
  checkSize(sourceHeight, 'image height');
  checkSize(sourceWidth, 'image width');
  if (options.scale !== undefined) {
    const s = options.scale;
    if (!(Number.isFinite(s) && s > 0)) throw new DataError('invalid-option', '--tile-scale', `must be a positive number, got ${s}`, 'Pass e.g. --tile-scale 1 (native resolution) or 0.5 (half size).');
    if (options.resize !== undefined || options.crop !== undefined) throw new Error('transformGeometry: scale excludes resize and crop');
    const rh = Math.max(1, Math.round(sourceHeight * s));
    const rw = Math.max(1, Math.round(sourceWidth * s));
    return { sourceHeight, sourceWidth, resizedHeight: rh, resizedWidth: rw, top: 0, left: 0, height: rh, width: rw };
  }
  const mode = options.mode ?? 'crop';
  if (!RESIZE_MODES.includes(mode)) {
    throw new DataError('invalid-option', '--resize-mode', `"${String(mode)}" is not a resize mode`, `Use one of ${RESIZE_MODES.join(', ')}.`);
  }
  if (mode !== 'crop' && options.crop !== undefined) {
    const [ch, cw] = cropShape(options.crop);
    const whole = { sourceHeight, sourceWidth, height: ch, width: cw };
    if (mode === 'stretch') return { ...whole, resizedHeight: ch, resizedWidth: cw, top: 0, left: 0 };
    // fit: the larger side touches the window; the other is centred, padded on both sides.
    const scale = Math.min(ch / sourceHeight, cw / sourceWidth);
    const rh = Math.min(ch, Math.max(1, Math.round(sourceHeight * scale)));
    const rw = Math.min(cw, Math.max(1, Math.round(sourceWidth * scale)));
    return { ...whole, resizedHeight: rh, resizedWidth: rw, top: -Math.floor((ch - rh) / 2) || 0, left: -Math.floor((cw - rw) / 2) || 0 };
  }
  let [rh, rw] = options.resize === undefined ? [sourceHeight, sourceWidth] : resizedShape(sourceHeight, sourceWidth, options.resize);
  const [ch, cw] = options.crop === undefined ? [rh, rw] : cropShape(options.crop);
  if (rh < ch || rw < cw) {
    const scale = Math.max(ch / sourceHeight, cw / sourceWidth);
    rh = Math.max(ch, Math.round(sourceHeight * scale));
    rw = Math.max(cw, Math.round(sourceWidth * scale));
  }
  return {
    sourceHeight,
    sourceWidth,
    resizedHeight: rh,
    resizedWidth: rw,
    top: roundHalfToEven((rh - ch) / 2),
    left: roundHalfToEven((rw - cw) / 2),
    height: ch,
    width: cw,
  };
}

/** Output `[height, width]` of the transform, when every image has the same output size. */
export function outputShape(options: TransformOptions): [height: number, width: number] | undefined {
  return options.crop === undefined ? undefined : cropShape(options.crop);
}

/** A rectangle `[top, top + height) x [left, left + width)` in some image's pixel coordinates. */
export interface PixelRect {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * The part of the output (crop-size) image that shows image content, in output pixels: the whole
 * output for `crop` and `stretch`, the letterboxed image (without its padding) for `fit`.
 */
export function contentWindow(g: TransformGeometry): PixelRect {
  const top = Math.max(0, -g.top);
  const left = Math.max(0, -g.left);
  const bottom = Math.min(g.height, g.resizedHeight - g.top);
  const right = Math.min(g.width, g.resizedWidth - g.left);
  return { top, left, height: Math.max(0, bottom - top), width: Math.max(0, right - left) };
}

/**
 * The part of the source image that the output shows, in source-image pixels (fractional where
 * the scale makes it so; rounded to 1/100 px): the centre crop's region for `crop`, the whole
 * image for `fit` and `stretch`. Predictions report it, so a user sees what a crop left out.
 */
export function sourceRegion(g: TransformGeometry): PixelRect {
  const sy = g.sourceHeight / g.resizedHeight;
  const sx = g.sourceWidth / g.resizedWidth;
  const c = contentWindow(g);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return { top: r2((c.top + g.top) * sy), left: r2((c.left + g.left) * sx), height: r2(c.height * sy), width: r2(c.width * sx) };
}

/** Share of the source image's pixels the output shows (1 for `fit` and `stretch`). */
export function keptFraction(g: TransformGeometry): number {
  const r = sourceRegion(g);
  return Math.min(1, (r.height * r.width) / (g.sourceHeight * g.sourceWidth));
}
