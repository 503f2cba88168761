import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { validateMetricsReport, type MetricsReport } from '../src/metrics-report.js';
import type { ComparisonReport } from '../src/compare-report.js';
import { binBuilt, jsonLines, runBin } from './bin-helpers.js';

/*
 * The nearest-neighbour baseline through the real binary: `rlr train --model knn` on a tiny
 * generated dataset (64x64, a random calibrated backbone), eval, predict, and two runs compared
 * side by side by `rlr eval --model a --model b`.
 */
const DATA_FLAGS = ['--format', 'mvtec', '--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--workers', '1'];

let root: string;
let data: string;

describe.skipIf(!binBuilt)('rlr train --model knn → eval → compare (built binary)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-knn-'));
    data = join(root, 'data');
    await generateDataset({ root: data, categories: ['grid', 'disc'], trainCount: 6, testCount: 4, size: 64, seed: 2 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('builds a bank (no epochs) into the run-folder format, evaluates it and predicts with it', async () => {
    const run = join(root, 'knn');
    const r = await runBin(['train', '--model', 'knn', '--coreset', '0.25', '--data', data, ...DATA_FLAGS, '--out', run, '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const result = jsonLines(r.stdout).at(-1)!;
    expect(result).toMatchObject({ event: 'result', kind: 'knn', coreset: 0.25, run });
    for (const f of ['run.json', 'model/config.json', 'model/bank.safetensors', 'model/backbone.safetensors', 'features/features.json']) expect(existsSync(join(run, f)), f).toBe(true);
    expect(existsSync(join(run, 'checkpoint'))).toBe(false);
    const manifest = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'knn', knn: { coreset: 0.25 }, status: 'done', epochsDone: 0 });
    const config = JSON.parse(await readFile(join(run, 'model', 'config.json'), 'utf8'));
    // 12 training images; each level's bank keeps a quarter of its tokens (grid h·w per image).
    const grids = config.spec.levels.map((l: { grid: [number, number] }) => l.grid[0] * l.grid[1]);
    expect(grids).toEqual([16 * 16, 8 * 8]);
    expect(config.levels.map((l: { bankSize: number }) => l.bankSize)).toEqual(grids.map((g: number) => Math.round(0.25 * 12 * g)));

    const e = await runBin(['eval', '--model', run, '--quiet', '--workers', '1']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(run, 'report', 'metrics.json'), 'utf8')) as MetricsReport;
    expect(validateMetricsReport(metrics)).toEqual([]);
    expect(metrics.model).toMatchObject({ kind: 'knn', coreset: 0.25, bank_tokens: config.levels.map((l: { bankSize: number }) => l.bankSize) });
    const counts = metrics.pooled.counts;
    expect(counts.normal + counts.anomalous).toBe(8);

    const p = await runBin(['predict', '--model', run, join(data, 'grid', 'test'), '--out', join(root, 'pred'), '--no-heatmaps', '--json', '--workers', '1']);
    expect(p.code, p.stderr.slice(-1500)).toBe(0);
    const lines = (await readFile(join(root, 'pred', 'predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => typeof l.score === 'number' && l.score > 0 && l.threshold === metrics.pooled.image.threshold)).toBe(true);
  });

  it('eval with two --model runs writes one side-by-side report on the same test images', async () => {
    const full = join(root, 'knn-full');
    // This one from a config file: `model: knn` is the model kind, `coreset` its fraction.
    const config = join(root, 'knn.yaml');
    await writeFile(config, 'model: knn\ncoreset: 1\n');
    const r = await runBin(['train', '--config', config, '--data', data, ...DATA_FLAGS, '--out', full, '--quiet']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const out = join(root, 'cmp');
    const e = await runBin(['eval', '--model', full, '--model', join(root, 'knn'), '--out', out, '--quiet', '--workers', '1']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const doc = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as ComparisonReport;
    expect(doc.format).toBe('rlr-comparison');
    expect(doc.runs.map((x) => [x.name, x.kind, x.model.coreset])).toEqual([['knn-full', 'knn', 1], ['knn', 'knn', 0.25]]);
    // Each run's own full report is beside the summary, on the same 8 test images.
    const counts = [];
    for (const x of doc.runs) {
      const own = JSON.parse(await readFile(join(out, x.name, 'metrics.json'), 'utf8')) as MetricsReport;
      counts.push(own.pooled.counts);
      expect(own.pooled.counts.normal + own.pooled.counts.anomalous).toBe(8);
      expect(x.mean).toEqual(own.mean);
    }
    expect(counts[1]).toEqual(counts[0]);
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| | `knn-full` | `knn` |'.replace('| |', '|  |'));
    expect(md).toMatch(new RegExp(`\\| image AUROC \\| ${doc.runs[0].mean.image.auroc.toFixed(3)} \\| ${doc.runs[1].mean.image.auroc.toFixed(3)} \\|`));
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<th>knn-full</th>');
  });

  it('bench --model knn measures extraction, bank build and inference', async () => {
    const out = join(root, 'bench.json');
    const r = await runBin(['bench', '--model', 'knn', '--coreset', '0.5', '--presets', 'demo', '--image-size', '64', '--backends', 'wasm', '--iterations', '1', '--warmup', '0', '--workers', '1', '--json', out, '--quiet']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const [row] = JSON.parse(await readFile(out, 'utf8'));
    expect(row).toMatchObject({ model: 'knn', coreset: 0.5, bank_images: 32, preset: 'demo', image_size: [64, 64] });
    for (const k of ['extract_ms_per_image', 'train_step_ms_per_image', 'infer_ms_per_image', 'peak_rss_mb']) expect(row[k]).toBeGreaterThan(0);
  });

  it('a coreset fraction outside (0, 1] is a usage error naming --coreset', async () => {
    for (const bad of ['0', '1.5', '-0.1']) {
      const r = await runBin(['train', '--model', 'knn', '--coreset', bad, '--data', data, ...DATA_FLAGS, '--out', join(root, 'bad')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--coreset .* is outside \(0, 1\]/);
    }
    const rlr = await runBin(['train', '--coreset', '0.5', '--data', data, ...DATA_FLAGS, '--out', join(root, 'bad')]);
    expect(rlr.code).toBe(2);
    expect(rlr.stderr).toContain('--coreset applies only to the nearest-neighbour model');
    expect(existsSync(join(root, 'bad', 'run.json'))).toBe(false);
  });
});
