/**
 * The fixed 2-D sin-cos position code added by every Embedding2D (SPEC section 3).
 *
 * For a grid of h x w tokens (token n = row * w + col) and width d, with half = d / 2 and
 * f_k = exp(-2k · ln(10⁴) / half) for k = 0 .. half/2 - 1:
 *   channel 2k = sin(col · f_k),        2k + 1 = cos(col · f_k),
 *   channel half + 2k = sin(row · f_k), half + 2k + 1 = cos(row · f_k).
 * Arithmetic is rounded to float32 step by step, as the reference computes it in float32.
 */
export function sinCosPosition2D(h: number, w: number, d: number): Float32Array {
  if (d % 4 !== 0) {
    throw new Error(`sinCosPosition2D: width d=${d} must be a multiple of 4 (two axes, sin and cos)`);
  }
  const half = d / 2;
  const f = Math.fround;
  const freq = new Float32Array(half / 2);
  const logScale = f(-Math.log(10000) / half);
  for (let k = 0; k < half / 2; k++) freq[k] = f(Math.exp(f(2 * k * logScale)));
  const out = new Float32Array(h * w * d);
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      const base = (row * w + col) * d;
      for (let k = 0; k < half / 2; k++) {
        const ac = f(col * freq[k]);
        const ar = f(row * freq[k]);
        out[base + 2 * k] = Math.sin(ac);
        out[base + 2 * k + 1] = Math.cos(ac);
        out[base + half + 2 * k] = Math.sin(ar);
        out[base + half + 2 * k + 1] = Math.cos(ar);
      }
    }
  }
  return out;
}
