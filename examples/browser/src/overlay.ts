/**
 * Drawing an anomaly map over the image it was computed for. Pure canvas code: no tfjs.
 */

/** An image as the model saw it (after resize and crop) and the anomaly map computed for it. */
export interface ScoredView {
  /** `[H, W, 3]` RGB in [0, 1], row-major: the cropped model input. */
  rgb: Float32Array;
  /** `[H, W]` pixel anomaly map, same geometry as `rgb`. */
  map: Float32Array;
  height: number;
  width: number;
}

/** Value range used to colour the maps, shared by every image on the page so colours compare. */
export interface ColourRange {
  min: number;
  max: number;
}

/** Opacity of the colour laid over a pixel whose anomaly value is above the threshold. */
export const OVERLAY_ALPHA = 0.55;

/**
 * A perceptually ordered dark-blue → red → yellow ramp for u in [0, 1] (piecewise linear through
 * five anchors). Returns 0–255 RGB.
 */
export function heatColour(u: number): [number, number, number] {
  const anchors: [number, number, number][] = [
    [30, 20, 120],
    [120, 30, 160],
    [220, 50, 70],
    [250, 140, 30],
    [255, 240, 80],
  ];
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(x));
  const f = x - i;
  const a = anchors[i];
  const b = anchors[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * Render `view` into RGBA pixels: the image, with the heat colour blended over every pixel whose
 * map value is strictly above `threshold`. Pixels at or below it show the plain image, so raising
 * the threshold above the map's maximum gives back the input unchanged.
 */
export function renderOverlay(view: ScoredView, threshold: number, range: ColourRange): ImageData {
  const { rgb, map, height, width } = view;
  const out = new ImageData(width, height);
  const px = out.data;
  const span = range.max > range.min ? range.max - range.min : 1;
  for (let p = 0; p < height * width; p++) {
    let r = rgb[3 * p] * 255;
    let g = rgb[3 * p + 1] * 255;
    let b = rgb[3 * p + 2] * 255;
    const v = map[p];
    if (v > threshold) {
      const [hr, hg, hb] = heatColour((v - range.min) / span);
      r = r * (1 - OVERLAY_ALPHA) + hr * OVERLAY_ALPHA;
      g = g * (1 - OVERLAY_ALPHA) + hg * OVERLAY_ALPHA;
      b = b * (1 - OVERLAY_ALPHA) + hb * OVERLAY_ALPHA;
    }
    px[4 * p] = r;
    px[4 * p + 1] = g;
    px[4 * p + 2] = b;
    px[4 * p + 3] = 255;
  }
  return out;
}

/** Minimum and maximum over several maps (the slider's range). */
export function mapRange(maps: Float32Array[]): ColourRange {
  let min = Infinity;
  let max = -Infinity;
  for (const m of maps) {
    for (let i = 0; i < m.length; i++) {
      if (m[i] < min) min = m[i];
      if (m[i] > max) max = m[i];
    }
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 1 };
}

/** Fraction of a map's pixels strictly above `threshold` (shown beside each image). */
export function fractionAbove(map: Float32Array, threshold: number): number {
  let n = 0;
  for (let i = 0; i < map.length; i++) if (map[i] > threshold) n++;
  return map.length ? n / map.length : 0;
}
