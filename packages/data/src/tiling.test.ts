import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataError } from './errors.js';
import { extractTile, MapStitcher, tileGrid, tileStarts } from './tiling.js';
import type { RawPixels } from './pixels.js';

describe('tileStarts', () => {
  it('steps by the stride and aligns the last tile to the border', () => {
    expect(tileStarts(10, 4, 3)).toEqual([0, 3, 6]);
    expect(tileStarts(10, 4, 4)).toEqual([0, 4, 6]);
    expect(tileStarts(4000, 256, 128).at(-1)).toBe(4000 - 256);
  });

  it('is one tile when the image is exactly one tile long', () => {
    expect(tileStarts(256, 256, 128)).toEqual([0]);
  });

  it('does not repeat a last start that falls on the stride', () => {
    expect(tileStarts(12, 4, 4)).toEqual([0, 4, 8]);
    expect(tileStarts(8, 4, 2)).toEqual([0, 2, 4]);
  });

  it('refuses an image shorter than the tile, naming --tile', () => {
    expect(() => tileStarts(100, 256, 128, 'height')).toThrow(DataError);
    expect(() => tileStarts(100, 256, 128, 'height')).toThrow(/--tile: the image height is 100 px, smaller than the tile \(256 px\).*--tile-scale/);
  });

  it('covers every pixel, stays inside and leaves no gap wider than the stride (any size, tile, stride)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 64 }), (size, extra, s) => {
        const stride = Math.min(s, size);
        const length = size + extra;
        const starts = tileStarts(length, size, stride);
        expect(starts[0]).toBe(0);
        expect(starts.at(-1)).toBe(length - size);
        for (let i = 1; i < starts.length; i++) {
          expect(starts[i]).toBeGreaterThan(starts[i - 1]);
          expect(starts[i] - starts[i - 1]).toBeLessThanOrEqual(stride);
        }
        const covered = new Uint8Array(length);
        for (const p of starts) covered.fill(1, p, p + size);
        expect(covered.every((v) => v === 1)).toBe(true);
      }),
    );
  });
});

describe('tileGrid', () => {
  it('lists every row start with every column start, row-major', () => {
    const g = tileGrid(6, 10, { tile: [4, 4], stride: [2, 3] });
    expect(g.rows).toEqual([0, 2]);
    expect(g.cols).toEqual([0, 3, 6]);
    expect(g.tiles.map((t) => [t.top, t.left])).toEqual([
      [0, 0],
      [0, 3],
      [0, 6],
      [2, 0],
      [2, 3],
      [2, 6],
    ]);
    expect(g.tiles.every((t) => t.height === 4 && t.width === 4)).toBe(true);
  });

  it('names --tile and --tile-stride for bad values', () => {
    const at = (tile: [number, number], stride: [number, number]) => () => tileGrid(100, 100, { tile, stride });
    expect(at([0, 0], [1, 1])).toThrow(/^--tile: the tile height must be a positive whole number/);
    expect(at([32, 32.5], [16, 16])).toThrow(/^--tile: the tile width/);
    expect(at([32, 32], [0, 16])).toThrow(/^--tile-stride: the stride height must be a positive/);
    expect(at([32, 32], [16, 40])).toThrow(/^--tile-stride: the stride width 40 is larger than the tile width 32.*--tile-stride 32 or less/);
  });
});

