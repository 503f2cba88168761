import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeBmp, encodeTiff16 } from '../../test/helpers/image-writers.js';
import { errorOf } from '../../test/helpers/data-error.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { DataError } from '../errors.js';
import { transformGeometry } from '../geometry.js';
import { toRgbFloat } from '../pixels.js';
import { loadSample, readImage, readMask } from './image-transform.js';

const dir = tempDir();
const H = 6;
const W = 5;
/** Distinct 8-bit values per pixel and channel. */
const rgb8 = new Uint8Array(H * W * 3).map((_, i) => (i * 37 + 11) % 256);
const gray8 = new Uint8Array(H * W).map((_, i) => (i * 53 + 3) % 256);
const gray16 = new Uint16Array(H * W).map((_, i) => (i * 2113 + 7) % 65536);
const rgb16 = new Uint16Array(H * W * 3).map((_, i) => (i * 911 + 5) % 65536);

async function file(name: string, bytes: Uint8Array | Promise<Buffer>): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, await bytes);
  return path;
}
const raw = (data: Uint8Array | Uint16Array, channels: 1 | 3 | 4) => sharp(data, { raw: { width: W, height: H, channels } });

function expectRgb(actual: Float32Array, expected: ArrayLike<number>, channels: 1 | 3, max: number, tolerance = 1e-6) {
  expect(actual.length).toBe(H * W * 3);
  for (let i = 0; i < H * W; i++) {
    for (let c = 0; c < 3; c++) {
      const want = expected[i * channels + (channels === 1 ? 0 : c)] / max;
      expect(Math.abs(actual[3 * i + c] - want)).toBeLessThanOrEqual(tolerance);
    }
  }
}

describe('readImage decodes every supported format to RGB in [0, 1]', () => {
  it('PNG: RGB, gray (replicated) and RGBA (alpha dropped)', async () => {
    expectRgb((await readImage(await file('rgb.png', raw(rgb8, 3).png().toBuffer()))).data, rgb8, 3, 255);
    expectRgb((await readImage(await file('gray.png', raw(gray8, 1).png().toBuffer()))).data, gray8, 1, 255);
    const rgba = new Uint8Array(H * W * 4).map((_, i) => (i % 4 === 3 ? 255 : rgb8[Math.floor(i / 4) * 3 + (i % 4)]));
    expectRgb((await readImage(await file('rgba.png', raw(rgba, 4).png().toBuffer()))).data, rgb8, 3, 255);
  });

  it('PNG 16-bit keeps its precision', async () => {
    const g = await readImage(await file('gray16.png', raw(gray16, 1).toColourspace('grey16').png().toBuffer()));
    expectRgb(g.data, gray16, 1, 65535, 1e-6);
    const c = await readImage(await file('rgb16.png', raw(rgb16, 3).toColourspace('rgb16').png().toBuffer()));
    expectRgb(c.data, rgb16, 3, 65535, 1e-6);
    // 16-bit RGBA, opaque: alpha dropped, colour kept at 16 bits.
    const rgba16 = new Uint16Array(H * W * 4).map((_, i) => (i % 4 === 3 ? 65535 : rgb16[Math.floor(i / 4) * 3 + (i % 4)]));
    const a = await readImage(await file('rgba16.png', raw(rgba16, 4).toColourspace('rgb16').png().toBuffer()));
    expectRgb(a.data, rgb16, 3, 65535, 1e-6);
  });

  it('PNG gray + alpha: gray replicated, alpha dropped', async () => {
    const ga = new Uint8Array(H * W * 2).map((_, i) => (i % 2 ? 255 : gray8[i >> 1]));
    const path = await file('ga.png', sharp(ga, { raw: { width: W, height: H, channels: 2 } }).toColourspace('b-w').png().toBuffer());
    expect((await sharp(path).metadata()).channels).toBe(2);
    expectRgb((await readImage(path)).data, gray8, 1, 255);
  });

  it('TIFF 8-bit and 16-bit', async () => {
    expectRgb((await readImage(await file('rgb.tif', raw(rgb8, 3).tiff({ compression: 'lzw' }).toBuffer()))).data, rgb8, 3, 255);
    expectRgb((await readImage(await file('gray16.tiff', Promise.resolve(Buffer.from(encodeTiff16(gray16, H, W, 1)))))).data, gray16, 1, 65535);
    expectRgb((await readImage(await file('rgb16.TIF', Promise.resolve(Buffer.from(encodeTiff16(rgb16, H, W, 3)))))).data, rgb16, 3, 65535);
  });

  it('BMP 24-bit, 8-bit palette and top-down (bmp-ts, as libvips has no BMP loader)', async () => {
    const bmp = (name: string, ...args: Parameters<typeof encodeBmp>) => file(name, Promise.resolve(Buffer.from(encodeBmp(...args))));
    expectRgb((await readImage(await bmp('rgb.bmp', rgb8, H, W, 3))).data, rgb8, 3, 255);
    expectRgb((await readImage(await bmp('gray.BMP', gray8, H, W, 1))).data, gray8, 1, 255);
    expectRgb((await readImage(await bmp('down.bmp', rgb8, H, W, 3, { topDown: true }))).data, rgb8, 3, 255);
  });

  it('refuses RLE-compressed BMP with a clear message', async () => {
    const path = await file('rle.bmp', Promise.resolve(Buffer.from(encodeBmp(gray8, H, W, 1, { compression: 1 }))));
    await expect(readImage(path)).rejects.toThrow(/rle\.bmp: is an RLE-compressed BMP.*Re-save it/);
  });

  it('JPEG gray and colour (lossy: close, not exact) and lossless WebP', async () => {
    const smooth = new Uint8Array(H * W * 3).map((_, i) => 100 + (i % 3) * 20);
    const jpg = await readImage(await file('c.JPG', raw(smooth, 3).jpeg({ quality: 100 }).toBuffer()));
    expectRgb(jpg.data, smooth, 3, 255, 4 / 255);
    const flatGray = new Uint8Array(H * W).fill(77);
    const gjpg = await readImage(await file('g.jpeg', raw(flatGray, 1).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer()));
    expectRgb(gjpg.data, flatGray, 1, 255, 2 / 255);
    expectRgb((await readImage(await file('w.webp', raw(rgb8, 3).webp({ lossless: true }).toBuffer()))).data, rgb8, 3, 255);
  });
});

