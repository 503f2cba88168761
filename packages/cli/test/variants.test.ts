import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, jsonLines, runBin } from './bin-helpers.js';

/*
 * The paper's ablations from the command line (docs/variants.md): `--attention`, `--alpha`,
 * `--jitter-scale` and three levels train (on the worker pool, the default path), are recorded in
 * the saved model, and `eval` / `predict` rebuild that model from the run folder.
 */
const FLAGS = ['--format', 'mvtec', '--preset', 'demo', '--weights', 'random', '--image-size', '64', '--heads', '4', '--layers', '1', '--batch-size', '4', '--epochs', '2'];

let root: string;
let data: string;

interface SavedConfig {
  config: { attention?: unknown; alpha: number; jitterScale: number };
  levels: { attention?: string; alpha: number }[];
}

describe.skipIf(!binBuilt)('rlr train --attention / --alpha / --jitter-scale (built binary)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-variants-'));
    data = join(root, 'data');
    await generateDataset({ root: data, categories: ['grid'], trainCount: 8, testCount: 4, size: 64, seed: 3 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('trains residual-self without noise on 2 workers; eval and predict load the variant', async () => {
    const run = join(root, 'self');
    const args = ['--out-indices', '1,2', '--hidden', '32,32', '--attention', 'residual-self', '--jitter-scale', '0', '--workers', '2'];
    const r = await runBin(['train', '--data', data, ...FLAGS, ...args, '--out', run, '--quiet']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const saved = JSON.parse(await readFile(join(run, 'model', 'config.json'), 'utf8')) as SavedConfig;
    expect(saved.config).toMatchObject({ attention: 'residual-self', jitterScale: 0 });
    expect(saved.levels.map((l) => l.attention)).toEqual(['residual-self', 'residual-self']);
    const e = await runBin(['eval', '--model', run, '--quiet', '--workers', '1']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(run, 'report', 'metrics.json'), 'utf8')) as { model: Record<string, unknown> };
    expect(metrics.model).toMatchObject({ attention: ['residual-self', 'residual-self'], alpha: [2, 2], jitter_scale: 0 });
    const p = await runBin(['predict', '--model', run, join(data, 'grid', 'test'), '--out', join(root, 'pred'), '--no-heatmaps', '--json', '--workers', '1']);
    expect(p.code, p.stderr.slice(-1500)).toBe(0);
    const scores = jsonLines(p.stdout).filter((x) => x.event === 'prediction').map((x) => x.score as number);
    expect(scores).toHaveLength(4);
    expect(scores.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
  });

  it('takes a variant per level, α and three levels from a config file', async () => {
    const run = join(root, 'three');
    const config = join(root, 'run.yaml');
    await writeFile(config, ['model:', '  out_indices: [1, 2, 3]', '  hidden: [32, 32, 32]', '  attention: [lca, cross+mlka, cross]', '  alpha: 3', ''].join('\n'));
    const r = await runBin(['train', '--config', config, '--data', data, ...FLAGS, '--workers', '1', '--out', run, '--quiet']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const saved = JSON.parse(await readFile(join(run, 'model', 'config.json'), 'utf8')) as SavedConfig;
    expect(saved.levels.map((l) => [l.attention, l.alpha])).toEqual([
      ['lca', 3],
      ['cross+mlka', 3],
      ['cross', 3],
    ]);
    const e = await runBin(['eval', '--model', run, '--quiet', '--workers', '1']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
  });

  it('rejects a bad variant naming the flag, before anything is written', async () => {
    const r = await runBin(['train', '--data', data, ...FLAGS, '--attention', 'self', '--out', join(root, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--attention "self" is not one of mlka\+lca, cross\+mlka, lca, cross, residual-cross, residual-self/);
  });
});
