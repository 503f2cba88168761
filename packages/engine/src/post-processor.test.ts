import { describe, expect, it } from 'vitest';
import { PostProcessor, quantile } from './post-processor.js';

describe('quantile', () => {
  it('interpolates linearly between order statistics (NumPy default)', () => {
    expect(quantile([3, 1, 2, 4], 0)).toBe(1);
    expect(quantile([3, 1, 2, 4], 1)).toBe(4);
    expect(quantile([3, 1, 2, 4], 0.5)).toBeCloseTo(2.5, 12);
    // position 0.9 · 4 = 3.6 between 40 and 50
    expect(quantile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46, 12);
  });

  it('refuses no values and quantiles outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(/at least one validation image/);
    expect(() => quantile([1], 1.5)).toThrow(/outside \[0, 1\]/);
  });
});

describe('PostProcessor from validation normals', () => {
  const normals = Array.from({ length: 101 }, (_, i) => 1 + i / 100); // 1.00 … 2.00

  it('puts the image threshold at the quantile of the normal scores', () => {
    const pp = PostProcessor.fromNormals(normals, undefined, { quantile: 0.9 });
    expect(pp.imageThreshold).toBeCloseTo(1.9, 12);
    expect(pp.state.source).toBe('validation-normals');
    expect(pp.state.image.min).toBe(1);
    expect(pp.state.image.max).toBe(2);
    expect(pp.state.pixel).toBeNull();
    expect(pp.label(1.95)).toBe(1);
    expect(pp.label(1.85)).toBe(0);
  });

  it('moves the threshold by the sensitivity: higher flags more', () => {
    const base = PostProcessor.fromNormals(normals, undefined, { quantile: 0.9 }).imageThreshold;
    const high = PostProcessor.fromNormals(normals, undefined, { quantile: 0.9, sensitivity: 0.7 }).imageThreshold;
    const low = PostProcessor.fromNormals(normals, undefined, { quantile: 0.9, sensitivity: 0.2 }).imageThreshold;
    // range max − min = 1: 0.2 · 1 down, 0.3 · 1 up
    expect(high).toBeCloseTo(base - 0.2, 12);
    expect(low).toBeCloseTo(base + 0.3, 12);
    expect(() => PostProcessor.fromNormals(normals, undefined, { sensitivity: 1.5 })).toThrow(/sensitivity 1.5/);
    expect(() => PostProcessor.fromNormals(normals, undefined, { quantile: 0 })).toThrow(/quantile 0/);
  });

  it('fits the pixel threshold on the largest map value of each normal', () => {
    // 4 images of 3 pixels; maxima 0.5, 0.6, 0.7, 0.8
    const maps = Float32Array.from([0.1, 0.5, 0.2, 0.6, 0.0, 0.1, 0.3, 0.7, 0.2, 0.1, 0.8, 0.4]);
    const pp = PostProcessor.fromNormals([1, 2, 3, 4], maps, { quantile: 1 });
    expect(pp.pixelThreshold).toBeCloseTo(0.8, 6);
    expect(Array.from(pp.mask(Float32Array.from([0.79, 0.8, 0.9])))).toEqual([0, 1, 1]);
  });

  it('refuses non-finite scores', () => {
    expect(() => PostProcessor.fromNormals([1, Number.NaN])).toThrow(/not finite/);
  });
});

describe('PostProcessor from a labelled validation set', () => {
  it('takes the F1-max threshold of images and of pixels', () => {
    const labels = [0, 0, 0, 1, 1];
    const scores = [0.1, 0.2, 0.5, 0.45, 0.9];
    const pp = PostProcessor.fromLabelled({ labels, scores });
    // thresholds 0.45 (P=2/3,R=1 → F1 .8) beats 0.9 (F1 .667) and 0.5 (1/2,1/2)
    expect(pp.imageThreshold).toBe(0.45);
    expect(pp.state.source).toBe('validation-labelled');
    const maps = Float32Array.from([0.1, 0.2, 0.9, 0.8]);
    const masks = Uint8Array.from([0, 0, 1, 1]);
    const withPixels = PostProcessor.fromLabelled({ labels: [0, 1], scores: [0.2, 0.9], maps, masks });
    expect(withPixels.pixelThreshold).toBeCloseTo(0.8, 6);
  });
});

describe('normalisation', () => {
  const pp = PostProcessor.fromNormals([0, 1, 2, 3, 4], undefined, { quantile: 0.5 }); // threshold 2, range 4

  it('maps the threshold to exactly 0.5 and is monotone', () => {
    expect(pp.normalizeScore(pp.imageThreshold)).toBe(0.5);
    expect(pp.normalizeScore(3)).toBeCloseTo(0.75, 12);
    expect(pp.normalizeScore(1)).toBeCloseTo(0.25, 12);
    expect(pp.normalizeScore(2.5)).toBeGreaterThan(pp.normalizeScore(2.4));
  });

  it('clamps to [0, 1]', () => {
    expect(pp.normalizeScore(100)).toBe(1);
    expect(pp.normalizeScore(-100)).toBe(0);
    expect(Array.from(pp.normalizeMap(Float32Array.from([-5, 2, 50])))).toEqual([0, 0.5, 1]);
  });

  it('keeps 0.5 at the threshold when all normals scored the same', () => {
    const flat = PostProcessor.fromNormals([2, 2, 2]);
    expect(flat.normalizeScore(2)).toBe(0.5);
    expect(flat.normalizeScore(2.1)).toBe(1);
    expect(flat.normalizeScore(1.9)).toBe(0);
  });
});

describe('persistence', () => {
  it('round-trips through JSON and refuses a damaged file naming it', () => {
    const pp = PostProcessor.fromNormals([1, 2, 3], Float32Array.from([1, 2, 3]));
    const back = PostProcessor.fromJSON(JSON.parse(JSON.stringify(pp.toJSON())));
    expect(back.state).toEqual(pp.state);
    expect(() => PostProcessor.fromJSON({ version: 1, image: { threshold: 'x' } }, '/m/postprocessor.json')).toThrow(/\/m\/postprocessor.json is not a post-processor file/);
  });
});
