/**
 * Shrinking large images, maps and masks for display (e.g. a report gallery of a tiled run):
 * each output pixel covers the box `[floor(y·H/h), floor((y+1)·H/h))` × (same for x) of the
 * input, never empty.
 */

/** Input index ranges of each output position along one axis. */
function boxes(n: number, out: number): Int32Array {
  const edges = new Int32Array(out + 1);
  for (let i = 0; i <= out; i++) edges[i] = Math.floor((i * n) / out);
  for (let i = 1; i <= out; i++) if (edges[i] <= edges[i - 1]) edges[i] = Math.min(n, edges[i - 1] + 1);
  return edges;
}

/** A size no larger than `maxSide` on either side with the aspect ratio of `height x width` (never enlarged). */
export function fitWithin(height: number, width: number, maxSide: number): [height: number, width: number] {
  const s = Math.min(1, maxSide / Math.max(height, width));
  return [Math.max(1, Math.round(height * s)), Math.max(1, Math.round(width * s))];
}

/**
 * Box-average downscale of `[H, W, channels]` row-major floats to `[h, w, channels]` (h ≤ H,
 * w ≤ W): every output value is the mean of its input box, so a constant input stays constant.
 */
export function downscaleMean(src: ArrayLike<number>, H: number, W: number, channels: number, h: number, w: number): Float32Array {
  if (src.length !== H * W * channels) throw new Error(`downscaleMean: ${src.length} values do not form ${H}x${W}x${channels}`);
  if (h > H || w > W || h < 1 || w < 1) throw new Error(`downscaleMean: cannot shrink ${H}x${W} to ${h}x${w}`);
  const ys = boxes(H, h);
  const xs = boxes(W, w);
  const out = new Float32Array(h * w * channels);
  const acc = new Float64Array(channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      acc.fill(0);
      for (let yy = ys[y]; yy < ys[y + 1]; yy++) {
        for (let xx = xs[x]; xx < xs[x + 1]; xx++) {
          const p = (yy * W + xx) * channels;
          for (let c = 0; c < channels; c++) acc[c] += src[p + c];
        }
      }
      const n = (ys[y + 1] - ys[y]) * (xs[x + 1] - xs[x]);
      for (let c = 0; c < channels; c++) out[(y * w + x) * channels + c] = acc[c] / n;
    }
  }
  return out;
}

/** Downscale of a `[H, W]` 0/1 mask: an output pixel is 1 when any pixel of its box is (small defects stay visible). */
export function downscaleMask(mask: ArrayLike<number>, H: number, W: number, h: number, w: number): Uint8Array {
  if (mask.length !== H * W) throw new Error(`downscaleMask: ${mask.length} values do not form ${H}x${W}`);
  if (h > H || w > W || h < 1 || w < 1) throw new Error(`downscaleMask: cannot shrink ${H}x${W} to ${h}x${w}`);
  const ys = boxes(H, h);
  const xs = boxes(W, w);
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let yy = ys[y]; yy < ys[y + 1]; yy++) {
      for (let x = 0; x < w; x++) {
        if (out[y * w + x]) continue;
        for (let xx = xs[x]; xx < xs[x + 1]; xx++) {
          if (mask[yy * W + xx]) {
            out[y * w + x] = 1;
            break;
          }
        }
      }
    }
  }
  return out;
}
