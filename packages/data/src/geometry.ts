import { DataError } from './errors.js';

/**
 * Crop size: one number for a square crop, or `[height, width]`. For tall images such as
 * KolektorSDD (about 500 wide, 1250 high) a 256-wide, 640-high crop is `[640, 256]`.
 */
export type CropSize = number | readonly [height: number, width: number];

/** The image transform every path (Node and browser) applies. */
export interface TransformOptions {
  /** Target of the shorter side; the longer side keeps the aspect ratio. Omit to keep the size. */
  resize?: number;
  /** Center crop taken after the resize. Omit to keep the whole resized image. */
  crop?: CropSize;
}

/**
 * Where a source image goes: first scaled to `resizedHeight x resizedWidth`, then the window
 * `[top, top + height) x [left, left + width)` of the scaled image is kept.
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
