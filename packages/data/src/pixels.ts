import type { TransformGeometry } from './geometry.js';

/** Interleaved integer pixels as decoders hand them out (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA). */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  height: number;
  width: number;
  channels: 1 | 2 | 3 | 4;
  /** Largest representable value: 255 for 8-bit, 65535 for 16-bit data. */
  maxValue: number;
}

/**
 * Writes `src` as RGB float32 in [0, 1] into `out` starting at element `offset` (`[H, W, 3]`).
 * Gray is replicated to the three channels and alpha is dropped.
 */
export function writeRgbFloat(src: RawPixels, out: Float32Array, offset = 0): void {
  const { data, channels } = src;
  const n = src.height * src.width;
  if (data.length < n * channels) throw new Error(`writeRgbFloat: ${data.length} values for ${src.height}x${src.width}x${channels} pixels`);
  if (data instanceof Uint16Array) writeDeep(data, channels, n, 1 / src.maxValue, out, offset);
  else writeBytes(data, channels, n, 1 / src.maxValue, out, offset);
}

// Separate loops per element type keep each one monomorphic, which V8 optimises far better.
function writeBytes(data: Uint8Array | Uint8ClampedArray, channels: number, n: number, scale: number, out: Float32Array, offset: number): void {
  if (channels === 3) {
    for (let i = 0; i < n * 3; i++) out[offset + i] = data[i] * scale;
    return;
  }
  // Gray or RGBA: the first colour channel (gray) or the first three; alpha is dropped.
  const gray = channels < 3;
  for (let i = 0, p = 0, o = offset; i < n; i++, p += channels, o += 3) {
    const r = data[p] * scale;
    out[o] = r;
    out[o + 1] = gray ? r : data[p + 1] * scale;
    out[o + 2] = gray ? r : data[p + 2] * scale;
  }
}

function writeDeep(data: Uint16Array, channels: number, n: number, scale: number, out: Float32Array, offset: number): void {
  const gray = channels < 3;
  for (let i = 0, p = 0, o = offset; i < n; i++, p += channels, o += 3) {
    const r = data[p] * scale;
    out[o] = r;
    out[o + 1] = gray ? r : data[p + 1] * scale;
    out[o + 2] = gray ? r : data[p + 2] * scale;
  }
}

/** `src` as a new `[H, W, 3]` float32 RGB array in [0, 1]. */
export function toRgbFloat(src: RawPixels): Float32Array {
  const out = new Float32Array(src.height * src.width * 3);
  writeRgbFloat(src, out);
  return out;
}

/**
 * Applies `geometry` to a full-resolution mask with nearest-neighbour sampling and binarises it:
 * a pixel is 1 when any colour channel is > 0 (alpha is ignored).
 *
 * Sampling uses pixel centres (source row `floor((y + 0.5) * sourceHeight / resizedHeight)`), the
 * PIL/OpenCV/canvas convention, so the mask stays aligned with the antialiased image resize.
 * Both the Node and the browser path use this function, so masks are identical in both.
 */
export function transformMask(src: RawPixels, geometry: TransformGeometry): Uint8Array {
  const { data, channels, width: sw } = src;
  const { sourceHeight, sourceWidth, resizedHeight, resizedWidth, top, left, height, width } = geometry;
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels;
  const sy = sourceHeight / resizedHeight;
  const sx = sourceWidth / resizedWidth;
  const cols = new Int32Array(width);
  for (let x = 0; x < width; x++) cols[x] = Math.min(sourceWidth - 1, Math.floor((x + left + 0.5) * sx));
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = Math.min(sourceHeight - 1, Math.floor((y + top + 0.5) * sy)) * sw;
    for (let x = 0; x < width; x++) {
      const p = (row + cols[x]) * channels;
      let on = 0;
      for (let c = 0; c < colour; c++) if (data[p + c] > 0) on = 1;
      out[y * width + x] = on;
    }
  }
  return out;
}
