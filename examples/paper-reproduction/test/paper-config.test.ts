import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode, getPreset, loadConfigFile, runCli } from '@rlr/cli';
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

describe('the ablation flags of expected.json', () => {
  const flags = loadExpected().ablations!.flags as Record<string, string | Record<string, string>>;
  const rows = Object.entries(flags)
    .filter(([group]) => group !== 'note')
    .flatMap(([group, v]) => (typeof v === 'string' ? [[group, v]] : Object.entries(v).map(([row, f]) => [`${group} ${row}`, f])));

  it('cover every published ablation row', () => {
    expect(rows.map(([r]) => r)).toEqual([
      'attention residual + self-attention',
      'attention cross-attention without residual',
      'attention MLKA + LCA',
      'stages 1,2',
      'stages 2,3',
      'stages 1,2,3',
      'alpha 1',
      'alpha 2',
      'alpha 3',
      'no_feature_noise',
    ]);
  });

  it.each(rows)('%s: `%s` on top of mvtec.yaml is accepted by rlr train (it stops only at the missing dataset)', async (_, f) => {
    const err: string[] = [];
    const io = { stdout: { write: () => undefined }, stderr: { write: (s: string) => void err.push(s) }, cwd: here };
    const code = await runCli(['train', '--config', join(here, '..', 'mvtec.yaml'), '--data', join(here, 'no-such-dataset'), ...f.split(' '), '--out', join(here, 'no-such-run'), '--quiet'], io);
    expect(err.join('')).toMatch(/no-such-dataset: the dataset root does not exist/);
    expect(code).not.toBe(ExitCode.usage);
  });
});
