/**
 * The square attention window of RLR (SPEC section 3): token j is inside token i's window when
 * |row_i − row_j| ≤ ⌊w/2⌋ and |col_i − col_j| ≤ ⌊w/2⌋ (clipped at the grid border). Local
 * cross-attention (LCA) may only look inside the window, the MLKA only outside it.
 */

/**
 * Stand-in for −∞ in additive attention masks. A finite value keeps every backend's softmax and
 * its gradient free of NaN (−∞ − (−∞) never happens) while exp(score + MASKED) is exactly 0.
 */
export const MASKED = -1e9;

/** Default window side per grid side, as in the released code. */
export const DEFAULT_WINDOWS: Readonly<Record<number, number>> = { 16: 5, 32: 7, 64: 11 };

/**
 * The default window for a grid: the released code's table for sides 16, 32 and 64; other grids
 * use the entry of the nearest tabulated side (on a log scale) of the shorter grid side.
 */
export function defaultWindow(h: number, w: number): number {
  const side = Math.min(h, w);
  const exact = DEFAULT_WINDOWS[side];
  if (exact !== undefined) return exact;
  let best = 16;
  for (const s of Object.keys(DEFAULT_WINDOWS).map(Number)) {
    if (Math.abs(Math.log(side / s)) < Math.abs(Math.log(side / best))) best = s;
  }
  return DEFAULT_WINDOWS[best];
}

/**
 * Check a window size against a grid. Throws when the window is even or not positive, or when it
 * covers some token's whole grid (then that token's MLKA would attend to nothing, which makes the
 * reference implementation produce NaN).
 */
export function validateWindow(h: number, w: number, window: number, where = 'window'): void {
  if (!Number.isInteger(window) || window < 1 || window % 2 === 0) {
    throw new Error(`${where}: window ${window} must be a positive odd integer (e.g. 5, 7 or 11)`);
  }
  const r = (window - 1) / 2;
  // The token that sees most of the grid is the centre one; it needs a key outside its window.
  const rowReach = Math.max(Math.floor((h - 1) / 2), h - 1 - Math.floor((h - 1) / 2));
  const colReach = Math.max(Math.floor((w - 1) / 2), w - 1 - Math.floor((w - 1) / 2));
  if (r >= rowReach && r >= colReach) {
    throw new Error(
      `${where}: window ${window} covers the whole ${h}x${w} grid for some tokens, leaving their ` +
        `outside-window attention (MLKA) empty; use a window smaller than ${2 * Math.max(rowReach, colReach) + 1}`,
    );
  }
}

/** 1 where key j is inside query i's window, row-major [N, N] with N = h·w. */
export function windowMembership(h: number, w: number, window: number): Uint8Array {
  const r = (window - 1) / 2;
  const n = h * w;
  const out = new Uint8Array(n * n);
  for (let ri = 0; ri < h; ri++) {
    for (let ci = 0; ci < w; ci++) {
      const row = (ri * w + ci) * n;
      for (let rj = Math.max(0, ri - r); rj <= Math.min(h - 1, ri + r); rj++) {
        for (let cj = Math.max(0, ci - r); cj <= Math.min(w - 1, ci + r); cj++) out[row + rj * w + cj] = 1;
      }
    }
  }
  return out;
}

/**
 * Additive attention masks [N, N]: `inside` is 0 inside the window and {@link MASKED} outside
 * (local cross-attention), `outside` the reverse (MLKA).
 */
export function windowMasks(h: number, w: number, window: number): { inside: Float32Array; outside: Float32Array } {
  const member = windowMembership(h, w, window);
  const inside = new Float32Array(member.length);
  const outside = new Float32Array(member.length);
  for (let i = 0; i < member.length; i++) {
    if (member[i]) outside[i] = MASKED;
    else inside[i] = MASKED;
  }
  return { inside, outside };
}
