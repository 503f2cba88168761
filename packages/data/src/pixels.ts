import { contentWindow, PAD_RGB, type TransformGeometry } from './geometry.js';

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
  // Columns (and rows) outside the scaled image are `fit` padding: never part of a defect.
  for (let x = 0; x < width; x++) cols[x] = x + left < 0 || x + left >= resizedWidth ? -1 : Math.min(sourceWidth - 1, Math.floor((x + left + 0.5) * sx));
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    if (y + top < 0 || y + top >= resizedHeight) continue;
    const row = Math.min(sourceHeight - 1, Math.floor((y + top + 0.5) * sy)) * sw;
    for (let x = 0; x < width; x++) {
      if (cols[x] < 0) continue;
      const p = (row + cols[x]) * channels;
      let on = 0;
      for (let c = 0; c < colour; c++) if (data[p + c] > 0) on = 1;
      out[y * width + x] = on;
    }
  }
  return out;
}

/** The `fit` padding colour in `channels`-channel integer pixels of depth `maxValue`. */
function padValues(channels: RawPixels['channels'], maxValue: number): number[] {
  const q = (v: number) => Math.round(v * maxValue);
  const gray = q((PAD_RGB[0] + PAD_RGB[1] + PAD_RGB[2]) / 3);
  switch (channels) {
    case 1:
      return [gray];
    case 2:
      return [gray, maxValue];
    case 3:
      return PAD_RGB.map(q);
    case 4:
      return [...PAD_RGB.map(q), maxValue];
  }
}

/**
 * Places the scaled image `resized` (`resizedHeight x resizedWidth` of `g`) into the output window
 * of `g`, padding the rest with {@link PAD_RGB} (the `fit` letterbox). For `crop` and `stretch`
 * geometries the output window lies inside the scaled image and this is a plain crop.
 */
export function placeInWindow(resized: RawPixels, g: TransformGeometry): RawPixels {
  if (resized.height !== g.resizedHeight || resized.width !== g.resizedWidth) {
    throw new Error(`placeInWindow: got ${resized.height}x${resized.width} pixels, the geometry scales to ${g.resizedHeight}x${g.resizedWidth}`);
  }
  const c = resized.channels;
  const out: RawPixels = { data: new (resized.data.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(g.height * g.width * c), height: g.height, width: g.width, channels: c, maxValue: resized.maxValue };
  fillPadding(out, g);
  const w = contentWindow(g);
  for (let y = 0; y < w.height; y++) {
    const from = ((y + w.top + g.top) * resized.width + (w.left + g.left)) * c;
    out.data.set(resized.data.subarray(from, from + w.width * c), ((y + w.top) * g.width + w.left) * c);
  }
  return out;
}

/**
 * Overwrites the padding of an output-size image (everything outside {@link contentWindow}) with
 * {@link PAD_RGB}, in place. Used by the browser path, whose canvas leaves padding transparent.
 */
export function fillPadding(out: RawPixels, g: TransformGeometry): void {
  const w = contentWindow(g);
  if (w.top === 0 && w.left === 0 && w.height === g.height && w.width === g.width) return;
  const c = out.channels;
  const fill = padValues(c, out.maxValue);
  for (let y = 0; y < g.height; y++) {
    const inside = y >= w.top && y < w.top + w.height;
    for (let x = 0; x < g.width; x++) {
      if (inside && x >= w.left && x < w.left + w.width) continue;
      const p = (y * g.width + x) * c;
      for (let k = 0; k < c; k++) out.data[p + k] = fill[k];
    }
  }
}

/**
 * An output-size map (`[height, width]` of `g`, e.g. an anomaly map) resampled onto the source
 * image (`[sourceHeight, sourceWidth]`), bilinearly at pixel centres: each source pixel takes the
 * map value where the transform put it. Source pixels the output does not show (outside a
 * centre crop) get `outside` (default 0); `fit` padding is never sampled.
 */
export function mapToSource(map: ArrayLike<number>, g: TransformGeometry, outside = 0): Float32Array {
  const { sourceHeight: SH, sourceWidth: SW, height: H, width: W } = g;
  if (map.length !== H * W) throw new Error(`mapToSource: ${map.length} values do not form the ${H}x${W} output`);
  const c = contentWindow(g);
  const axis = (n: number, resized: number, offset: number, lo: number, len: number) => {
    // Output coordinate of each source pixel centre, clamped to the content, or -1 when outside.
    const i0 = new Int32Array(n);
    const i1 = new Int32Array(n);
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const pos = ((i + 0.5) * resized) / n - 0.5 - offset;
      if (pos < lo - 0.5 || pos > lo + len - 0.5) {
        i0[i] = -1;
        continue;
      }
      const p = Math.min(Math.max(pos, lo), lo + len - 1);
      i0[i] = Math.floor(p);
      i1[i] = Math.min(i0[i] + 1, lo + len - 1);
      f[i] = p - i0[i];
    }
    return { i0, i1, f };
  };
  const ys = axis(SH, g.resizedHeight, g.top, c.top, c.height);
  const xs = axis(SW, g.resizedWidth, g.left, c.left, c.width);
  const out = new Float32Array(SH * SW);
  for (let y = 0; y < SH; y++) {
    const y0 = ys.i0[y];
    for (let x = 0; x < SW; x++) {
      const x0 = xs.i0[x];
      if (y0 < 0 || x0 < 0) {
        out[y * SW + x] = outside;
        continue;
      }
      const y1 = ys.i1[y];
      const x1 = xs.i1[x];
      const fy = ys.f[y];
      const fx = xs.f[x];
      const top = map[y0 * W + x0] * (1 - fx) + map[y0 * W + x1] * fx;
      const bot = map[y1 * W + x0] * (1 - fx) + map[y1 * W + x1] * fx;
      out[y * SW + x] = top * (1 - fy) + bot * fy;
    }
  }
  return out;
}
