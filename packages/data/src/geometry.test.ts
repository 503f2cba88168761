import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataError } from './errors.js';
import { contentWindow, cropShape, keptFraction, resizedShape, roundHalfToEven, sourceRegion, transformGeometry } from './geometry.js';

describe('resizedShape (torchvision Resize(int))', () => {
  it('sets the shorter side to the target and floors the longer one', () => {
    expect(resizedShape(1263, 500, 256)).toEqual([646, 256]); // 256 * 1263 / 500 = 646.66
    expect(resizedShape(900, 1200, 256)).toEqual([256, 341]); // 256 * 1200 / 900 = 341.33
    expect(resizedShape(1024, 1024, 256)).toEqual([256, 256]);
    expect(resizedShape(100, 50, 256)).toEqual([512, 256]); // upscaling too
  });

  it('rejects a resize that is not a positive integer, naming the setting', () => {
    expect(() => resizedShape(10, 10, 0)).toThrow(/resize: must be a positive integer/);
    expect(() => resizedShape(10, 10, 2.5)).toThrow(DataError);
  });
});

describe('roundHalfToEven', () => {
  it('matches Python round on halves', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfToEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });
});

describe('transformGeometry', () => {
  it('center-crops after the resize with torchvision offsets', () => {
    const g = transformGeometry(1263, 500, { resize: 256, crop: [640, 256] });
    expect(g).toMatchObject({ resizedHeight: 646, resizedWidth: 256, top: 3, left: 0, height: 640, width: 256 });
    // 257 - 256 = 1 → offset round(0.5) = 0; 259 - 256 = 3 → round(1.5) = 2
    expect(transformGeometry(257, 300, { crop: 256 }).top).toBe(0);
    expect(transformGeometry(259, 300, { crop: 256 }).top).toBe(2);
  });

  it('a square crop of a square resize is the identity window', () => {
    expect(transformGeometry(1024, 1024, { resize: 256, crop: 256 })).toMatchObject({ resizedHeight: 256, top: 0, left: 0, height: 256, width: 256 });
  });

  it('scales up just enough when the resized image is smaller than the crop', () => {
    // KolektorSDD's shortest images: 1240 x 500 → 634 x 256 after resize 256, less than 640.
    const g = transformGeometry(1240, 500, { resize: 256, crop: [640, 256] });
    expect(g.resizedHeight).toBe(640);
    expect(g.resizedWidth).toBeGreaterThanOrEqual(256);
    expect(g.top).toBe(0);
  });

  it('without options keeps the image as it is', () => {
    expect(transformGeometry(30, 40)).toMatchObject({ resizedHeight: 30, resizedWidth: 40, top: 0, left: 0, height: 30, width: 40 });
  });

  it('always yields a crop window inside the resized image', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.option(fc.integer({ min: 1, max: 1024 }), { nil: undefined }),
        fc.option(fc.tuple(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 1, max: 1024 })), { nil: undefined }),
        (h, w, resize, crop) => {
          const g = transformGeometry(h, w, { resize, crop });
          const [ch, cw] = crop ?? [g.resizedHeight, g.resizedWidth];
          expect([g.height, g.width]).toEqual([ch, cw]);
          expect(g.top).toBeGreaterThanOrEqual(0);
          expect(g.left).toBeGreaterThanOrEqual(0);
          expect(g.top + g.height).toBeLessThanOrEqual(g.resizedHeight);
          expect(g.left + g.width).toBeLessThanOrEqual(g.resizedWidth);
          if (resize !== undefined && crop === undefined) expect(Math.min(g.resizedHeight, g.resizedWidth)).toBe(resize);
        },
      ),
    );
  });

  it('names the setting at fault', () => {
    expect(() => cropShape([0, 10])).toThrow(/crop height/);
    expect(() => transformGeometry(0, 10)).toThrow(/image height/);
  });
});

describe('resize modes (--resize-mode)', () => {
  it('crop: the default; the source region is the centre window in source pixels', () => {
    const g = transformGeometry(300, 400, { resize: 150, crop: 150 });
    expect(g).toMatchObject({ resizedHeight: 150, resizedWidth: 200, top: 0, left: 25 });
    expect(contentWindow(g)).toEqual({ top: 0, left: 0, height: 150, width: 150 });
    expect(sourceRegion(g)).toEqual({ top: 0, left: 50, height: 300, width: 300 });
    expect(keptFraction(g)).toBeCloseTo(0.75, 6);
    expect(transformGeometry(300, 400, { resize: 150, crop: 150, mode: 'crop' })).toEqual(g);
  });

  it('fit: letterboxes the whole image inside the crop, padding centred', () => {
    const g = transformGeometry(300, 400, { resize: 999, crop: [100, 100], mode: 'fit' });
    expect(g).toMatchObject({ resizedHeight: 75, resizedWidth: 100, top: -12, left: 0, height: 100, width: 100 });
    expect(contentWindow(g)).toEqual({ top: 12, left: 0, height: 75, width: 100 });
    expect(sourceRegion(g)).toEqual({ top: 0, left: 0, height: 300, width: 400 });
    expect(keptFraction(g)).toBe(1);
    // A tall image pads left and right.
    expect(contentWindow(transformGeometry(400, 100, { crop: [100, 100], mode: 'fit' }))).toEqual({ top: 0, left: 37, height: 100, width: 25 }); // floor(75 / 2) before, 38 after;
  });

  it('stretch: resizes to the crop exactly, ignoring the aspect ratio', () => {
    const g = transformGeometry(300, 400, { resize: 150, crop: [64, 128], mode: 'stretch' });
    expect(g).toMatchObject({ resizedHeight: 64, resizedWidth: 128, top: 0, left: 0 });
    expect(sourceRegion(g)).toEqual({ top: 0, left: 0, height: 300, width: 400 });
  });

  it('refuses an unknown mode, naming --resize-mode', () => {
    expect(() => transformGeometry(10, 10, { crop: 8, mode: 'pad' as never })).toThrow(/^--resize-mode: "pad" is not a resize mode. Use one of crop, fit, stretch/);
  });

  it('fit keeps every source pixel and never exceeds the crop (any size)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 8, max: 512 }), fc.integer({ min: 8, max: 512 }), (h, w, ch, cw) => {
        const g = transformGeometry(h, w, { crop: [ch, cw], mode: 'fit' });
        const c = contentWindow(g);
        expect(c.top + c.height).toBeLessThanOrEqual(ch);
        expect(c.left + c.width).toBeLessThanOrEqual(cw);
        expect(c.height === ch || c.width === cw || g.resizedHeight === 1 || g.resizedWidth === 1).toBe(true);
        expect(sourceRegion(g)).toEqual({ top: 0, left: 0, height: h, width: w });
      }),
    );
  });
});

describe('scale (--tile-scale)', () => {
  it('scales both sides and keeps the whole image', () => {
    expect(transformGeometry(3000, 4000, { scale: 0.5 })).toEqual({ sourceHeight: 3000, sourceWidth: 4000, resizedHeight: 1500, resizedWidth: 2000, top: 0, left: 0, height: 1500, width: 2000 });
    expect(transformGeometry(3, 5, { scale: 1 })).toMatchObject({ height: 3, width: 5 });
  });

  it('refuses a scale that is not positive, naming --tile-scale', () => {
    expect(() => transformGeometry(10, 10, { scale: 0 })).toThrow(/^--tile-scale: must be a positive number/);
  });
});
