import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backboneFeatureInfo } from '@rlr/backbones';
import { PRESETS } from '@rlr/cli';
import { repoRoot } from '../src/repo.js';

/** The preset table of docs/presets.md must say what the CLI's presets are. */
const page = readFileSync(join(repoRoot(), 'docs/presets.md'), 'utf8');
const lines = page.split('\n');
const start = lines.findIndex((l) => l.startsWith('| preset | backbone |'));
const columns = lines[start].split('|').slice(1, -1).map((c) => c.trim());
const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
const rows = lines
  .slice(start + 2, end)
  .map((l) => Object.fromEntries(l.split('|').slice(1, -1).map((c, i) => [columns[i], c.trim()])));
const list = (s: string) => s.split(',').map((x) => Number(x.trim()));

describe('docs/presets.md preset table', () => {
  it('has one row per CLI preset', () => {
    expect(rows.map((r) => r.preset.replace(/`/g, '')).sort()).toEqual(Object.keys(PRESETS).sort());
  });

  it.each(Object.values(PRESETS).map((p) => [p.name, p] as const))('%s matches the CLI', (name, p) => {
    const row = rows.find((r) => r.preset === `\`${name}\``)!;
    expect(row.backbone).toBe(`EfficientNet-${p.model.backbone.replace('tf_efficientnet_', '').toUpperCase()}`);
    const [, indices, strides] = /^([\d, ]+) \(([\d, ]+)\)$/.exec(row['levels (stride)'])!;
    expect(list(indices)).toEqual(p.model.outIndices);
    expect(list(strides)).toEqual(backboneFeatureInfo(p.model.backbone, p.model.outIndices).reductions);
    expect(row.crop).toBe(p.model.imageSize.join('×'));
    expect(Number(row.layers)).toBe(p.model.layers);
    expect(list(row['width d'])).toEqual(p.model.hidden);
    expect(Number(row.heads)).toBe(p.model.heads);
    expect(Number(row.epochs)).toBe(p.train.epochs);
    expect(Number(row.batch)).toBe(p.train.batchSize);
    expect(Number(row.lr)).toBe(p.train.lr);
  });

  it('states the settings all presets share', () => {
    for (const p of Object.values(PRESETS)) {
      expect([p.model.ffnRatio, p.model.alpha, p.model.jitterScale, p.train.seed]).toEqual([4, 2, 4, 3407]);
    }
    expect(page).toContain('feed-forward width of 4d, α = 2, jitter scale 4 and seed 3407');
  });
});
