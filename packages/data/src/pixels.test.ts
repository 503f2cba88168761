import { describe, expect, it } from 'vitest';
import { PAD_RGB, transformGeometry } from './geometry.js';
import { fillPadding, mapToSource, placeInWindow, toRgbFloat, transformMask } from './pixels.js';

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

describe('fit padding (placeInWindow, fillPadding, transformMask)', () => {
  const g = transformGeometry(2, 4, { crop: [4, 4], mode: 'fit' }); // 2x4 → content rows 1..2 of 4

  it('places the scaled image in its window and pads with the ImageNet mean', () => {
    const resized = { data: Uint8Array.from({ length: 2 * 4 * 3 }, (_, i) => i), height: 2, width: 4, channels: 3 as const, maxValue: 255 };
    const out = placeInWindow(resized, g);
    expect([out.height, out.width]).toEqual([4, 4]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual(PAD_RGB.map((v) => Math.round(v * 255)));
    expect(Array.from(out.data.subarray(4 * 3, 4 * 3 + 6))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(out.data.subarray(3 * 4 * 3, 3 * 4 * 3 + 3))).toEqual([124, 116, 104]);
  });

  it('fills only the padding of a canvas-size image, in place', () => {
    const rgba = { data: new Uint8ClampedArray(4 * 4 * 4), height: 4, width: 4, channels: 4 as const, maxValue: 255 };
    fillPadding(rgba, g);
    expect(Array.from(rgba.data.subarray(0, 4))).toEqual([124, 116, 104, 255]);
    expect(Array.from(rgba.data.subarray(4 * 4, 4 * 4 + 4))).toEqual([0, 0, 0, 0]);
  });

  it('masks are 0 in the padding', () => {
    const mask = { data: new Uint8Array(2 * 4).fill(255), height: 2, width: 4, channels: 1 as const, maxValue: 255 };
    expect(Array.from(transformMask(mask, g))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});

describe('mapToSource', () => {
  it('crop: the map lands on the cropped region, the dropped borders get the outside value', () => {
    const g = transformGeometry(4, 8, { crop: [4, 4] }); // columns 2..5 of the source are kept
    const map = Float32Array.from({ length: 16 }, (_, i) => i % 4); // value = output column
    const src = mapToSource(map, g, -1);
    expect(Array.from(src.subarray(0, 8))).toEqual([-1, -1, 0, 1, 2, 3, -1, -1]);
  });

  it('fit: never samples the padding and covers the whole source', () => {
    const g = transformGeometry(2, 4, { crop: [4, 4], mode: 'fit' });
    const map = new Float32Array(16).fill(9);
    map.fill(1, 4, 12); // content rows 1 and 2
    expect(Array.from(mapToSource(map, g))).toEqual(new Array(8).fill(1));
  });

  it('stretch: upsamples back to the source size', () => {
    const g = transformGeometry(4, 4, { crop: [2, 2], mode: 'stretch' });
    const src = mapToSource(Float32Array.from([0, 1, 0, 1]), g);
    expect(Array.from(src.subarray(0, 4))).toEqual([0, 0.25, 0.75, 1]);
  });
});
