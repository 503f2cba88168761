import { describe, expect, it } from 'vitest';
import { transformGeometry } from './geometry.js';
import { toRgbFloat, transformMask } from './pixels.js';

describe('toRgbFloat', () => {
  it('replicates gray, drops alpha and scales by the bit depth', () => {
    const gray = toRgbFloat({ data: new Uint8Array([0, 255]), height: 1, width: 2, channels: 1, maxValue: 255 });
    expect([...gray]).toEqual([0, 0, 0, 1, 1, 1]);
    const grayAlpha = toRgbFloat({ data: new Uint8Array([51, 0]), height: 1, width: 1, channels: 2, maxValue: 255 });
    expect([...grayAlpha]).toEqual([0.2, 0.2, 0.2].map(Math.fround));
    const rgba = toRgbFloat({ data: new Uint8Array([255, 0, 51, 7]), height: 1, width: 1, channels: 4, maxValue: 255 });
    expect([...rgba]).toEqual([1, 0, 0.2].map(Math.fround));
    const deep = toRgbFloat({ data: new Uint16Array([65535, 0, 32768]), height: 1, width: 1, channels: 3, maxValue: 65535 });
    expect(deep[0]).toBe(1);
    expect(deep[2]).toBeCloseTo(32768 / 65535, 6);
  });
});

/** Reference nearest-neighbour resize + crop, written the slow, obvious way. */
function reference(src: Uint8Array, h: number, w: number, resize: number, crop: [number, number]) {
  const g = transformGeometry(h, w, { resize, crop });
  const out: number[] = [];
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      const sy = Math.min(h - 1, Math.floor(((y + g.top + 0.5) * h) / g.resizedHeight));
      const sx = Math.min(w - 1, Math.floor(((x + g.left + 0.5) * w) / g.resizedWidth));
      out.push(src[sy * w + sx] > 0 ? 1 : 0);
    }
  }
  return out;
}

describe('transformMask', () => {
  it('samples the nearest source pixel by pixel centres and crops like the image', () => {
    const h = 37;
    const w = 23;
    const src = new Uint8Array(h * w).map((_, i) => ((i * 7919) % 5 === 0 ? 200 : 0));
    const g = transformGeometry(h, w, { resize: 16, crop: [20, 12] });
    expect([...transformMask({ data: src, height: h, width: w, channels: 1, maxValue: 255 }, g)]).toEqual(reference(src, h, w, 16, [20, 12]));
  });

  it('binarises with > 0, whatever the foreground value or channel', () => {
    // 1 and 7 (VisA-style class ids) count as defect; an RGB mask with only blue set counts too.
    const gray = transformMask({ data: new Uint8Array([0, 1, 7, 0]), height: 2, width: 2, channels: 1, maxValue: 255 }, transformGeometry(2, 2));
    expect([...gray]).toEqual([0, 1, 1, 0]);
    const rgba = transformMask({ data: new Uint8Array([0, 0, 0, 255, 0, 0, 1, 255, 0, 0, 0, 0, 9, 0, 0, 0]), height: 2, width: 2, channels: 4, maxValue: 255 }, transformGeometry(2, 2));
    expect([...rgba]).toEqual([0, 1, 0, 1]); // alpha alone does not make a defect pixel
    const deep = transformMask({ data: new Uint16Array([0, 1]), height: 1, width: 2, channels: 1, maxValue: 65535 }, transformGeometry(1, 2));
    expect([...deep]).toEqual([0, 1]);
  });

  it('keeps a block aligned when downscaling by an integer factor', () => {
    // A 4x4 block at (8..11, 4..7) of a 16x16 mask becomes the 2x2 block at (4..5, 2..3) at half size.
    const src = new Uint8Array(256);
    for (let y = 8; y < 12; y++) for (let x = 4; x < 8; x++) src[y * 16 + x] = 255;
    const out = transformMask({ data: src, height: 16, width: 16, channels: 1, maxValue: 255 }, transformGeometry(16, 16, { resize: 8 }));
    const on: number[] = [];
    out.forEach((v, i) => v && on.push(i));
    expect(on).toEqual([4 * 8 + 2, 4 * 8 + 3, 5 * 8 + 2, 5 * 8 + 3]);
  });
});
