import { describe, expect, it } from 'vitest';
import { CategoryEvaluator } from './category-evaluator.js';
import {
  evaluateCategories,
  evaluateCategoriesAsync,
  evaluateCategory,
  summarizeCategories,
  type CategoryInput,
} from './evaluate-categories.js';
import { imageMetrics } from './image-metrics.js';
import { pixelMetrics } from './pixel-metrics.js';

const H = 6;
const W = 7;

interface TestCategory extends CategoryInput {
  labels: Uint8Array;
  scores: Float32Array;
}

/** A category of `n` images, every third anomalous with a defect whose map response is `strength`. */
function category(name: string, n: number, strength: number, withMasks = true): TestCategory {
  const hw = H * W;
  const labels = new Uint8Array(n);
  const scores = new Float32Array(n);
  const maps = new Float32Array(n * hw);
  const masks = new Uint8Array(n * hw);
  let s = name.length * 7919 + n;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 2 ** 24;
  };
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) maps[b * hw + p] = rand();
    if (b % 3 === 1) {
      labels[b] = 1;
      for (let p = 8; p < 8 + (b % 4) + 2; p++) {
        masks[b * hw + p] = 1;
        maps[b * hw + p] += strength * rand();
      }
    }
    let max = 0;
    for (let p = 0; p < hw; p++) max = Math.max(max, maps[b * hw + p]);
    scores[b] = max;
  }
  return withMasks
    ? { category: name, labels, scores, maps, masks, height: H, width: W }
    : { category: name, labels, scores };
}

describe('evaluateCategories', () => {
  const bottle = category('bottle', 12, 1.5);
  const cable = category('cable', 15, 0.6);

  it('reports per category image and pixel metrics equal to the single-set functions, and their means', () => {
    const report = evaluateCategories([bottle, cable]);
    expect(Object.keys(report.categories)).toEqual(['bottle', 'cable']);
    for (const c of [bottle, cable]) {
      const r = report.categories[c.category];
      const img = imageMetrics(c.labels, c.scores);
      expect(r.image).toEqual({ auroc: img.auroc, ap: img.ap, f1Max: img.f1Max, threshold: img.threshold });
      expect(r.pixel).toEqual(pixelMetrics(c.maps as Float32Array, c.masks as Uint8Array, { height: H, width: W }));
      expect(r.counts).toEqual({ normal: c.labels.length - r.counts.anomalous, anomalous: Math.floor((c.labels.length + 1) / 3) });
      expect(r.curves).toBeUndefined();
    }
    const b = report.categories.bottle;
    const c = report.categories.cable;
    expect(report.mean.image).toEqual({
      auroc: (b.image.auroc + c.image.auroc) / 2,
      ap: (b.image.ap + c.image.ap) / 2,
      f1Max: (b.image.f1Max + c.image.f1Max) / 2,
    });
    expect(report.mean.pixel?.aupro).toBe(((b.pixel?.aupro ?? 0) + (c.pixel?.aupro ?? 0)) / 2);
    expect(report.mean.pixel?.auroc).toBe(((b.pixel?.auroc ?? 0) + (c.pixel?.auroc ?? 0)) / 2);
  });

  it('gives pixel null for a category without masks, and then no pixel mean', () => {
    const report = evaluateCategories([bottle, category('folder', 9, 1, false)]);
    expect(report.categories.folder.pixel).toBeNull();
    expect(report.categories.bottle.pixel).not.toBeNull();
    expect(report.mean.pixel).toBeNull();
    expect(report.mean.image.auroc).toBeGreaterThan(0);
  });

  it('takes categories from a generator one at a time (stops at the first bad one)', () => {
    const requested: string[] = [];
    function* inputs(): Generator<CategoryInput> {
      for (const name of ['a', 'b', 'c']) {
        requested.push(name);
        const c = category(name, 9, 1);
        yield name === 'b' ? { ...c, labels: new Uint8Array(9) } : c; // b: no anomalous image
      }
    }
    expect(() => evaluateCategories(inputs())).toThrow(
      /category "b" image scores: AUROC is undefined with no anomalous samples \(9 normal, 0 anomalous\)/,
    );
    expect(requested).toEqual(['a', 'b']);
  });

  it('keeps any category name as a key, even "__proto__"', () => {
    const report = evaluateCategories([{ ...bottle, category: '__proto__' }]);
    expect(Object.keys(report.categories)).toEqual(['__proto__']);
    expect(report.mean.image.auroc).toBe(report.categories['__proto__'].image.auroc);
  });

  it('accepts an async source with the same result', async () => {
    async function* inputs(): AsyncGenerator<CategoryInput> {
      yield bottle;
      yield cable;
    }
    expect(await evaluateCategoriesAsync(inputs())).toEqual(evaluateCategories([bottle, cable]));
  });

  it('returns thinned image and pixel curves when asked', () => {
    const r = evaluateCategory(bottle, { curvePoints: 8 });
    expect(r.curves?.image.roc.fpr.length).toBeLessThanOrEqual(8);
    expect(r.curves?.pixel?.pr.precision.length).toBeLessThanOrEqual(8);
    expect(r.curves?.pixel?.roc.tpr[0]).toBe(0);
  });

  it('names the category at fault for every kind of bad input', () => {
    expect(() => evaluateCategories([bottle, bottle])).toThrow(/category "bottle" was given twice/);
    expect(() => evaluateCategories([])).toThrow(/no categories were given/);
    expect(() => evaluateCategories([{ ...bottle, masks: new Uint8Array(bottle.masks?.length ?? 0) }])).toThrow(
      /category "bottle" pixel maps: the masks of all 12 images are empty/,
    );
    expect(() => evaluateCategories([{ ...bottle, scores: bottle.scores.slice(1) }])).toThrow(
      /category "bottle" batch 0 image labels\/scores: 12 labels but 11 scores/,
    );
    const nan = Float32Array.from(bottle.scores);
    nan[4] = Number.NaN;
    expect(() => evaluateCategories([{ ...bottle, scores: nan }])).toThrow(/category "bottle" batch 0 image scores: score at index 4 is NaN/);
    expect(() => evaluateCategories([{ ...bottle, height: undefined }])).toThrow(/category "bottle": masks were given but not height and width/);
    expect(() => evaluateCategories([{ ...bottle, maps: undefined }])).toThrow(/category "bottle" batch 0: masks were given without maps/);
    expect(() => evaluateCategories([{ ...bottle, width: 6 }])).toThrow(/category "bottle" batch 0: 12 images need 432 map and mask values/);
  });
});