describe('extractTile', () => {
  const raw: RawPixels = { data: Uint8Array.from({ length: 5 * 6 }, (_, i) => i), height: 5, width: 6, channels: 1, maxValue: 255 };

  it('copies the window of integer pixels as float RGB, gray replicated', () => {
    const out = new Float32Array(2 * 3 * 3 + 1);
    extractTile(raw, { top: 2, left: 1, height: 2, width: 3 }, out, 1);
    const expected = [13, 14, 15, 19, 20, 21].flatMap((v) => [v / 255, v / 255, v / 255]);
    expect(Array.from(out.subarray(1))).toEqual(expected.map(Math.fround));
    expect(out[0]).toBe(0);
  });

  it('gives the same tile from a float RGB image', () => {
    const rgb = new Float32Array(5 * 6 * 3);
    for (let i = 0; i < 30; i++) rgb.fill(i / 255, i * 3, i * 3 + 3);
    const a = new Float32Array(12);
    const b = new Float32Array(12);
    extractTile(raw, { top: 3, left: 4, height: 2, width: 2 }, a);
    extractTile({ data: rgb, height: 5, width: 6 }, { top: 3, left: 4, height: 2, width: 2 }, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('refuses a tile outside the image', () => {
    expect(() => extractTile(raw, { top: 4, left: 0, height: 2, width: 2 }, new Float32Array(12))).toThrow(/outside the 5x6 image/);
  });
});

describe('MapStitcher', () => {
  it('stitching a constant map gives the constant', () => {
    const grid = tileGrid(37, 53, { tile: [16, 16], stride: [7, 5] });
    const st = new MapStitcher(grid);
    const tile = new Float32Array(256).fill(0.3);
    grid.tiles.forEach((_, i) => st.add(i, tile));
    const map = st.finish();
    expect(map.length).toBe(37 * 53);
    for (const v of map) expect(v).toBeCloseTo(0.3, 6);
  });

  it('averages overlaps: weights count the tiles covering a pixel', () => {
    const grid = tileGrid(4, 6, { tile: [4, 4], stride: [4, 2] }); // columns 0 and 2: overlap at 2, 3
    const st = new MapStitcher(grid);
    st.add(0, new Float32Array(16).fill(1));
    st.add(1, new Float32Array(16).fill(3));
    expect([0, 1, 2, 3, 4, 5].map((x) => st.weight(0, x))).toEqual([1, 1, 2, 2, 1, 1]);
    expect(Array.from(st.finish().subarray(0, 6))).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('finds a defect placed in a tile overlap at its full-resolution position', () => {
    // An image with a bright 3x3 spot where four tiles overlap; each tile's "anomaly map" is its
    // own pixels minus the tile's mean (a tile-local score, as a model sees only its tile).
    const H = 40;
    const W = 56;
    const img = new Float32Array(H * W * 3).fill(0.2);
    const [cy, cx] = [21, 26];
    for (let y = cy - 1; y <= cy + 1; y++) for (let x = cx - 1; x <= cx + 1; x++) img.fill(1, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const grid = tileGrid(H, W, { tile: [24, 32], stride: [16, 12] });
    const covering = grid.tiles.filter((t) => cy >= t.top && cy < t.top + t.height && cx >= t.left && cx < t.left + t.width);
    expect(covering.length).toBeGreaterThanOrEqual(4);
    const st = new MapStitcher(grid);
    const buf = new Float32Array(24 * 32 * 3);
    grid.tiles.forEach((t, i) => {
      extractTile({ data: img, height: H, width: W }, t, buf);
      const map = new Float32Array(24 * 32);
      for (let p = 0; p < map.length; p++) map[p] = buf[p * 3];
      const mean = map.reduce((a, b) => a + b, 0) / map.length;
      st.add(i, map.map((v) => v - mean));
    });
    const out = st.finish();
    let best = 0;
    for (let i = 1; i < out.length; i++) if (out[i] > out[best]) best = i;
    // The spot's 3x3 pixels are the maxima (equal values): the first in row-major order.
    expect([Math.floor(best / W), best % W]).toEqual([cy - 1, cx - 1]);
    expect(out[cy * W + cx]).toBeCloseTo(out[best], 5);
    expect(out[(cy + 3) * W + cx]).toBeLessThan(out[best] / 2);
  });

  it('refuses a missing, repeated or misshaped tile', () => {
    const grid = tileGrid(8, 8, { tile: [4, 4], stride: [4, 4] });
    const st = new MapStitcher(grid);
    expect(() => st.add(0, new Float32Array(15))).toThrow(/4x4 values, got 15/);
    st.add(0, new Float32Array(16));
    expect(() => st.add(0, new Float32Array(16))).toThrow(/already added/);
    expect(() => st.add(4, new Float32Array(16))).toThrow(/not one of the grid's 4 tiles/);
    expect(() => st.finish()).toThrow(/3 of 4 tiles were not added/);
  });
});
