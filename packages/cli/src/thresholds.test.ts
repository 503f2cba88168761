import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { Logger } from './log.js';
import type { MetricsReport } from './metrics-report.js';
import { categoryFromPath, thresholdPicker, type ThresholdOptions } from './thresholds.js';

const image = (threshold: number) => ({ auroc: 0.9, ap: 0.9, f1_max: 0.8, threshold });
const category = (threshold: number) => ({ image: image(threshold), pixel: null, counts: { normal: 2, anomalous: 3 } });
const report: MetricsReport = {
  categories: { bottle: category(1.5), screw: category(0.7) },
  mean: { image: { auroc: 0.9, ap: 0.9, f1_max: 0.8 }, pixel: null },
  pooled: { image: image(1.1), counts: { normal: 4, anomalous: 6 } },
  model: {},
  timing: {},
};

/** A report folder holding `doc` as metrics.json, and the picker options around it. */
function setup(doc: unknown = report): { options: Omit<ThresholdOptions, 'mode' | 'category' | 'flag'>; warnings: string[] } {
  const reportDir = mkdtempSync(join(tmpdir(), 'rlr-thr-'));
  if (doc !== null) writeFileSync(join(reportDir, 'metrics.json'), JSON.stringify(doc)); // null: no report
  const warnings: string[] = [];
  const log = new Logger('quiet', { write: () => true }, { write: (s: string) => (warnings.push(s), true) });
  return { options: { reportDir, datasetRoots: ['/data/mvtec'], runDir: '/runs/r', log }, warnings };
}

async function usage(p: Promise<unknown>): Promise<string> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(CliError);
  return `${(e as CliError).message} | ${(e as CliError).hint}`;
}

describe('threshold picking for rlr predict', () => {
  it('pooled by default: one threshold for every image', async () => {
    const { options } = setup();
    const p = await thresholdPicker(options);
    expect([p.mode, p.source, p.pooled]).toEqual(['pooled', join(options.reportDir, 'metrics.json'), 1.1]);
    expect(p.pick('/data/mvtec/screw/test/good/000.png')).toEqual({ value: 1.1, category: null });
  });

  it("category mode: each image's category from the dataset layout, else the pooled threshold", async () => {
    const { options } = setup();
    const p = await thresholdPicker({ ...options, mode: 'category' });
    expect(p.categories).toEqual({ bottle: 1.5, screw: 0.7 });
    expect(p.pick('/data/mvtec/screw/test/scratch_head/003.png')).toEqual({ value: 0.7, category: 'screw' });
    // Outside the training data: the nearest folder named like a category.
    expect(p.pick('/incoming/bottle/2024-05-01/a.png')).toEqual({ value: 1.5, category: 'bottle' });
    expect(p.pick('/incoming/unsorted/a.png')).toEqual({ value: 1.1, category: null });
  });

  it('--category sets the category of every image (and implies category mode)', async () => {
    const { options } = setup();
    const p = await thresholdPicker({ ...options, category: 'bottle' });
    expect(p.mode).toBe('category');
    expect(p.pick('/incoming/unsorted/a.png')).toEqual({ value: 1.5, category: 'bottle' });
    expect(await usage(thresholdPicker({ ...options, category: 'cable' }))).toMatch(/--category cable: .*metrics\.json has no threshold for it \| use one of bottle, screw/);
  });

  it('refuses combinations it cannot honour, saying what to drop', async () => {
    const { options } = setup();
    expect(await usage(thresholdPicker({ ...options, mode: 'category', flag: '2' }))).toMatch(/--threshold sets one threshold for every image.*\| drop --threshold/);
    expect(await usage(thresholdPicker({ ...options, mode: 'pooled', category: 'screw' }))).toMatch(/--threshold-mode is pooled \| drop --category/);
    expect(await usage(thresholdPicker({ ...options, mode: 'max' }))).toMatch(/"max" is not a mode \| use pooled or category/);
    expect(await usage(thresholdPicker({ ...options, flag: 'high' }))).toMatch(/"high" is not a number/);
    const fixed = await thresholdPicker({ ...options, flag: '2.5' });
    expect([fixed.source, fixed.pick('/x.png').value]).toEqual(['--threshold', 2.5]);
  });

  it('without a usable report: no threshold, and a warning saying how to get one', async () => {
    const missing = setup(null);
    const none = await thresholdPicker({ ...missing.options, mode: 'category' });
    expect([none.source, none.pick('/data/mvtec/screw/a.png').value]).toEqual(['none', null]);
    expect(missing.warnings.join('')).toMatch(/metrics\.json does not exist.*rlr eval --model \/runs\/r/);
    const broken = setup({ categories: {} });
    expect((await thresholdPicker(broken.options)).pooled).toBeNull();
    expect(broken.warnings.join('')).toMatch(/ignoring .*categories is missing or empty; pass --threshold/);
  });

  it('categoryFromPath: the dataset root first, then folder names, then the only category', () => {
    const cats = new Set(['good', 'wood']);
    // Under the root the first folder decides, even when a deeper folder has a category's name.
    expect(categoryFromPath('/d/wood/test/good/1.png', cats, ['/d'])).toBe('wood');
    expect(categoryFromPath('/elsewhere/x/1.png', cats, ['/d'])).toBeUndefined();
    expect(categoryFromPath('/elsewhere/x/1.png', new Set(['parts']), [])).toBe('parts');
  });
});
