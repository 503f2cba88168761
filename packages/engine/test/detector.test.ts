/**
 * The Detector end to end on generated data (demo-sized model, 64x64 images): fit, save, load in
 * a fresh `node` process with the same scores; thresholds from validation normals only.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { presets } from '@rlr/core';
import { createWorkerPool } from '@rlr/core/node';
import { batches, generateDataset, loadMvtec, type AnomalyDataset, type Sample } from '@rlr/data/node';
import { Detector, PostProcessor, POST_PROCESSOR_FILE, randomBackbone, type FitOptions } from '../src/node/index.js';

const run = promisify(execFile);
const SIZE = 64;
const geometry = { resize: SIZE, crop: [SIZE, SIZE] as [number, number] };

function fitOptions(): FitOptions {
  return {
    backbone: (train) => randomBackbone('tf_efficientnet_b0', train, { outIndices: [2, 3], geometry, count: 8 }),
    geometry,
    model: { kind: 'rlr', config: presets.demo },
    train: { epochs: 2, batchSize: 4, lr: 1e-3, seed: 7 },
    valFraction: 0.25,
  };
}

describe('Detector', () => {
  let dir: string;
  let ds: AnomalyDataset;
  let detector: Detector;
  let split: { train: Sample[]; val: Sample[] };

  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rlr-engine-'));
    await generateDataset({ root: join(dir, 'data'), categories: ['weave'], trainCount: 12, testCount: 6, size: SIZE, seed: 1 });
    ds = await loadMvtec(join(dir, 'data'));
    const r = await Detector.fitWithReport(ds, fitOptions());
    detector = r.detector;
    split = r.split;
  });
  afterAll(async () => {
    detector?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('predicts score, normalised score, label, map and mask with the fitted post-processor', async () => {
    const p = await detector.predict(ds.test[0].path);
    expect(Number.isFinite(p.score)).toBe(true);
    expect(p.map).toHaveLength(SIZE * SIZE);
    expect(p.mask).toHaveLength(SIZE * SIZE);
    expect(p.normalizedScore).toBeGreaterThanOrEqual(0);
    expect(p.normalizedScore).toBeLessThanOrEqual(1);
    expect(p.label).toBe(p.score >= detector.postProcessor!.imageThreshold ? 1 : 0);
    // The same image as bytes scores the same.
    const again = await detector.predict(new Uint8Array(await readFile(ds.test[0].path)));
    expect(again.score).toBe(p.score);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await detector.predict(ds.test[i].path);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evaluates a test set into image and pixel metrics', async () => {
    const m = await detector.evaluate(ds);
    expect(Object.keys(m.categories)).toEqual(['weave']);
    for (const v of [m.mean.image.auroc, m.mean.image.ap, m.mean.image.f1Max, m.mean.pixel!.auroc, m.mean.pixel!.aupro, m.pooled.auroc]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(m.threshold).toBe(detector.postProcessor!.imageThreshold);
  });

  it('takes its thresholds from the held-out validation normals only', async () => {
    const pp = detector.postProcessor!;
    expect(pp.state.source).toBe('validation-normals');
    expect(pp.state.images).toBe(split.val.length);
    expect(split.val.length).toBe(3);
    const testPaths = new Set(ds.test.map((s) => s.path));
    expect(split.val.some((s) => testPaths.has(s.path))).toBe(false);
    // Recomputed from the validation normals' own scores and maps, it is the same post-processor.
    const scores: number[] = [];
    const maps: Float32Array[] = [];
    for (const s of split.val) {
      const p = await detector.predict(s.path);
      scores.push(p.score);
      maps.push(p.map);
    }
    const again = PostProcessor.fromNormals(scores, Float32Array.from(maps.flatMap((m) => Array.from(m))));
    expect(again.imageThreshold).toBeCloseTo(pp.imageThreshold, 5);
    expect(again.pixelThreshold).toBeCloseTo(pp.pixelThreshold, 5);
  });

  it('changing the test images changes no threshold', async () => {
    // Other test images (another seed, other defects), the same training images.
    await generateDataset({ root: join(dir, 'other'), categories: ['weave'], trainCount: 12, testCount: 10, size: SIZE, seed: 1 + 1000, overwrite: true });
    const other = await loadMvtec(join(dir, 'other'));
    const swapped: AnomalyDataset = { ...ds, test: other.test };
    expect(swapped.test.map((s) => s.path)).not.toEqual(ds.test.map((s) => s.path));
    const refit = await Detector.fit(swapped, fitOptions());
    try {
      expect(refit.postProcessor!.toJSON()).toEqual(detector.postProcessor!.toJSON());
    } finally {
      refit.dispose();
    }
  });

  it('fits F1-max thresholds on a labelled validation set when one is given (not the test set)', async () => {
    // Labelled validation images from another generated set: normal and defective, with masks.
    await generateDataset({ root: join(dir, 'val'), categories: ['weave'], trainCount: 2, testCount: 8, size: SIZE, seed: 77, overwrite: true });
    const validation = (await loadMvtec(join(dir, 'val'))).test;
    expect(new Set(validation.map((s) => s.label))).toEqual(new Set([0, 1]));
    const labelled = await Detector.fit(ds, { ...fitOptions(), validation });
    try {
      const pp = labelled.postProcessor!;
      expect(pp.state.source).toBe('validation-labelled');
      expect(pp.state.images).toBe(validation.length);
      // The F1-max threshold is one of the validation scores.
      const scores = await Promise.all(validation.map(async (s) => (await labelled.predict(s.path)).score));
      expect(scores.some((v) => Math.abs(v - pp.imageThreshold) <= 1e-5 * Math.max(1, Math.abs(v)))).toBe(true);
      expect(pp.state.pixel).not.toBeNull();
    } finally {
      labelled.dispose();
    }
  });

  it('scores the same on worker threads (attachPool) as in this thread', async () => {
    const serial = await Promise.all(ds.test.slice(0, 4).map((s) => detector.predict(s.path)));
    const backendModule = pathToFileURL(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')).href;
    const pool = await createWorkerPool({ backend: 'wasm', backendModule, workers: 2 });
    try {
      await detector.attachPool(pool);
      const b = (await detector.evaluate(ds)).pooled;
      expect(Number.isFinite(b.auroc)).toBe(true);
      for (const [i, s] of ds.test.slice(0, 4).entries()) {
        const p = await detector.predict(s.path);
        expect(Math.abs(p.score - serial[i].score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(serial[i].score)));
      }
    } finally {
      await detector.detachPool();
      await pool.close();
    }
  });

  it('saves one model folder that a fresh node process loads with the same scores (1e-6)', async () => {
    const modelDir = join(dir, 'model');
    await detector.save(modelDir);
    expect(JSON.parse(await readFile(join(modelDir, POST_PROCESSOR_FILE), 'utf8'))).toEqual(detector.postProcessor!.toJSON());
    const paths = ds.test.map((s) => s.path);
    const here: number[] = [];
    const normalized: number[] = [];
    for (const p of paths) {
      const r = await detector.predict(p);
      here.push(r.score);
      normalized.push(r.normalizedScore!);
    }
    // A committed script beside this test, so that `@rlr/engine/node` resolves to the built workspace package.
    const script = join(import.meta.dirname, 'score-in-fresh-process.mjs');
    const { stdout } = await run(process.execPath, [script, modelDir, ...paths]);
    const there = JSON.parse(stdout) as [number, number][];
    expect(there).toHaveLength(paths.length);
    there.forEach(([score, norm], i) => {
      expect(Math.abs(score - here[i])).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(norm - normalized[i])).toBeLessThanOrEqual(1e-6);
    });
  });
});

describe('Detector with --resize-mode fit (letterboxed images)', () => {
  // 64x64 images fitted into a 32x64 crop: scaled to 32x32, 16 columns of padding on each side.
  const fit = { resize: 32, crop: [32, 64] as [number, number], mode: 'fit' as const };
  let dir: string;
  let detector: Detector;
  let val: Sample[];

  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rlr-engine-fit-'));
    await generateDataset({ root: join(dir, 'data'), categories: ['weave'], trainCount: 12, testCount: 2, size: SIZE, seed: 4 });
    const r = await Detector.fitWithReport(await loadMvtec(join(dir, 'data')), {
      backbone: (train) => randomBackbone('tf_efficientnet_b0', train, { outIndices: [2, 3], geometry: fit, count: 8 }),
      geometry: fit,
      model: { kind: 'rlr', config: presets.demo },
      train: { epochs: 1, batchSize: 4, lr: 1e-3, seed: 7 },
      valFraction: 0.34,
    });
    detector = r.detector;
    val = r.split.val;
  });
  afterAll(async () => {
    detector?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the padding out of maps, scores and the thresholds fitted on validation normals', async () => {
    const scores: number[] = [];
    const maps: Float32Array[] = [];
    let differs = false;
    for await (const b of batches(val, { batchSize: val.length, ...fit })) {
      expect(b.geometries).toHaveLength(val.length);
      const raw = await detector.scoreImages(b.images, b.samples.length); // padding included
      const r = await detector.scoreBatch(b);
      for (let i = 0; i < b.samples.length; i++) {
        const map = r.maps.subarray(i * 32 * 64, (i + 1) * 32 * 64);
        for (let y = 0; y < 32; y++) for (const x of [0, 15, 48, 63]) expect(map[y * 64 + x]).toBe(0);
        if (raw.scores[i] !== r.scores[i]) differs = true;
      }
      scores.push(...r.scores);
      maps.push(r.maps);
    }
    expect(differs).toBe(true); // the padding changes the raw scores, so the check below can fail
    const want = PostProcessor.fromNormals(scores, Float32Array.from(maps.flatMap((m) => Array.from(m))));
    expect(detector.postProcessor!.imageThreshold).toBeCloseTo(want.imageThreshold, 6);
    expect(detector.postProcessor!.pixelThreshold).toBeCloseTo(want.pixelThreshold, 6);
  });

  it('predict decodes with the fit mode and leaves the padding out, as scoreBatch does', async () => {
    for await (const b of batches([val[0]], { batchSize: 1, ...fit })) {
      const r = await detector.scoreBatch(b);
      for (const input of [val[0].path, new Uint8Array(await readFile(val[0].path))]) {
        const p = await detector.predict(input);
        expect(p.score).toBe(r.scores[0]);
        expect(p.map).toEqual(r.maps);
        expect(p.map[0]).toBe(0); // a padding pixel
      }
    }
  });
});

describe('Detector trained on tiles', () => {
  // 64x64 images cut into 32x32 tiles at stride 32: four tiles an image, one 64x64 stitched map.
  const tiles = { resize: 32, crop: [32, 32] as [number, number], tile: { size: [32, 32] as [number, number], stride: [32, 32] as [number, number], scale: 1 } };
  let dir: string;
  let detector: Detector;
  let ds: AnomalyDataset;

  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rlr-engine-tiles-'));
    await generateDataset({ root: join(dir, 'data'), categories: ['weave'], trainCount: 8, testCount: 2, size: SIZE, seed: 5 });
    ds = await loadMvtec(join(dir, 'data'));
    detector = await Detector.fit(ds, {
      backbone: (train) => randomBackbone('tf_efficientnet_b0', train, { outIndices: [2, 3], geometry: { resize: 32, crop: [32, 32] }, count: 4 }),
      geometry: tiles,
      model: { kind: 'knn', coreset: 0.5 },
      train: { epochs: 0, batchSize: 4, seed: 7 },
      valFraction: 0.25,
    });
  });
  afterAll(async () => {
    detector?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets thresholds from stitched validation maps and predicts a full-size stitched map from a path', async () => {
    const pp = detector.postProcessor!;
    expect(pp.state).toMatchObject({ source: 'validation-normals', images: 2 });
    const p = await detector.predict(ds.test[0].path);
    expect([p.height, p.width]).toEqual([SIZE, SIZE]);
    expect(p.map).toHaveLength(SIZE * SIZE);
    expect(p.label).toBe(p.score >= pp.imageThreshold ? 1 : 0);
    await expect(detector.predict(new Uint8Array(await readFile(ds.test[0].path)))).rejects.toThrow(/trained on tiles .* file path/);
    await expect(detector.evaluate(ds)).rejects.toThrow(/evaluate: this detector was trained on tiles/);
  });
});
