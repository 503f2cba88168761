import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { colourAt, colourBar, colourise, encodePng, maskToRgb, overlay, rangeOf } from './heatmap.js';

describe('heatmap colours', () => {
  it('runs from blue (low) to red (high)', () => {
    const [r0, , b0] = colourAt(0);
    const [r1, , b1] = colourAt(1);
    expect(b0).toBeGreaterThan(r0);
    expect(r1).toBeGreaterThan(b1);
    expect(colourAt(-5)).toEqual(colourAt(0));
    expect(colourAt(7)).toEqual(colourAt(1));
  });

  it('normalises a map by its range', () => {
    const map = Float32Array.from([2, 4, 6]);
    expect(rangeOf(map)).toEqual({ min: 2, max: 6 });
    const rgb = colourise(map);
    expect(Array.from(rgb.slice(0, 3))).toEqual(colourAt(0));
    expect(Array.from(rgb.slice(6, 9))).toEqual(colourAt(1));
  });

  it('leaves the image unchanged where the map is at its minimum and tints hot pixels', () => {
    const image = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const out = overlay(image, [0, 1], { min: 0, max: 1 });
    expect(Array.from(out.slice(0, 3))).toEqual([128, 128, 128]);
    expect(out[3]).toBeGreaterThan(out[5]);
    expect(() => overlay(image, [0], { min: 0, max: 1 })).toThrow(/pixels/);
  });

  it('encodes PNGs that decode to the same pixels', async () => {
    const h = 4;
    const w = 6;
    const rgb = colourBar(w, h);
    const png = await encodePng(rgb, h, w);
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([w, h, 3]);
    expect(Buffer.compare(data, Buffer.from(rgb))).toBe(0);
    expect(Array.from(maskToRgb(Uint8Array.from([0, 1])))).toEqual([0, 0, 0, 255, 255, 255]);
  });
});
