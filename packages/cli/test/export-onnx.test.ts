import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '@rlr/data';
import { batches, generateDataset } from '@rlr/data/node';
import { OnnxDetector } from '@rlr/onnx/node';
import { binBuilt, jsonLines, runBin } from './bin-helpers.js';

/*
 * `rlr export --format onnx` and `--backend onnxruntime` through the real binary: a knn run on a
 * tiny generated dataset (64x64 images at image size 64, so no resampling and the uint8 input is
 * exact), exported with its eval threshold; predict and eval score the same with both backends;
 * a truncated model.onnx is refused with the file and the fix.
 */
const FLAGS = ['--format', 'mvtec', '--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--workers', '1'];

let root: string;
let data: string;
let run: string;

const scores = async (dir: string) =>
  (await readFile(join(dir, 'predictions.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { path: string; score: number; label: number | null });

describe.skipIf(!binBuilt)('rlr export --format onnx → predict/eval --backend onnxruntime (built binary)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-onnx-cli-'));
    data = join(root, 'data');
    run = join(root, 'run');
    await generateDataset({ root: data, categories: ['grid'], trainCount: 6, testCount: 4, size: 64, seed: 2 });
    const t = await runBin(['train', '--model', 'knn', '--coreset', '0.25', '--data', data, ...FLAGS, '--out', run, '--quiet']);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    const e = await runBin(['eval', '--model', run, '--quiet', '--workers', '1']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('exports with the eval threshold; onnxruntime scores and labels equal tfjs within 1e-4 relative', async () => {
    const x = await runBin(['export', '--format', 'onnx', '--model', run, '--json']);
    expect(x.code, x.stderr.slice(-1500)).toBe(0);
    const result = jsonLines(x.stdout).at(-1)!;
    const metrics = JSON.parse(await readFile(join(run, 'report', 'metrics.json'), 'utf8')) as { pooled: { image: { threshold: number } } };
    expect(result).toMatchObject({ event: 'result', onnx: join(run, 'model.onnx'), threshold: metrics.pooled.image.threshold, image_size: [64, 64] });
    expect(existsSync(join(run, 'model.onnx'))).toBe(true);

    const test = join(data, 'grid', 'test');
    const a = await runBin(['predict', '--model', run, test, '--out', join(root, 'tfjs'), '--no-heatmaps', '--quiet', '--workers', '1']);
    expect(a.code, a.stderr.slice(-1500)).toBe(0);
    const b = await runBin(['predict', '--model', run, test, '--out', join(root, 'ort'), '--no-heatmaps', '--quiet', '--backend', 'onnxruntime']);
    expect(b.code, b.stderr.slice(-1500)).toBe(0);
    const want = await scores(join(root, 'tfjs'));
    const got = await scores(join(root, 'ort'));
    expect(got.map((l) => l.path)).toEqual(want.map((l) => l.path));
    got.forEach((l, i) => expect(Math.abs(l.score - want[i].score)).toBeLessThanOrEqual(1e-4 * Math.abs(want[i].score)));
    expect(got.map((l) => l.label)).toEqual(want.map((l) => l.label));

    const e = await runBin(['eval', '--model', run, '--backend', 'onnxruntime', '--out', join(root, 'report-ort'), '--quiet']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const m = JSON.parse(await readFile(join(root, 'report-ort', 'metrics.json'), 'utf8')) as { pooled: { image: { auroc: number; threshold: number } } };
    expect(Math.abs(m.pooled.image.threshold - metrics.pooled.image.threshold)).toBeLessThanOrEqual(1e-4 * metrics.pooled.image.threshold);
  });

  it('with a post-processor, stores its threshold and normalisation: normalized_score is 0.5 at the threshold, as in the library', async () => {
    const held = join(root, 'run-val');
    const t = await runBin(['train', '--model', 'knn', '--coreset', '0.25', '--val-fraction', '0.34', '--data', data, ...FLAGS, '--out', held, '--quiet']);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    const pp = JSON.parse(await readFile(join(held, 'model', 'postprocessor.json'), 'utf8')) as { image: { threshold: number; min: number; max: number } };
    const x = await runBin(['export', '--format', 'onnx', '--model', held, '--json']);
    expect(x.code, x.stderr.slice(-1500)).toBe(0);
    const { threshold, min, max } = pp.image;
    expect(jsonLines(x.stdout).at(-1)).toMatchObject({ threshold, threshold_source: join(held, 'model', 'postprocessor.json') });
    const test = join(data, 'grid', 'test');
    const samples = (await readdir(test, { recursive: true })).filter((f) => f.endsWith('.png')).map((f): Sample => ({ path: join(test, f), category: 'grid', label: 0, defectType: 'unknown' }));
    const onnx = await OnnxDetector.open(join(held, 'model.onnx'));
    try {
      for await (const b of batches(samples, { batchSize: samples.length, resize: 64, crop: [64, 64] })) {
        const r = await onnx.score({ images: b.images, batch: b.samples.length, height: 64, width: 64 });
        r.scores.forEach((score, i) => {
          expect(r.normalizedScores[i]).toBeCloseTo(Math.min(1, Math.max(0, 0.5 + (score - threshold) / (max - min))), 5);
          expect(r.labels![i]).toBe(score >= threshold ? 1 : 0);
        });
      }
    } finally {
      await onnx.dispose();
    }
  });

  it('rlr bench --onnx reports onnxruntime inference beside tfjs in the same row', async () => {
    const out = join(root, 'bench.json');
    const b = await runBin(['bench', '--backends', 'wasm', '--presets', 'demo', '--image-size', '64', '--batch-size', '2', '--iterations', '1', '--warmup', '0', '--weights', 'random', '--workers', '1', '--onnx', '--json', out, '--quiet']);
    expect(b.code, b.stderr.slice(-1500)).toBe(0);
    const rows = JSON.parse(await readFile(out, 'utf8')) as { backend: string; infer_ms_per_image: number; onnxruntime_infer_ms_per_image?: number }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].backend).toBe('wasm');
    expect(rows[0].infer_ms_per_image).toBeGreaterThan(0);
    expect(rows[0].onnxruntime_infer_ms_per_image).toBeGreaterThan(0);
    expect(b.stdout).toContain('onnxruntime infer ms/img');
  });

  it('a truncated model.onnx fails with exit code 4, naming the file and the export command', async () => {
    const bad = join(root, 'truncated.onnx');
    const x = await runBin(['export', '--format', 'onnx', '--model', run, '--out', bad, '--quiet']);
    expect(x.code, x.stderr.slice(-1500)).toBe(0);
    await truncate(bad, Math.floor((await stat(bad)).size / 3));
    const p = await runBin(['predict', '--model', run, join(data, 'grid', 'test'), '--out', join(root, 'bad'), '--backend', 'onnxruntime', '--onnx', bad]);
    expect(p.code).toBe(4);
    expect(p.stderr).toContain(bad);
    expect(p.stderr).toMatch(/truncated or corrupt/);
    expect(p.stderr).toContain('rlr export --format onnx');
    const missing = await runBin(['eval', '--model', run, '--backend', 'onnxruntime', '--onnx', join(root, 'nope.onnx'), '--quiet']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('nope.onnx does not exist');
  });
});
