import sharp from 'sharp';

/**
 * Anomaly maps as pictures: a blue → cyan → yellow → red colour scale, an overlay on the input
 * image, and PNG encoding. Pixels are RGB `Uint8Array`s, row-major `[H, W, 3]`.
 */

/** Colour stops of the scale at 0, 0.25, 0.5, 0.75, 1 (dark blue, cyan-blue, green-yellow, orange, dark red). */
const STOPS: [number, number, number][] = [
  [0, 0, 140],
  [0, 140, 255],
  [120, 230, 110],
  [255, 170, 0],
  [180, 0, 0],
];

/** 256-entry lookup table of the colour scale, `[256, 3]`. */
const LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (STOPS.length - 1);
    const k = Math.min(STOPS.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(STOPS[k][c] * (1 - f) + STOPS[k + 1][c] * f);
  }
  return lut;
})();

/** The RGB colour of value `t` in [0, 1] (clamped). */
export function colourAt(t: number): [number, number, number] {
  const i = Math.round(Math.min(1, Math.max(0, Number.isNaN(t) ? 0 : t)) * 255) * 3;
  return [LUT[i], LUT[i + 1], LUT[i + 2]];
}

/** Value range used to normalise maps; values outside are clamped. */
export interface MapRange {
  min: number;
  max: number;
}

/** The range of one map (its min and max), a sensible default for a single image. */
export function rangeOf(map: ArrayLike<number>): MapRange {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 1 };
}

function normalise(v: number, r: MapRange): number {
  const span = r.max - r.min;
  return span > 0 ? (v - r.min) / span : 0;
}

/** Colour a `[H, W]` map: returns `[H, W, 3]` RGB. */
export function colourise(map: ArrayLike<number>, range: MapRange = rangeOf(map)): Uint8Array {
  const out = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) {
    const [r, g, b] = colourAt(normalise(map[i], range));
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return out;
}

/**
 * Blend the coloured map over an image: `[H, W, 3]` RGB floats in [0, 1] (the pipeline's images)
 * and a `[H, W]` map of the same geometry. `alpha` is the map's weight; weak responses (the lower
 * `floor` of the range) are blended less so normal regions keep the photo readable.
 */
export function overlay(image: Float32Array, map: ArrayLike<number>, range: MapRange, alpha = 0.55, floor = 0.2): Uint8Array {
  if (image.length !== map.length * 3) throw new Error(`overlay: image has ${image.length / 3} pixels, map has ${map.length}`);
  const out = new Uint8Array(image.length);
  for (let i = 0; i < map.length; i++) {
    const t = Math.min(1, Math.max(0, normalise(map[i], range)));
    const a = alpha * Math.min(1, t / floor);
    const [r, g, b] = colourAt(t);
    out[i * 3] = Math.round(255 * image[i * 3] * (1 - a) + r * a);
    out[i * 3 + 1] = Math.round(255 * image[i * 3 + 1] * (1 - a) + g * a);
    out[i * 3 + 2] = Math.round(255 * image[i * 3 + 2] * (1 - a) + b * a);
  }
  return out;
}

/** An image in [0, 1] floats as 8-bit RGB. */
export function toRgb8(image: Float32Array): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = Math.round(255 * Math.min(1, Math.max(0, image[i])));
  return out;
}

/** A 0/1 mask as white-on-black RGB. */
export function maskToRgb(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length * 3);
  for (let i = 0; i < mask.length; i++) out.fill(mask[i] ? 255 : 0, i * 3, i * 3 + 3);
  return out;
}

/** Encode `[H, W, 3]` RGB bytes as PNG. */
export async function encodePng(rgb: Uint8Array, height: number, width: number): Promise<Uint8Array> {
  if (rgb.length !== height * width * 3) throw new Error(`encodePng: ${rgb.length} bytes is not ${height}x${width}x3`);
  const buf = await sharp(rgb, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A horizontal colour-bar legend, `[height, width, 3]`, low values on the left. */
export function colourBar(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let x = 0; x < width; x++) {
    const [r, g, b] = colourAt(width > 1 ? x / (width - 1) : 0);
    for (let y = 0; y < height; y++) out.set([r, g, b], (y * width + x) * 3);
  }
  return out;
}
