import { describe, expect, it } from 'vitest';
import { auroc } from './auroc.js';
import { averagePrecision } from './average-precision.js';
import { f1Max } from './f1-max.js';
import { PixelMetricsAccumulator, pixelMetrics } from './pixel-metrics.js';

/** A deterministic little set: `images` maps of 8x8 with a square defect in every other image. */
function makeSet(images: number): { maps: Float32Array; masks: Uint8Array } {
  const hw = 64;
  const maps = new Float32Array(images * hw);
  const masks = new Uint8Array(images * hw);
  let s = 12345;
  for (let i = 0; i < maps.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    maps[i] = (s >>> 8) / 2 ** 24;
  }
  for (let b = 1; b < images; b += 2) {
    for (let y = 2; y < 2 + b % 5; y++) {
      for (let x = 3; x < 6; x++) {
        masks[b * hw + y * 8 + x] = 1;
        maps[b * hw + y * 8 + x] += 0.5;
      }
    }
  }
  return { maps, masks };
}

const geometry = { height: 8, width: 8 };

describe('pixel metrics', () => {
  const { maps, masks } = makeSet(10);

  it('AUROC, AP and F1-max equal the score-level functions over the flattened pixels', () => {
    const m = pixelMetrics(maps, masks, geometry);
    expect(m.auroc).toBe(auroc(masks, maps));
    expect(m.ap).toBe(averagePrecision(masks, maps));
    const f1 = f1Max(masks, maps);
    expect([m.f1Max, m.threshold]).toEqual([f1.f1, f1.threshold]);
    expect(m.aupro).toBeGreaterThan(0);
    expect(m.aupro).toBeLessThanOrEqual(1);
  });

  it('gives identical results whether the set arrives in one batch or image by image', () => {
    const whole = pixelMetrics(maps, masks, geometry);
    const acc = new PixelMetricsAccumulator(geometry);
    for (let b = 0; b < 10; b++) acc.add(maps.subarray(b * 64, (b + 1) * 64), masks.subarray(b * 64, (b + 1) * 64));
    expect(acc.images).toBe(10);
    expect(acc.normalPixels + acc.anomalousPixels).toBe(640);
    expect(acc.compute()).toEqual(whole);
  });

  it('reads plain-number maps at float32 precision (same result as the Float32Array)', () => {
    expect(pixelMetrics(Array.from(maps), Array.from(masks), geometry)).toEqual(pixelMetrics(maps, masks, geometry));
  });

  it('can compute again (e.g. for curves) without re-adding, and closes add()', () => {
    const acc = new PixelMetricsAccumulator(geometry).add(maps, masks);
    const first = acc.compute();
    const withCurves = acc.compute({ curvePoints: 16 });
    expect({ ...withCurves, curves: undefined }).toEqual({ ...first, curves: undefined });
    const { roc, pr } = withCurves.curves as NonNullable<typeof withCurves.curves>;
    expect(roc.fpr.length).toBeLessThanOrEqual(16);
    expect(pr.recall.length).toBe(roc.fpr.length);
    expect([roc.fpr[roc.fpr.length - 1], roc.tpr[roc.tpr.length - 1]]).toEqual([1, 1]);
    expect(() => acc.add(maps, masks)).toThrow(/add\(\) after compute\(\)/);
  });

  describe('bad input', () => {
    it('names the image, row and column of a NaN or infinite map value', () => {
      const bad = maps.slice();
      bad[3 * 64 + 2 * 8 + 5] = Number.NaN;
      expect(() => pixelMetrics(bad, masks, { ...geometry, name: 'category "screw" pixel maps' })).toThrow(
        /category "screw" pixel maps: score at image 3 \(0-based, in order added\), row 2, column 5 is NaN/,
      );
      bad[3 * 64 + 2 * 8 + 5] = Number.POSITIVE_INFINITY;
      expect(() => pixelMetrics(bad, masks, geometry)).toThrow(/row 2, column 5 is Infinity/);
    });

    it('rejects mask values other than 0/1 and says to binarise', () => {
      const bad = masks.slice();
      bad[70] = 255;
      expect(() => pixelMetrics(maps, bad, geometry)).toThrow(/mask value 255 at image 1 .*row 0, column 6; masks must be 0 or 1 — binarise/);
    });

    it('refuses to go on after a failed add (the set would be incomplete)', () => {
      const acc = new PixelMetricsAccumulator(geometry);
      const bad = maps.slice();
      bad[100] = Number.NaN;
      expect(() => acc.add(bad, masks)).toThrow(/NaN/);
      expect(() => acc.add(maps, masks)).toThrow(/previous add\(\) failed/);
      expect(() => acc.compute()).toThrow(/previous add\(\) failed/);
    });

    it('rejects size mismatches, naming the sizes', () => {
      expect(() => pixelMetrics(maps, masks.subarray(0, 64), geometry)).toThrow(/maps have 640 values but masks 64/);
      expect(() => pixelMetrics(maps.subarray(0, 60), masks.subarray(0, 60), geometry)).toThrow(
        /60 map values is not a whole number of 8 x 8 images/,
      );
      expect(() => new PixelMetricsAccumulator({ height: 0, width: 8 })).toThrow(/height must be a positive integer/);
    });

    it('refuses empty masks (pixel metrics undefined) and an empty set', () => {
      expect(() => pixelMetrics(maps, new Uint8Array(640), geometry)).toThrow(
        /masks of all 10 images are empty .*check that the ground-truth masks were loaded/,
      );
      expect(() => new PixelMetricsAccumulator(geometry).compute()).toThrow(/no images were added/);
    });
  });
});
