import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MetricsReport } from '@rlr/cli';
import { compareWithPaper, main, renderTable, type PaperTable } from '../src/compare.js';

function report(): MetricsReport {
  const cat = (image: number, pixel: number | null) => ({
    image: { auroc: image, ap: image, f1_max: image, threshold: 0.5 },
    pixel: pixel === null ? null : { auroc: pixel, ap: 0.5, f1_max: 0.5, aupro: pixel - 0.05 },
    counts: { normal: 10, anomalous: 20 },
  });
  return {
    categories: { bottle: cat(0.99, 0.98), screw: cat(0.9, 0.95) },
    mean: { image: { auroc: 0.945, ap: 0.945, f1_max: 0.945 }, pixel: { auroc: 0.965, ap: 0.5, f1_max: 0.5, aupro: 0.915 } },
    pooled: { image: { auroc: 0.93, ap: 0.93, f1_max: 0.9, threshold: 0.5 }, counts: { normal: 20, anomalous: 40 } },
    model: { backbone: 'tf_efficientnet_b6' },
    timing: { total_s: 1 },
  };
}

const paper: PaperTable = {
  mean: { image_auroc: 95, pixel_auroc: null },
  categories: {
    bottle: { image_auroc: 100, pixel_auroc: 98.5 },
    screw: { image_auroc: 92.5, pixel_auroc: null },
    zipper: { image_auroc: 99, pixel_auroc: 97 },
  },
};

describe('compareWithPaper', () => {
  it('puts ours and the paper side by side in percent, with differences', () => {
    const c = compareWithPaper(report(), paper, 1);
    const bottle = c.rows.find((r) => r.category === 'bottle')!;
    expect(bottle.image.ours).toBeCloseTo(99, 10);
    expect(bottle.image.delta).toBeCloseTo(-1, 10);
    expect(bottle.pixel.delta).toBeCloseTo(-0.5, 10);
    expect(bottle.aupro).toBeCloseTo(93, 10);
    const screw = c.rows.find((r) => r.category === 'screw')!;
    expect(screw.pixel.paper).toBeNull();
    expect(screw.pixel.delta).toBeNull();
    expect(c.rows.at(-1)!.category).toBe('mean');
    expect(c.rows.at(-1)!.image.delta).toBeCloseTo(-0.5, 10);
  });

  it('lists categories the report lacks and rows beyond the tolerance', () => {
    const c = compareWithPaper(report(), paper, 1);
    expect(c.missing).toEqual(['zipper']);
    expect(c.outside).toEqual(['screw']); // 90 vs 92.5
    expect(compareWithPaper(report(), paper, 3).outside).toEqual([]);
  });

  it('renders unknown values as n/a', () => {
    const table = renderTable(compareWithPaper(report(), paper, 1));
    expect(table).toContain('| screw | 90.0 | 92.5 | -2.5 | 95.0 | n/a | n/a | 90.0 |');
  });
});

describe('the command', () => {
  afterEach(() => vi.restoreAllMocks());
  const dir = mkdtempSync(join(tmpdir(), 'rlr-compare-'));

  it('exits 1 against the shipped table when a category is beyond the tolerance, 0 within it', () => {
    const file = join(dir, 'metrics.json');
    writeFileSync(file, JSON.stringify(report()));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    // screw: 90.0 against the paper's 94.8; bottle: 99.0 against 100.
    expect(main([file, '--dataset', 'mvtec'])).toBe(1);
    const out = log.mock.calls.flat().join('\n');
    expect(out).toContain('| screw | 90.0 | 94.8 | -4.8 | 95.0 | 99.5 | -4.5 | 90.0 |');
    expect(out).toMatch(/not in the report: cable, capsule/);
    expect(out).toMatch(/more than 1 points from the paper: screw, mean/);
    expect(main([file, '--dataset', 'mvtec', '--tolerance', '5'])).toBe(0);
  });

  it('exits 2 on a file that is not an eval report, or an unknown dataset', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ categories: {} }));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(main([bad])).toBe(2);
    expect(main([bad, '--dataset', 'kolektor'])).toBe(2);
    expect(main([])).toBe(2);
  });
});

describe('expected.json', () => {
  it('holds the same published numbers as the table rlr eval compares with', async () => {
    const { PAPER_RESULTS, UNIAD_MEANS } = await import('@rlr/cli');
    const { loadExpected } = await import('../src/compare.js');
    const e = loadExpected();
    expect(e.status).toBeUndefined();
    for (const b of ['mvtec', 'visa'] as const) {
      expect(e.datasets[b].mean).toEqual(PAPER_RESULTS[b].mean);
      expect(e.datasets[b].categories).toEqual(PAPER_RESULTS[b].categories);
      expect(e.baselines!.uniad[b]).toEqual({ mean: UNIAD_MEANS[b] });
    }
    expect(Object.values(e.datasets.mvtec.categories).every((v) => v.image_auroc !== null && v.pixel_auroc !== null)).toBe(true);
  });
});
