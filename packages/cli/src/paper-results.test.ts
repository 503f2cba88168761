import { describe, expect, it } from 'vitest';
import type { MetricsReport } from './metrics-report.js';
import { compareWithPaper, paperBenchmarkFor, paperNotes, paperRowCells, PAPER_RESULTS } from './paper-results.js';

function report(cats: Record<string, [number, number | null]>): MetricsReport {
  const entries = Object.entries(cats);
  const mean = (i: 0 | 1) => entries.reduce((a, [, v]) => a + (v[i] ?? 0), 0) / entries.length;
  return {
    categories: Object.fromEntries(
      entries.map(([k, [img, px]]) => [k, { image: { auroc: img, ap: img, f1_max: img, threshold: 1 }, pixel: px === null ? null : { auroc: px, ap: 0.5, f1_max: 0.5, aupro: 0.5 }, counts: { normal: 2, anomalous: 3 } }]),
    ),
    mean: { image: { auroc: mean(0), ap: 0.5, f1_max: 0.5 }, pixel: { auroc: mean(1), ap: 0.5, f1_max: 0.5, aupro: 0.5 } },
    pooled: { image: { auroc: 0.5, ap: 0.5, f1_max: 0.5, threshold: 1 }, counts: { normal: 2, anomalous: 3 } },
    model: {},
    timing: {},
  };
}

describe('the published tables', () => {
  it.each(['mvtec', 'visa'] as const)('%s: the per-category values average to the published mean (a transcription check)', (b) => {
    const t = PAPER_RESULTS[b];
    const values = Object.values(t.categories);
    const avg = (k: 'image_auroc' | 'pixel_auroc') => values.reduce((a, v) => a + v[k], 0) / values.length;
    expect(values.length).toBe(b === 'mvtec' ? 15 : 12);
    // Every value is rounded to 0.1: the mean of rounded values and the rounded mean differ by
    // at most 0.05 + 0.05.
    expect(Math.abs(avg('image_auroc') - t.mean.image_auroc)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(avg('pixel_auroc') - t.mean.pixel_auroc)).toBeLessThanOrEqual(0.1);
  });
});

describe('paperBenchmarkFor', () => {
  it('recognises MVTec AD and VisA by format and category names', () => {
    expect(paperBenchmarkFor('mvtec', ['bottle', 'screw'])).toBe('mvtec');
    expect(paperBenchmarkFor('mvtec', ['grid', 'disc'])).toBe('mvtec');
    expect(paperBenchmarkFor('visa', ['pcb1'])).toBe('visa');
    expect(paperBenchmarkFor('mvtec', ['disc', 'bracket'])).toBeNull();
    expect(paperBenchmarkFor('visa', ['bottle'])).toBeNull();
    expect(paperBenchmarkFor('folder', ['bottle'])).toBeNull();
  });
});

describe('compareWithPaper', () => {
  it('puts each category beside the paper in percent with ours − paper, and leaves the mean alone for a subset', () => {
    const c = compareWithPaper(report({ screw: [0.9, 0.97], disc: [0.8, 0.9], wood: [1, null] }), 'mvtec');
    expect(c.rows.map((r) => r.category)).toEqual(['screw', 'wood']);
    const screw = c.rows[0];
    expect(screw.image.ours).toBeCloseTo(90, 10);
    expect(screw.image.paper).toBe(94.8);
    expect(screw.image.delta).toBeCloseTo(-4.8, 10);
    expect(screw.pixel.delta).toBeCloseTo(97 - 99.5, 10);
    expect(c.rows[1].pixel).toEqual({ ours: null, paper: 95.5, delta: null });
    expect(paperRowCells(screw)).toEqual(['90.0', '94.8', '-4.8', '97.0', '99.5', '-2.5']);
    expect(paperRowCells(c.rows[1]).slice(0, 3)).toEqual(['100.0', '98.9', '+1.1']);
    expect(c.complete).toBe(false);
    expect(c.mean.image.paper).toBeNull();
    expect(c.mean.image.delta).toBeNull();
    expect(c.missing).toHaveLength(13);
    expect(c.extra).toEqual(['disc']);
    const notes = paperNotes(c).join(' ');
    expect(notes).toContain('not compared');
    expect(notes).toContain('Not in the paper: disc.');
    expect(notes).toContain('UniAD (unified) at 96.5 / 96.8');
  });

  it('compares the means when every category of the benchmark was evaluated', () => {
    const all = Object.fromEntries(Object.keys(PAPER_RESULTS.visa.categories).map((k) => [k, [0.95, 0.99] as [number, number]]));
    const c = compareWithPaper(report(all), 'visa');
    expect(c.complete).toBe(true);
    expect(c.rows).toHaveLength(12);
    expect(c.mean.image.paper).toBe(95.9);
    expect(c.mean.image.delta).toBeCloseTo(95 - 95.9, 10);
    expect(c.mean.pixel.delta).toBeCloseTo(99 - 99.2, 10);
    expect(c.uniad).toEqual({ image_auroc: 91.5, pixel_auroc: 98.5 });
  });
});
