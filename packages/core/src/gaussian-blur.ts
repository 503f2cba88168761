/**
 * Gaussian smoothing of anomaly maps with SciPy's `gaussian_filter` semantics (SPEC section 3):
 * separable, radius = ⌊truncate·σ + 0.5⌋ (16 for σ = 4), normalised weights, 'reflect' border
 * (d c b a | a b c d | d c b a), rows then columns, float64 accumulation.
 */

/** Normalised 1-D Gaussian weights of radius ⌊truncate·σ + 0.5⌋. */
export function gaussianKernel1D(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0)) throw new Error(`gaussianKernel1D: sigma must be positive, got ${sigma}`);
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    k[i + radius] = Math.exp((-0.5 / (sigma * sigma)) * i * i);
    sum += k[i + radius];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** SciPy 'reflect' index: mirror about the edges, edge samples repeated, for any overshoot. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/**
 * Smooth each [H, W] map of maps [B, H, W] (axis 0 first, as SciPy); returns a new array.
 * Intermediate results are rounded to float32 between the two passes, as SciPy stores them in
 * an array of the input's dtype.
 */
export function gaussianBlur(maps: Float32Array, batch: number, H: number, W: number, sigma = 4, truncate = 4): Float32Array {
  if (maps.length !== batch * H * W) {
    throw new Error(`gaussianBlur: ${maps.length} values do not form [${batch}, ${H}, ${W}]`);
  }
  const k = gaussianKernel1D(sigma, truncate);
  const K = k.length;
  const r = (K - 1) / 2;
  // Reflected source rows of each output row, and source columns of each output column (flat).
  const rowIdx = new Int32Array(H * K);
  for (let y = 0; y < H; y++) for (let t = 0; t < K; t++) rowIdx[y * K + t] = reflectIndex(y + t - r, H);
  const colIdx = new Int32Array(W * K);
  for (let x = 0; x < W; x++) for (let t = 0; t < K; t++) colIdx[x * K + t] = reflectIndex(x + t - r, W);
  const tmp = new Float32Array(maps.length);
  const out = new Float32Array(maps.length);
  // Each output value is Σ_t k[t]·v_t summed in t order in float64, as one tap loop per value
  // would, but tap by tap over a whole float64 row of outputs (contiguous reads): the row pass
  // adds whole reflected source rows, the column pass shifted copies of the row.
  const acc = new Float64Array(W);
  for (let b = 0; b < batch; b++) {
    const o = b * H * W;
    for (let y = 0; y < H; y++) {
      acc.fill(0);
      for (let t = 0; t < K; t++) {
        const kt = k[t];
        const src = o + rowIdx[y * K + t] * W;
        for (let x = 0; x < W; x++) acc[x] += kt * maps[src + x];
      }
      tmp.set(acc, o + y * W);
    }
    // Columns at least r from both borders read their taps without reflection.
    const lo = Math.min(r, W);
    const hi = Math.max(lo, W - r);
    for (let y = 0; y < H; y++) {
      const row = o + y * W;
      acc.fill(0);
      for (let t = 0; t < K; t++) {
        const kt = k[t];
        for (let x = 0; x < lo; x++) acc[x] += kt * tmp[row + colIdx[x * K + t]];
        const shifted = row + t - r;
        for (let x = lo; x < hi; x++) acc[x] += kt * tmp[shifted + x];
        for (let x = hi; x < W; x++) acc[x] += kt * tmp[row + colIdx[x * K + t]];
      }
      out.set(acc, row);
    }
  }
  return out;
}

/** Image scores: the maximum of each [H, W] map of maps [B, H, W]. */
export function mapMaxima(maps: Float32Array, batch: number, H: number, W: number): Float32Array {
  const out = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let m = -Infinity;
    for (let i = b * H * W; i < (b + 1) * H * W; i++) if (maps[i] > m) m = maps[i];
    out[b] = m;
  }
  return out;
}

/**
 * The image score of one `[H, W]` map: `mapMaxima(gaussianBlur(map, 1, H, W, sigma, truncate))`,
 * bit for bit, without the smoothed output array (one float32 buffer of the map size instead of
 * two): for large maps, e.g. a full-resolution map stitched from tiles.
 */
export function smoothedMaximum(map: Float32Array, H: number, W: number, sigma = 4, truncate = 4): number {
  if (map.length !== H * W) throw new Error(`smoothedMaximum: ${map.length} values do not form [${H}, ${W}]`);
  const k = gaussianKernel1D(sigma, truncate);
  const r = (k.length - 1) / 2;
  const n = k.length;
  const tmp = new Float32Array(H * W);
  const rowIdx = new Int32Array(n);
  for (let y = 0; y < H; y++) {
    for (let t = 0; t < n; t++) rowIdx[t] = reflectIndex(y + t - r, H) * W;
    for (let x = 0; x < W; x++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += k[t] * map[rowIdx[t] + x];
      tmp[y * W + x] = acc;
    }
  }
  const colIdx = new Int32Array(W * n);
  for (let x = 0; x < W; x++) for (let t = 0; t < n; t++) colIdx[x * n + t] = reflectIndex(x + t - r, W);
  let best = -Infinity;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      let acc = 0;
      const c = x * n;
      for (let t = 0; t < n; t++) acc += k[t] * tmp[row + colIdx[c + t]];
      const v = Math.fround(acc);
      if (v > best) best = v;
    }
  }
  return best;
}
