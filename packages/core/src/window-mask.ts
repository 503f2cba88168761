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
 * How far the window may reach on a grid side: the largest odd window that leaves the centre
 * token of a `side`-long row some key outside its window (`2·⌈(side−1)/2⌉ − 1`: 3 for sides 4
 * and 5, 5 for 6 and 7, 7 for 8). 0 or less when no window fits (a side of 1).
 */
export function largestWindow(side: number): number {
  return 2 * Math.ceil((side - 1) / 2) - 1;
}

/**
 * The default window for a grid, decided by its shorter side s: the released code's table for
 * s = 16, 32 and 64 (5, 7 and 11); for other sides the entry of the nearest tabulated side on a
 * log scale (s ≤ 22 → 5, 23–45 → 7, ≥ 46 → 11), made no larger than {@link largestWindow}(s) so
 * that it stays odd and smaller than the grid side (s = 4 → 3, s = 2 or 3 → 1). Every token then
 * has keys outside its window, so MLKA rows are never fully masked. Grids of a single token have
 * no outside keys at any window and are refused.
 * @throws for a 1x1 grid
 */
export function defaultWindow(h: number, w: number): number {
  if (h * w <= 1) {
    throw new Error(
      `a ${h}x${w} feature grid has a single token, which has no keys outside any attention window (MLKA); ` +
        'use a larger image size or a shallower backbone level',
    );
  }
  const side = Math.min(h, w);
  let best = 16;
  for (const s of Object.keys(DEFAULT_WINDOWS).map(Number)) {
    if (Math.abs(Math.log(side / s)) < Math.abs(Math.log(side / best))) best = s;
  }
  return Math.max(1, Math.min(DEFAULT_WINDOWS[best], largestWindow(side)));
}

/**
 * Check a window size against a grid. Throws when the window is even or not positive, or when it
 * covers some token's whole grid (then that token's MLKA would attend to nothing, which makes the
 * reference implementation produce NaN).
 * @param where - names the setting in messages, e.g. `RLR level 1 (grid 4x4) window`
 */
export function validateWindow(h: number, w: number, window: number, where = 'window'): void {
  if (!Number.isInteger(window) || window < 1 || window % 2 === 0) {
    throw new Error(`${where}: window ${window} must be a positive odd integer (e.g. 5, 7 or 11)`);
  }
  // The token that sees most of the grid is the centre one; it needs a key outside its window.
  const largest = Math.max(largestWindow(h), largestWindow(w));
  if (window > largest) {
    const fix =
      largest >= 1
        ? `use an odd window of at most ${largest} for this level (one value per level, e.g. window: [5, ${largest}]), or leave the window unset to get ${defaultWindow(h, w)} here`
        : 'a single token has no keys outside any window: use a larger image size or a shallower backbone level';
    throw new Error(`${where}: window ${window} covers the whole ${h}x${w} grid for some tokens, leaving their outside-window attention (MLKA) empty; ${fix}`);
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
 * Additive attention masks [N, N]: `inside` is 0 inside the window and `MASKED` outside
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
