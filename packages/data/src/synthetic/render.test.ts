import { describe, expect, it } from 'vitest';
import { DEFECT_TYPES, SYNTHETIC_CATEGORIES } from './categories.js';
import { planDataset } from './plan.js';
import { renderSynthetic } from './render.js';

const size = { height: 72, width: 64 };

describe('renderSynthetic', () => {
  it('is deterministic for a seed and varies between seeds', () => {
    for (const category of SYNTHETIC_CATEGORIES) {
      const a = renderSynthetic(category, { ...size, seed: 4 });
      expect(renderSynthetic(category, { ...size, seed: 4 }).rgb).toEqual(a.rgb);
      const b = renderSynthetic(category, { ...size, seed: 5 });
      // Normal images differ by more than sensor noise: pose, colour and light change too.
      let diff = 0;
      for (let i = 0; i < a.rgb.length; i++) diff += Math.abs(a.rgb[i] - b.rgb[i]);
      expect(diff / a.rgb.length / 255).toBeGreaterThan(0.02);
      expect(a.mask).toBeUndefined();
    }
  });

  it('masks exactly the pixels each defect changed, and the change is visible', () => {
    for (const category of SYNTHETIC_CATEGORIES) {
      for (const defect of DEFECT_TYPES) {
        {
          const seed = DEFECT_TYPES.indexOf(defect);
          const clean = renderSynthetic(category, { ...size, seed });
          const bad = renderSynthetic(category, { ...size, seed, defect });
          const mask = bad.mask!;
          let area = 0;
          let changed = 0;
          let change = 0;
          for (let i = 0; i < mask.length; i++) {
            const d = Math.abs(bad.rgb[3 * i] - clean.rgb[3 * i]) + Math.abs(bad.rgb[3 * i + 1] - clean.rgb[3 * i + 1]) + Math.abs(bad.rgb[3 * i + 2] - clean.rgb[3 * i + 2]);
            if (!mask[i]) {
              expect(d, `${category}/${defect}: pixel ${i} changed outside the mask`).toBe(0);
              continue;
            }
            area++;
            if (d > 0) changed++;
            change += d / 3 / 255;
          }
          const where = `${category}/${defect}/seed ${seed}`;
          expect(area, where).toBeGreaterThanOrEqual(0.0015 * mask.length);
          expect(changed / area, where).toBeGreaterThan(0.9);
          expect(change / area, `${where}: mean change inside the mask`).toBeGreaterThan(0.12);
        }
      }
    }
  });

  it('rejects unknown categories, defects and tiny sizes by name', () => {
    expect(() => renderSynthetic('bottle', { ...size, seed: 0 })).toThrow(/category "bottle".*Use one of weave, grid/);
    expect(() => renderSynthetic('disc', { ...size, seed: 0, defect: 'dent' as never })).toThrow(/defect "dent"/);
    expect(() => renderSynthetic('disc', { height: 8, width: 64, seed: 0 })).toThrow(/height: must be an integer >= 32/);
  });
});

describe('planDataset', () => {
  it('spreads a third of the test set as normals and the rest over the defect types', () => {
    const plan = planDataset({ categories: ['grid'], trainCount: 3, testCount: 30, seed: 1 });
    const test = plan.filter((p) => p.split === 'test');
    expect(plan.filter((p) => p.split === 'train')).toHaveLength(3);
    const perType = Object.fromEntries(['good', ...DEFECT_TYPES].map((t) => [t, test.filter((p) => p.defectType === t).length]));
    expect(perType).toEqual({ good: 10, scratch: 4, spot: 4, hole: 3, crack: 3, missing_piece: 3, contamination: 3 });
    expect(new Set(plan.map((p) => p.seed)).size).toBe(plan.length);
  });

  it("keeps a category's images when other categories are added", () => {
    const alone = planDataset({ categories: ['disc'], seed: 7 });
    const together = planDataset({ categories: ['grid', 'disc'], seed: 7 }).filter((p) => p.category === 'disc');
    expect(together).toEqual(alone);
  });

  it('validates its options', () => {
    expect(() => planDataset({ categories: ['nope'] })).toThrow(/category "nope"/);
    expect(() => planDataset({ categories: ['disc', 'disc'] })).toThrow(/categories: lists a category twice/);
    expect(() => planDataset({ trainCount: 0 })).toThrow(/trainCount/);
    expect(() => planDataset({ defectTypes: [] })).toThrow(/defectTypes/);
  });
});
