import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import type { Sample } from '../types.js';
import { countTiles, readTiledImage, tileBatches, tileBatchesOf } from './tile-stream.js';

const dir = tempDir();
let a: Sample;
let b: Sample;
const H = 20;
const W = 30;

beforeAll(async () => {
  // Pixel value = column index, so a tile's first pixel tells where it came from.
  const px = new Uint8Array(H * W).map((_, i) => i % W);
  const mask = new Uint8Array(H * W);
  mask[5 * W + 17] = 255;
  await sharp(px, { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(dir, 'a.png'));
  await sharp(mask, { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(dir, 'a_mask.png'));
  await sharp(px, { raw: { width: W, height: H, channels: 1 } }).resize(15, 10).png().toFile(join(dir, 'b.png'));
  a = { path: join(dir, 'a.png'), maskPath: join(dir, 'a_mask.png'), category: 'c', label: 1, defectType: 'd' };
  b = { path: join(dir, 'b.png'), category: 'c', label: 0, defectType: 'good' };
});

describe('tile streams', () => {
  const o = { tile: [10, 10] as const, stride: [5, 10] as const };

  it('reads an image at native scale with its grid and mask, and cuts its tiles in batches', async () => {
    const img = await readTiledImage(a, o);
    expect([img.pixels.height, img.pixels.width]).toEqual([H, W]);
    expect(img.grid.rows).toEqual([0, 5, 10]);
    expect(img.grid.cols).toEqual([0, 10, 20]);
    const got = [...tileBatchesOf(img, 4)];
    expect(got.map((t) => t.samples.length)).toEqual([4, 4, 1]);
    // Tile 5 (row 5, column 20): its first pixel is column 20; the mask pixel (5, 17) is in tile 4.
    expect(got[1].images[(5 - 4) * 100 * 3]).toBeCloseTo(20 / 255, 6);
    expect(got[1].masks[0 * 100 + 0 * 10 + 7]).toBe(1);
    expect(got[1].tiles[0]).toEqual({ top: 5, left: 10, height: 10, width: 10 });
  });

  it('names the image that is smaller than a tile at the scale', async () => {
    await expect(readTiledImage(b, { ...o, scale: 0.5 })).rejects.toThrow(/b\.png: is 10x15 px \(5x8 at --tile-scale 0.5\), smaller than the --tile 10x10/);
    await expect(countTiles([a, b], { ...o, scale: 0.5 })).rejects.toThrow(/b\.png: is 10x15 px/);
    expect(await countTiles([a], { ...o, scale: 0.5 })).toEqual([2]);
  });

  it('streams every tile of every image in batches across image boundaries; counts match', async () => {
    const counts = await countTiles([a, b], o);
    expect(counts).toEqual([9, 2]);
    const sizes: number[] = [];
    const from: string[] = [];
    for await (const t of tileBatches([a, b], { ...o, batchSize: 4 })) {
      sizes.push(t.samples.length);
      from.push(...t.samples.map((s) => s.path));
      expect(t.images.length).toBe(t.samples.length * 300);
    }
    expect(sizes).toEqual([4, 4, 3]);
    expect(from.filter((p) => p === b.path)).toHaveLength(2);
  });
});
