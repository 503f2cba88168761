import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, saveBackboneWeights } from '@rlr/backbones/node';
import { createRLR, modelToOfficialTensors, officialTensorsByLevel, serializeSafetensors, specFromFeatureInfo, type RLRModel } from '@rlr/core';
import type { Sample } from '@rlr/data';
import { batches, generateDataset } from '@rlr/data/node';
import { fileStore } from '@rlr/core/node';
import { useBackend, writeTorchPth } from '@rlr/testing';
import type { MetricsReport } from '../src/metrics-report.js';
import { PAPER_RESULTS } from '../src/paper-results.js';
import { scoreImages } from '../src/scorer.js';
import { binBuilt, jsonLines, runBin } from './bin-helpers.js';

/*
 * `rlr import` of official-layout weights (a .pth in torch.save's layout and a safetensors file)
 * through the built binary, then `predict` and `eval` on the imported run. The "official" model is
 * a tiny RLR over a random, BatchNorm-calibrated EfficientNet-B0 at 64x64 whose weights are saved
 * to a local file, so no download and no training are needed. The eval runs on a generated
 * MVTec-layout dataset of two categories named like MVTec AD's (grid, wood), which makes it print
 * the paper's numbers beside its own.
 */

const SIZE = 64;
const BACKBONE = ['--backbone', 'tf_efficientnet_b0', '--out-indices', '2,3', '--image-size', String(SIZE), '--heads', '4', '--window', '3'];

let root: string;
let data: string;
let weights: string;
let model: RLRModel;
/** Scores of the original model on the test images, computed in this process. */
const expected = new Map<string, number>();
let images: string[];

