import { describe, expect, it } from 'vitest';
import { validateMetricsReport, type MetricsReport } from './metrics-report.js';
import type { ReportData } from './report-data.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { lineChart, thin } from './svg-chart.js';
import { pickGallery } from './gallery.js';

const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

function metrics(): MetricsReport {
  return {
    categories: {
      bottle: { image: { auroc: 0.98, ap: 0.97, f1_max: 0.9, threshold: 1.25 }, pixel: { auroc: 0.95, ap: 0.5, f1_max: 0.55, aupro: 0.8 }, counts: { normal: 5, anomalous: 6 } },
      'screw<x>': { image: { auroc: 0.7, ap: 0.6, f1_max: 0.65, threshold: 0.5 }, pixel: null, counts: { normal: 4, anomalous: 3 } },
    },
    mean: { image: { auroc: 0.84, ap: 0.785, f1_max: 0.775 }, pixel: { auroc: 0.95, ap: 0.5, f1_max: 0.55, aupro: 0.8 } },
    pooled: { image: { auroc: 0.8, ap: 0.8, f1_max: 0.8, threshold: 1 }, counts: { normal: 9, anomalous: 9 } },
    model: { backbone: 'tf_efficientnet_b0', preset: 'demo' },
    timing: { total_s: 12.5 },
  };
}

function report(): ReportData {
  return {
    title: 'RLR evaluation',
    generatedAt: '2026-01-01T00:00:00Z',
    metrics: metrics(),
    curves: { bottle: { roc: { x: [0, 0.1, 1], y: [0, 0.9, 1] }, pr: { x: [0, 1], y: [1, 0.5] } } },
    loss: [
      { epoch: 1, loss: 2 },
      { epoch: 2, loss: 1 },
    ],
    gallery: [{ category: 'bottle', path: '/d/bottle/test/crack/000.png', label: 1, score: 2.5, reason: 'best-detected anomaly', image: { file: 'gallery/a.png', png }, mask: { file: 'gallery/a_mask.png', png }, overlay: { file: 'gallery/a_overlay.png', png } }],
    notes: ['backbone randomly initialised'],
  };
}

describe('metrics.json schema check', () => {
  it('accepts a valid report', () => {
    expect(validateMetricsReport(metrics())).toEqual([]);
  });

  it('names every problem', () => {
    const m = metrics() as unknown as { categories: Record<string, { image: Record<string, unknown> }>; mean?: unknown };
    m.categories.bottle.image.auroc = 1.5;
    delete m.categories.bottle.image.threshold;
    delete m.mean;
    const problems = validateMetricsReport(m);
    expect(problems).toContain('categories.bottle.image.auroc = 1.5 is not a number in [0, 1]');
    expect(problems).toContain('categories.bottle.image.threshold is not a finite number');
    expect(problems).toContain('mean is missing');
    expect(validateMetricsReport({ categories: {} })).toContain('categories is missing or empty');
  });
});

describe('reports', () => {
  it('Markdown has a row per category, the mean and linked gallery files', () => {
    const md = renderMarkdown(report());
    expect(md).toMatch(/\| bottle \| 5 \| 6 \| 0\.980 \| 0\.970 \| 0\.900 \| 1\.250 \| 0\.950 /);
    expect(md).toMatch(/\| screw<x> \| 4 \| 3 \| 0\.700 .*\| - \| - \| - \| - \|/);
    expect(md).toContain('**0.840**');
    expect(md).toContain('![overlay](gallery/a_overlay.png)');
    expect(md).toContain('> **Note:** backbone randomly initialised');
  });

  it('HTML is self-contained, escapes names and inlines charts and images', () => {
    const html = renderHtml(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('screw&lt;x&gt;');
    expect(html).not.toContain('screw<x>');
    expect((html.match(/<svg /g) ?? []).length).toBe(3); // ROC, PR, loss
    expect(html).toContain(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('Training loss');
  });
});

describe('svg charts', () => {
  it('thins long curves keeping both ends', () => {
    const x = Array.from({ length: 1000 }, (_, i) => i);
    const [xs, ys] = thin(x, x, 10);
    expect(xs.length).toBe(10);
    expect(xs[0]).toBe(0);
    expect(xs[9]).toBe(999);
    expect(ys).toEqual(xs);
  });

  it('maps data to the plot area', () => {
    const svg = lineChart([{ name: 'a', x: [0, 1], y: [0, 1] }], { title: 'T', xLabel: 'x', yLabel: 'y', xDomain: [0, 1], yDomain: [0, 1], width: 200, height: 200 });
    // margins l=52 r=12 t=28 b=40: (0,0) → (52,160), (1,1) → (188,28)
    expect(svg).toContain('points="52.0,160.0 188.0,28.0"');
  });
});

describe('gallery', () => {
  it('picks the extremes of each category once', () => {
    const items = [
      { index: 0, category: 'a', label: 1 as const, score: 5 },
      { index: 1, category: 'a', label: 1 as const, score: 1 },
      { index: 2, category: 'a', label: 0 as const, score: 2 },
      { index: 3, category: 'a', label: 0 as const, score: 0.5 },
      { index: 4, category: 'b', label: 1 as const, score: 3 },
      { index: 5, category: 'b', label: 0 as const, score: 1 },
    ];
    const picks = pickGallery(items);
    expect(picks.filter((p) => [0, 1, 2, 3].includes(p.index)).map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(picks.find((p) => p.index === 1)?.reason).toMatch(/worst-missed/);
    // category b: one anomaly is both best and worst: shown once
    expect(picks.filter((p) => p.index === 4)).toHaveLength(1);
    expect(pickGallery(items, 2).filter((p) => [0, 1, 2, 3].includes(p.index))).toHaveLength(2);
  });
});