describe('readImage and readMask from bytes (an upload, a database blob)', () => {
  it('decode a Buffer or a Uint8Array view exactly as the same file, BMP included', async () => {
    const png = await raw(rgb8, 3).png().toBuffer();
    const path = await file('bytes.png', Promise.resolve(png));
    const fromFile = await readImage(path, { resize: 4, crop: [4, 3] });
    expect(await readImage(png, { resize: 4, crop: [4, 3] })).toEqual(fromFile);
    // A view into a larger buffer (offset bytes before and after) is read through its own window.
    const padded = new Uint8Array(png.length + 16);
    padded.set(png, 7);
    expect(await readImage(padded.subarray(7, 7 + png.length), { resize: 4, crop: [4, 3] })).toEqual(fromFile);
    const bmp = encodeBmp(rgb8, H, W, 3);
    expectRgb((await readImage(bmp)).data, rgb8, 3, 255);

    const maskPng = await sharp(new Uint8Array(H * W).map((_, i) => (i % 3 === 0 ? 255 : 0)), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
    const maskPath = await file('bytes_mask.png', Promise.resolve(maskPng));
    expect(await readMask(new Uint8Array(maskPng), { resize: 4 })).toEqual(await readMask(maskPath, { resize: 4 }));
  });

  it('name the caller\'s label in errors, with the problem and the fix as fields', async () => {
    let e = (await readImage(Buffer.from('not an image'), { label: 'upload "part-17.png"' }).catch((x: unknown) => x)) as DataError;
    expect(e).toBeInstanceOf(DataError);
    expect(e.code).toBe('corrupt');
    expect(e.subject).toBe('upload "part-17.png"');
    expect(e.problem).toMatch(/could not be decoded .*corrupt or truncated$/);
    expect(e.fix).toBe('Replace it with an intact copy, or remove it from the dataset.');
    expect(e.message).toBe(`${e.subject}: ${e.problem}. ${e.fix}`);
    e = (await readImage(await raw(rgb8, 3).gif().toBuffer()).catch((x: unknown) => x)) as DataError;
    expect(e.message).toMatch(/^image bytes: is a GIF file/);
    const mask = await sharp(new Uint8Array(16), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer();
    await expect(readMask(mask, { imageSize: [6, 5], label: 'uploaded mask' })).rejects.toThrow(/^uploaded mask: mask is 4x4/);
  });
});

describe('readImage geometry', () => {
  it('resizes the shorter side and center-crops, [height, width] for tall images', async () => {
    const tall = new Uint8Array(1263 * 500).fill(128);
    const img = await readImage(await file('tall.png', sharp(tall, { raw: { width: 500, height: 1263, channels: 1 } }).png().toBuffer()), { resize: 256, crop: [640, 256] });
    expect([img.height, img.width, img.sourceHeight, img.sourceWidth]).toEqual([640, 256, 1263, 500]);
    expect(img.data.length).toBe(640 * 256 * 3);
  });

  it('maps columns where the geometry says (horizontal ramp)', async () => {
    // Value = source column / (w - 1). Output column j samples around source column
    // (j + left + 0.5) * w / resizedWidth - 0.5 (pixel centres), as the geometry says.
    const h = 120;
    const w = 200;
    const ramp = new Uint8Array(h * w).map((_, i) => Math.round(((i % w) / (w - 1)) * 255));
    const img = await readImage(await file('ramp.png', sharp(ramp, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer()), { resize: 100, crop: 60 });
    const g = transformGeometry(h, w, { resize: 100, crop: 60 });
    expect([g.resizedWidth, g.left]).toEqual([166, 53]);
    for (const j of [0, 17, 30, 59]) {
      const expected = ((j + g.left + 0.5) * (w / g.resizedWidth) - 0.5) / (w - 1);
      expect(Math.abs(img.data[(30 * 60 + j) * 3] - expected)).toBeLessThan(2 / 255);
    }
  });

  it('antialiases: a one-pixel checkerboard shrunk 4x becomes flat gray', async () => {
    const n = 64;
    const board = new Uint8Array(n * n).map((_, i) => (((i % n) + Math.floor(i / n)) % 2 ? 255 : 0));
    const img = await readImage(await file('board.png', sharp(board, { raw: { width: n, height: n, channels: 1 } }).png().toBuffer()), { resize: 16 });
    const values = Array.from(img.data);
    expect(Math.max(...values) - Math.min(...values)).toBeLessThan(0.1);
    expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(0.5, 1);
  });

  it('keeps a mask aligned with its image after resize and crop', async () => {
    // A bright rectangle on black, and its mask: after any resize/crop the mask must cover the
    // clearly bright pixels and none of the clearly dark ones.
    const h = 300;
    const w = 410;
    const image = new Uint8Array(h * w);
    const mask = new Uint8Array(h * w);
    for (let y = 97; y < 181; y++) for (let x = 133; x < 254; x++) image[y * w + x] = mask[y * w + x] = 255;
    const imgPath = await file('rect.png', sharp(image, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer());
    const maskPath = await file('rect_mask.png', sharp(mask, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer());
    for (const options of [{ resize: 64, crop: 64 }, { resize: 129, crop: [100, 120] as [number, number] }, { resize: 500, crop: 256 }]) {
      const loaded = await loadSample({ path: imgPath, maskPath, category: 'c', label: 1, defectType: 'x' }, options);
      const m = loaded.mask!;
      expect([m.height, m.width]).toEqual([loaded.image.height, loaded.image.width]);
      const rgb = 'channels' in loaded.image ? toRgbFloat(loaded.image) : loaded.image.data;
      let disagreements = 0;
      let on = 0;
      for (let i = 0; i < m.data.length; i++) {
        const v = rgb[3 * i];
        on += m.data[i];
        if ((v > 0.75 && !m.data[i]) || (v < 0.25 && m.data[i])) disagreements++;
      }
      expect(on).toBeGreaterThan(0);
      expect(disagreements).toBe(0);
    }
  });

  it('applies EXIF orientation to images and their size check', async () => {
    const data = new Uint8Array(4 * 8).fill(200);
    // Stored 4 high x 8 wide with orientation 6 (rotate 90°): displayed 8 high x 4 wide.
    const path = await file('rot.jpg', sharp(data, { raw: { width: 8, height: 4, channels: 1 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const img = await readImage(path);
    expect([img.height, img.width]).toEqual([8, 4]);
  });
});

describe('bad image files', () => {
  it('a truncated PNG or JPEG is corrupt, naming the file', async () => {
    const png = await raw(rgb8, 3).png().toBuffer();
    const big = await sharp(new Uint8Array(300 * 300 * 3).map((_, i) => (i * 13) % 256), { raw: { width: 300, height: 300, channels: 3 } }).jpeg().toBuffer();
    for (const [name, bytes] of [
      ['cut.png', png.subarray(0, png.length - 20)],
      ['cut.jpg', big.subarray(0, big.length >> 1)],
    ] as const) {
      const path = await file(name, Promise.resolve(bytes));
      const e = await errorOf(readImage(path));
      expect(e).toBeInstanceOf(DataError);
      expect(e.code).toBe('corrupt');
      expect(e.message).toContain(path);
      expect(e.message).toMatch(/corrupt or truncated.*Replace it/);
    }
  });

  it('an empty file or text with an image name is corrupt', async () => {
    expect((await errorOf(readImage(await file('empty.png', Promise.resolve(Buffer.alloc(0)))))).code).toBe('corrupt');
    expect((await errorOf(readImage(await file('text.png', Promise.resolve(Buffer.from('not an image at all')))))).code).toBe('corrupt');
  });

  it('a GIF named .png is an unsupported format, saying what it is', async () => {
    const gif = await raw(rgb8, 3).gif().toBuffer();
    const e = await errorOf(readImage(await file('anim.png', Promise.resolve(gif))));
    expect(e.code).toBe('unsupported-format');
    expect(e.message).toMatch(/anim\.png: is a GIF file.*Convert it to PNG/);
  });

  it('a missing file is not-found', async () => {
    const e = await errorOf(readImage(join(dir, 'nope.png')));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain('nope.png');
  });

  it('a mask of another size than its image is an error naming both', async () => {
    const img = await file('a.png', raw(rgb8, 3).png().toBuffer());
    const mask = await file('a_mask.png', sharp(new Uint8Array(4 * 4), { raw: { width: 4, height: 4, channels: 1 } }).png().toBuffer());
    const e = await errorOf(loadSample({ path: img, maskPath: mask, category: 'c', label: 1, defectType: 'x' }, { resize: 4 }));
    expect(e.code).toBe('size-mismatch');
    expect(e.message).toContain(mask);
    expect(e.message).toContain(img);
    expect(e.message).toMatch(/4x4.*6x5/);
    await expect(readMask(mask, { imageSize: [6, 5] })).rejects.toThrow(/size of its image/);
  });
});

describe('--resize-mode on the Node path', () => {
  it('fit letterboxes with the ImageNet-mean padding; its mask is 0 there; the sample knows its geometry', async () => {
    // 6x5 → fit into 10x10: scale 10/6, 10x8 content, one padding column each side.
    const path = await file('fit.png', raw(rgb8, 3).png().toBuffer());
    const maskPath = await file('fit_mask.png', sharp(new Uint8Array(H * W).fill(255), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer());
    const img = await readImage(path, { crop: 10, mode: 'fit' });
    expect([img.height, img.width]).toEqual([10, 10]);
    const px = (y: number, x: number) => Array.from(img.data.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3));
    expect(px(0, 0).map((v) => Math.round(v * 255))).toEqual([124, 116, 104]);
    expect(px(9, 9).map((v) => Math.round(v * 255))).toEqual([124, 116, 104]);
    expect(px(5, 5).map((v) => Math.round(v * 255))).not.toEqual([124, 116, 104]);
    const loaded = await loadSample({ path, maskPath, category: 'c', label: 1, defectType: 'd' }, { crop: 10, mode: 'fit' });
    expect(loaded.geometry).toEqual(transformGeometry(H, W, { crop: 10, mode: 'fit' }));
    const m = loaded.mask!.data;
    expect([m[0], m[1], m[5 * 10 + 5], m[9 * 10 + 9]]).toEqual([0, 1, 1, 0]);
  });

  it('stretch fills the crop with content, ignoring the aspect ratio', async () => {
    const path = await file('stretch.png', raw(rgb8, 3).png().toBuffer());
    const img = await readImage(path, { resize: 8, crop: [4, 12], mode: 'stretch' });
    expect([img.height, img.width]).toEqual([4, 12]);
  });
});