describe.skipIf(!binBuilt)('rlr import --official → predict, eval (built binary)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'rlr-import-'));
    data = join(root, 'data');
    await generateDataset({ root: data, categories: ['grid', 'wood'], trainCount: 2, testCount: 6, size: SIZE, seed: 4 });
    // A copy of MVTec AD's layout, as a user has it: without the generator's manifest.
    await rename(join(data, 'manifest.json'), join(root, 'generator-manifest.json'));
    const calib = tf.randomUniform([4, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const extractor = await createBackbone('tf_efficientnet_b0', { weights: 'random', seed: 2, outIndices: [2, 3], calibrationImages: calib });
    calib.dispose();
    await saveBackboneWeights(fileStore(root), extractor);
    weights = join(root, 'b0.safetensors');
    await rename(join(root, 'backbone.safetensors'), weights);
    model = createRLR(specFromFeatureInfo(extractor.featureInfo, SIZE), { d: [16, 16], heads: 4, layers: 1, window: 3, seed: 9 });
    const official = await modelToOfficialTensors(model);
    await writeFile(join(root, 'rlr.pth'), writeTorchPth(officialTensorsByLevel(official)));
    await writeFile(join(root, 'rlr.safetensors'), serializeSafetensors(new Map([...official].map(([k, t]) => [k, { shape: t.shape, data: t.data }]))));
    // The reference scores: the same backbone file and the original model, in this process.
    const fromFile = await createBackbone('tf_efficientnet_b0', { weights, outIndices: [2, 3] });
    const testDir = join(data, 'grid', 'test');
    images = [];
    for (const t of await readdir(testDir)) for (const f of await readdir(join(testDir, t))) images.push(join(testDir, t, f));
    images.sort();
    const samples: Sample[] = images.map((path) => ({ path, category: 'x', label: 0, defectType: 'unknown' }));
    for await (const b of batches(samples, { batchSize: 8, resize: SIZE, crop: [SIZE, SIZE] })) {
      const r = await scoreImages(fromFile, model, b);
      b.samples.forEach((s, i) => expected.set(s.path, r.scores[i]));
    }
    fromFile.dispose();
    extractor.dispose();
  });

  afterAll(async () => {
    model?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each(['rlr.pth', 'rlr.safetensors'])('imports %s into a run folder whose predict scores equal the original model', async (file) => {
    const run = join(root, `run-${file}`);
    const r = await runBin(['import', '--official', join(root, file), ...BACKBONE, '--weights', weights, '--out', run, '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const result = jsonLines(r.stdout).at(-1)!;
    expect(result).toMatchObject({ event: 'result', run, format: file.endsWith('.pth') ? 'pth' : 'safetensors' });
    for (const f of ['run.json', 'model/config.json', 'model/weights.safetensors', 'model/backbone.safetensors']) expect(existsSync(join(run, f)), f).toBe(true);
    const manifest = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'done', imported: { format: result.format }, model: { backbone: 'tf_efficientnet_b0', imageSize: [SIZE, SIZE], hidden: [16, 16], layers: 1, heads: 4 } });
    expect(manifest.data).toBeUndefined();

    const p = await runBin(['predict', '--model', run, ...images, '--out', join(run, 'pred'), '--no-heatmaps', '--workers', '1', '--json']);
    expect(p.code, p.stderr.slice(-1500)).toBe(0);
    const lines = jsonLines(p.stdout).filter((e) => e.event === 'prediction');
    expect(lines).toHaveLength(images.length);
    for (const l of lines) {
      const want = expected.get(l.path as string)!;
      expect(Math.abs((l.score as number) - want), l.path as string).toBeLessThanOrEqual(1e-5 * Math.abs(want));
    }
  });

  it('eval of the imported run needs --data, and on MVTec AD categories prints the paper beside its numbers', async () => {
    const run = join(root, 'run-rlr.pth');
    const none = await runBin(['eval', '--model', run, '--workers', '1']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/holds imported weights and no dataset.*--data <root> --format mvtec/s);

    const out = join(root, 'report');
    const r = await runBin(['eval', '--model', run, '--data', data, '--format', 'mvtec', '--out', out, '--workers', '1', '--gallery', '0']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as MetricsReport;
    const paper = metrics.paper!;
    expect(paper.benchmark).toBe('mvtec');
    expect(paper.rows.map((row) => row.category)).toEqual(['grid', 'wood']);
    for (const row of paper.rows) {
      const want = PAPER_RESULTS.mvtec.categories[row.category];
      expect(row.image.paper).toBe(want.image_auroc);
      expect(row.image.ours).toBeCloseTo(100 * metrics.categories[row.category].image.auroc, 10);
      expect(row.image.delta).toBeCloseTo(row.image.ours! - want.image_auroc, 10);
      expect(row.pixel.delta).toBeCloseTo(100 * metrics.categories[row.category].pixel!.auroc - want.pixel_auroc, 10);
      // The printed table has the same row: ours, paper, Δ for image and pixel AUROC.
      const cells = [row.image.ours, row.image.paper, row.image.delta, row.pixel.ours, row.pixel.paper, row.pixel.delta].map((v, i) => `${i % 3 === 2 && v! > 0 ? '+' : ''}${v!.toFixed(1)}`);
      expect(r.stdout).toMatch(new RegExp(`${row.category}\\s+${cells.map((c) => c.replace(/[+.]/g, '\\$&')).join('\\s+')}`));
    }
    expect(paper.complete).toBe(false);
    expect(paper.mean.image.paper).toBeNull();
    expect(r.stdout).toContain('compared with the paper');
    expect(r.stdout).toContain('UniAD (unified) at 96.5 / 96.8');
    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Compared with the paper');
    expect(md).toMatch(/\| grid \| [\d.]+ \| 99\.8 \| [+-]?[\d.]+ \| [\d.]+ \| 98\.7 \|/);
    expect(md).toContain('imported from rlr.pth');

    // The synthetic generator's own dataset (its manifest back in place) is not compared.
    await rename(join(root, 'generator-manifest.json'), join(data, 'manifest.json'));
    const synth = join(root, 'report-synthetic');
    const s = await runBin(['eval', '--model', run, '--data', data, '--format', 'mvtec', '--out', synth, '--workers', '1', '--gallery', '0', '--quiet']);
    expect(s.code, s.stderr.slice(-1500)).toBe(0);
    expect((JSON.parse(await readFile(join(synth, 'metrics.json'), 'utf8')) as MetricsReport).paper).toBeUndefined();
    expect(s.stdout).not.toContain('compared with the paper');
  });

  it('a file that does not fit the backbone names the tensor and the expected shape (exit 4)', async () => {
    const wrong = await runBin(['import', '--official', join(root, 'rlr.pth'), '--backbone', 'tf_efficientnet_b0', '--out-indices', '1,2', '--image-size', String(SIZE), '--weights', weights, '--out', join(root, 'bad')]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('tensor "level0.projection.weight" has shape [40,16], expected [24, 16]: backbone level 0 has 24 channels');
    expect(wrong.stderr).toMatch(/--backbone, --out-indices and --image-size/);
    expect(existsSync(join(root, 'bad', 'run.json'))).toBe(false);
    await rm(join(root, 'bad'), { recursive: true, force: true });
  });
});
