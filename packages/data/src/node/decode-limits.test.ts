/**
 * The pixel limit: every decoder (sharp's formats and the BMP path) refuses an image over
 * `maxImagePixels()` from its header, before decoding, with an error that says so (not "corrupt").
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { bmpDimensions, DEFAULT_MAX_IMAGE_PIXELS, maxImagePixels } from './decode.js';
import { readImage } from './image-transform.js';

/**
 * The first bytes of a 1-bit BMP of `width` x `height` (file header, BITMAPINFOHEADER, a 2-colour
 * palette) and a few rows of pixel data: enough for a decoder that trusts its header to allocate
 * the whole image (144 MP at 12,000²), cheap to write.
 */
function hugeBmpHead(width: number, height: number, rows = 4): Buffer {
  const rowBytes = Math.ceil(width / 32) * 4;
  const dataOffset = 14 + 40 + 8;
  const b = Buffer.alloc(dataOffset + rows * rowBytes, 0x55);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(dataOffset + rowBytes * height, 2); // the size it claims
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(dataOffset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26); // planes
  b.writeUInt16LE(1, 28); // bits per pixel
  b.writeUInt32LE(0, 30); // BI_RGB
  b.writeUInt32LE(rowBytes * height, 34);
  b.writeUInt32LE(2835, 38);
  b.writeUInt32LE(2835, 42);
  b.writeUInt32LE(2, 46);
  b.writeUInt32LE(0, 50);
  b.writeUInt32LE(0x00000000, 54); // palette: black, white
  b.writeUInt32LE(0x00ffffff, 58);
  return b;
}

describe('decoder pixel limit', () => {
  let dir: string;
  const before = process.env.RLR_MAX_IMAGE_PIXELS;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rlr-pixel-limit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => {
    if (before === undefined) delete process.env.RLR_MAX_IMAGE_PIXELS;
    else process.env.RLR_MAX_IMAGE_PIXELS = before;
  });

  it('reads the limit from RLR_MAX_IMAGE_PIXELS, else 100 megapixels', () => {
    expect(maxImagePixels({})).toBe(DEFAULT_MAX_IMAGE_PIXELS);
    expect(maxImagePixels({ RLR_MAX_IMAGE_PIXELS: '5000' })).toBe(5000);
    expect(maxImagePixels({ RLR_MAX_IMAGE_PIXELS: 'lots' })).toBe(DEFAULT_MAX_IMAGE_PIXELS);
    expect(bmpDimensions(hugeBmpHead(12_000, 12_000))).toEqual({ width: 12_000, height: 12_000 });
  });

  it('a 12,000² 1-bit BMP (file or bytes) is refused from its header: fast, no memory, "over the limit"', async () => {
    const path = join(dir, 'huge.bmp');
    const head = hugeBmpHead(12_000, 12_000);
    await writeFile(path, head);
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    for (const input of [path, new Uint8Array(head)]) {
      const err = await readImage(input, { resize: 64, crop: 64 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('too-large');
      expect((err as DataError).problem).toBe('is 12000 x 12000 = 144,000,000 pixels, over the limit of 100,000,000 pixels; it was not decoded');
      expect((err as DataError).fix).toMatch(/RLR_MAX_IMAGE_PIXELS/);
      expect((err as Error).message).not.toMatch(/corrupt|truncated/);
    }
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100e6); // decoding it took ~1.2 GB
  });

  it('the same limit for sharp formats (PNG here), lowered by RLR_MAX_IMAGE_PIXELS; images under it decode', async () => {
    const path = join(dir, 'plain.png');
    await writeFile(path, await sharp({ create: { width: 100, height: 80, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer());
    expect((await readImage(path, { resize: 32, crop: 32 })).width).toBe(32);
    process.env.RLR_MAX_IMAGE_PIXELS = '5000';
    await expect(readImage(path, { resize: 32, crop: 32 })).rejects.toThrow(`${path}: is 100 x 80 = 8,000 pixels, over the limit of 5,000 pixels`);
    // A small BMP under a low limit still decodes; over it, refused.
    const bmp = join(dir, 'small.bmp');
    await writeFile(bmp, hugeBmpHead(64, 64, 64));
    expect((await readImage(bmp, { resize: 32, crop: 32 })).height).toBe(32);
    process.env.RLR_MAX_IMAGE_PIXELS = '4000';
    await expect(readImage(bmp, { resize: 32, crop: 32 })).rejects.toThrow(/is 64 x 64 = 4,096 pixels, over the limit of 4,000 pixels/);
  });
});
