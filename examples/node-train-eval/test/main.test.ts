import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '../src/main.js';

describe('node-train-eval, reduced run (--quick)', () => {
  const out = mkdtempSync(join(tmpdir(), 'rlr-node-train-eval-'));
  const lines: string[] = [];
  let result: RunResult;

  beforeAll(async () => {
    result = await run({ out, quick: true, log: (l) => lines.push(l) });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('trains: the loss of the last epoch is well below the first', () => {
    expect(result.lastLoss).toBeLessThan(0.8 * result.firstLoss);
  });

  it('evaluates each generated category at image and pixel level', () => {
    const { categories, mean } = result.report;
    expect(Object.keys(categories).sort()).toEqual(['disc', 'weave']);
    for (const c of Object.values(categories)) {
      expect(c.counts.normal).toBeGreaterThan(0);
      expect(c.counts.anomalous).toBeGreaterThan(0);
      expect(c.pixel).not.toBeNull();
    }
    expect(mean.pixel).not.toBeNull();
    // Even this tiny model on a random backbone separates the generated defects better than chance.
    expect(mean.image.auroc).toBeGreaterThan(0.6);
    expect(mean.pixel!.auroc).toBeGreaterThan(0.6);
  });

  it('saves a model directory that loads back and scores exactly as the trained model', () => {
    for (const f of ['config.json', 'weights.safetensors', 'backbone.safetensors', 'postprocessor.json']) expect(existsSync(join(result.modelDir, f))).toBe(true);
    const config = JSON.parse(readFileSync(join(result.modelDir, 'config.json'), 'utf8'));
    expect(config.format).toBe('rlr-model');
    expect(config.backbone.name).toBe('tf_efficientnet_b0');
    expect(config.preprocessing).toEqual({ resize: 64, crop: [64, 64], resizeMode: 'crop' });
    const post = JSON.parse(readFileSync(join(result.modelDir, 'postprocessor.json'), 'utf8'));
    expect(post).toMatchObject({ source: 'validation-normals', image: { threshold: result.threshold } });
    expect(result.reloadedScores).toHaveLength(result.scores.length);
    const worst = Math.max(...result.scores.map((s, i) => Math.abs(s - result.reloadedScores[i])));
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('reports progress and the metrics table', () => {
    expect(lines[0]).toBe('backend: wasm');
    expect(lines.some((l) => /^epoch 6\/6 {2}loss /.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('mean       image AUROC'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).mean.image.auroc).toBe(result.report.mean.image.auroc);
  });
});