describe('CategoryEvaluator', () => {
  const bottle = category('bottle', 12, 1.5);

  it('gives the same result batch by batch as for the whole category', () => {
    const hw = H * W;
    const ev = new CategoryEvaluator('bottle', { height: H, width: W });
    for (let b = 0; b < 12; b += 5) {
      const e = Math.min(12, b + 5);
      ev.add({
        labels: bottle.labels.slice(b, e),
        scores: bottle.scores.slice(b, e),
        maps: (bottle.maps as Float32Array).slice(b * hw, e * hw),
        masks: (bottle.masks as Uint8Array).slice(b * hw, e * hw),
      });
    }
    expect(ev.result()).toEqual(evaluateCategory(bottle));
  });

  it('refuses batches that mix masks and no masks, and an empty category', () => {
    const ev = new CategoryEvaluator('wood', { height: H, width: W });
    ev.add({ labels: [0], scores: [0.1] });
    expect(() => ev.add({ labels: [1], scores: [0.2], maps: new Float32Array(H * W), masks: new Uint8Array(H * W) })).toThrow(
      /category "wood" batch 1: some batches have masks and others do not/,
    );
    expect(() => new CategoryEvaluator('tile').result()).toThrow(/category "tile": no test images were added/);
    expect(() => new CategoryEvaluator('tile').add({ labels: [3], scores: [1] })).toThrow(/category "tile" batch 0 image labels: label at index 0 is 3/);
  });

  it('summarizeCategories averages results of separate evaluators', () => {
    const a = evaluateCategory(bottle);
    const report = summarizeCategories({ x: a, y: a });
    expect(report.mean.image.auroc).toBe(a.image.auroc);
    expect(report.mean.pixel?.aupro).toBe(a.pixel?.aupro);
  });
});
