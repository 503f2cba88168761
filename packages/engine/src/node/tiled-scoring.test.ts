import { describe, expect, it } from 'vitest';
import { tileGrid, type RawPixels } from '@rlr/data';
import type { TileBatch, TiledImage } from '@rlr/data/node';
import type { MapScores } from '../padding-scores.js';
import { scoreTiledImage } from './tiled-scoring.js';

/** A gray image as a TiledImage (no file): value 0.2, with a bright square where asked. */
function image(H: number, W: number, tile: [number, number], stride: [number, number], spot?: { y: number; x: number; r: number }): TiledImage {
  const data = new Uint8Array(H * W).fill(51);
  if (spot) for (let y = spot.y - spot.r; y <= spot.y + spot.r; y++) for (let x = spot.x - spot.r; x <= spot.x + spot.r; x++) data[y * W + x] = 255;
  const pixels: RawPixels = { data, height: H, width: W, channels: 1, maxValue: 255 };
  const geometry = { sourceHeight: H, sourceWidth: W, resizedHeight: H, resizedWidth: W, top: 0, left: 0, height: H, width: W };
  return { sample: { path: 'synthetic.png', category: 'c', label: 1, defectType: 'spot' }, pixels, geometry, grid: tileGrid(H, W, { tile, stride }) };
}

/**
 * A stand-in for backbone + model that sees only its tile, like the real one: each tile's map is
 * the tile's red channel minus the tile's mean (a bright spot scores high wherever it falls).
 */
async function tileLocalModel(b: TileBatch): Promise<MapScores> {
  const px = b.height * b.width;
  const maps = new Float32Array(b.samples.length * px);
  for (let i = 0; i < b.samples.length; i++) {
    let mean = 0;
    for (let p = 0; p < px; p++) mean += b.images[(i * px + p) * 3] / px;
    for (let p = 0; p < px; p++) maps[i * px + p] = b.images[(i * px + p) * 3] - mean;
  }
  return { scores: new Float32Array(b.samples.length), maps, height: b.height, width: b.width };
}

describe('scoreTiledImage', () => {
  it('a constant tile map stitches to the constant, and the image score is that constant', async () => {
    const img = image(90, 130, [32, 32], [20, 24]);
    const calls: number[] = [];
    const r = await scoreTiledImage(
      img,
      async (b) => {
        calls.push(b.samples.length);
        return { scores: new Float32Array(b.samples.length), maps: new Float32Array(b.samples.length * 32 * 32).fill(0.7), height: 32, width: 32 };
      },
      5,
    );
    expect([r.height, r.width, r.tiles]).toEqual([90, 130, img.grid.tiles.length]);
    expect(calls.every((n) => n <= 5)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(img.grid.tiles.length);
    for (const v of r.map) expect(v).toBeCloseTo(0.7, 5);
    expect(r.score).toBeCloseTo(0.7, 5);
  });

  it('finds a defect in a tile overlap at its full-resolution position', async () => {
    // Tiles 32x32, stride 16: (40, 56) lies in the overlap of four tiles.
    const img = image(96, 128, [32, 32], [16, 16], { y: 40, x: 56, r: 2 });
    const covering = img.grid.tiles.filter((t) => 40 >= t.top && 40 < t.top + 32 && 56 >= t.left && 56 < t.left + 32);
    expect(covering).toHaveLength(4);
    const r = await scoreTiledImage(img, tileLocalModel, 4);
    let best = 0;
    for (let i = 1; i < r.map.length; i++) if (r.map[i] > r.map[best]) best = i;
    const [by, bx] = [Math.floor(best / r.width), best % r.width];
    expect(Math.abs(by - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(bx - 56)).toBeLessThanOrEqual(2);
    // The image score comes from the stitched map: higher than for the same image without the spot.
    const clean = await scoreTiledImage(image(96, 128, [32, 32], [16, 16]), tileLocalModel, 4);
    expect(r.score).toBeGreaterThan(clean.score + 0.01);
  });

  it('refuses maps of another size than the tiles', async () => {
    const img = image(40, 40, [32, 32], [16, 16]);
    await expect(scoreTiledImage(img, async (b) => ({ scores: new Float32Array(b.samples.length), maps: new Float32Array(b.samples.length * 256), height: 16, width: 16 }), 4)).rejects.toThrow(
      /16x16 maps for 32x32 tiles/,
    );
  });
});
