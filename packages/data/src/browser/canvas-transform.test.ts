import { describe, expect, it } from 'vitest';
import { transformGeometry } from '../geometry.js';
import { transformMask } from '../pixels.js';
import { imageFromSource, maskFromSource, type Canvas2D, type ImageSourceLike } from './canvas-transform.js';

/**
 * A stand-in for a 2-D canvas: `drawImage` resamples an RGBA source with nearest-neighbour
 * (enough to check where things land) and records how it was called.
 */
function fakeCanvas(source: { data: Uint8ClampedArray; width: number; height: number }, calls: unknown[]) {
  return (width: number, height: number): Canvas2D => {
    const pixels = new Uint8ClampedArray(width * height * 4);
    const ctx: Canvas2D = {
      imageSmoothingEnabled: true,
      imageSmoothingQuality: 'low',
      drawImage(_img, dx, dy, dw, dh) {
        calls.push({ canvas: [width, height], draw: [dx, dy, dw, dh], smoothing: ctx.imageSmoothingEnabled, quality: ctx.imageSmoothingQuality });
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const sx = Math.floor(((x - dx + 0.5) * source.width) / dw);
            const sy = Math.floor(((y - dy + 0.5) * source.height) / dh);
            if (sx < 0 || sy < 0 || sx >= source.width || sy >= source.height) continue;
            pixels.set(source.data.subarray(4 * (sy * source.width + sx), 4 * (sy * source.width + sx) + 4), 4 * (y * width + x));
          }
        }
      },
      getImageData: (sx, sy, sw, sh) => {
        expect([sx, sy, sw, sh]).toEqual([0, 0, width, height]);
        return { data: pixels };
      },
    };
    return ctx;
  };
}

const H = 30;
const W = 50;
/** An RGBA source whose red channel encodes the column and green the row. */
const source = { width: W, height: H, data: new Uint8ClampedArray(H * W * 4).map((_, i) => [(i >> 2) % W, Math.floor((i >> 2) / W), 100, 255][i % 4]) };
const bitmap = { width: W, height: H } as unknown as ImageSourceLike;

describe('browser path (canvas)', () => {
  it('draws the resized image shifted by the crop offset, smoothing on, and returns RGB floats', () => {
    const calls: unknown[] = [];
    const img = imageFromSource(bitmap, { resize: 20, crop: [16, 24], canvas: fakeCanvas(source, calls) });
    const g = transformGeometry(H, W, { resize: 20, crop: [16, 24] });
    expect(calls).toEqual([{ canvas: [24, 16], draw: [-g.left, -g.top, g.resizedWidth, g.resizedHeight], smoothing: true, quality: 'high' }]);
    expect([img.height, img.width, img.data.length]).toEqual([16, 24, 16 * 24 * 3]);
    // Output pixel (0, 0) shows source column floor((left + 0.5) * W / resizedWidth); blue is constant.
    expect(img.data[0] * 255).toBeCloseTo(Math.floor(((g.left + 0.5) * W) / g.resizedWidth), 4);
    expect(img.data[2] * 255).toBeCloseTo(100, 4);
  });

  it('builds masks with the shared nearest-neighbour transform, identical to the Node path', () => {
    const calls: unknown[] = [];
    const maskPixels = new Uint8ClampedArray(H * W * 4);
    for (let i = 0; i < H * W; i++) if ((i * 7) % 11 < 3) maskPixels.set([255, 255, 255, 255], 4 * i);
    const options = { resize: 20, crop: [16, 24] as [number, number] };
    const mask = maskFromSource(bitmap, { ...options, canvas: fakeCanvas({ ...source, data: maskPixels }, calls) });
    expect(calls).toEqual([{ canvas: [W, H], draw: [0, 0, W, H], smoothing: false, quality: 'low' }]);
    const expected = transformMask({ data: maskPixels, height: H, width: W, channels: 4, maxValue: 255 }, transformGeometry(H, W, options));
    expect([...mask.data]).toEqual([...expected]);
    expect(mask.data.some((v) => v === 1)).toBe(true);
  });

  it('says what is missing when there is no canvas at all (plain Node)', () => {
    expect(() => imageFromSource(bitmap, { resize: 10 })).toThrow(/needs OffscreenCanvas or a DOM; in Node use @rlr\/data\/node/);
  });
});
