import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getPreset, loadConfigFile } from '@rlr/cli';
import { loadExpected } from '../src/compare.js';

const here = dirname(fileURLToPath(import.meta.url));

describe.each([
  ['mvtec.yaml', 'mvtec', 15],
  ['visa.yaml', 'visa', 12],
] as const)('%s', (file, format, categoryCount) => {
  it('parses with the CLI and equals the paper preset, setting by setting', async () => {
    const cfg = await loadConfigFile(join(here, '..', file));
    const paper = getPreset('paper')!;
    expect(cfg.format).toBe(format);
    expect(cfg.preset).toBe('paper');
    expect(cfg.backbone).toBe(paper.model.backbone);
    expect(cfg.outIndices).toEqual(paper.model.outIndices);
    expect(cfg.imageSize).toEqual(paper.model.imageSize);
    expect(cfg.resize).toBe(paper.model.resize);
    expect(cfg.layers).toBe(paper.model.layers);
    expect(cfg.hidden).toEqual(paper.model.hidden);
    expect(cfg.heads).toBe(paper.model.heads);
    expect(cfg.epochs).toBe(paper.train.epochs);
    expect(cfg.batchSize).toBe(paper.train.batchSize);
    expect(cfg.lr).toBe(paper.train.lr);
    expect(cfg.seed).toBe(paper.train.seed);
  });

  it('lists the same categories as the table of expected numbers', async () => {
    const cfg = await loadConfigFile(join(here, '..', file));
    expect(cfg.categories).toHaveLength(categoryCount);
    expect([...cfg.categories!].sort()).toEqual(Object.keys(loadExpected().datasets[format].categories).sort());
  });
});
