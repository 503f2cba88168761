import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { validateMetricsReport, type MetricsReport } from '../src/metrics-report.js';
import { binBuilt, childEnv, jsonLines, runBin, spawnBin } from './bin-helpers.js';

/*
 * End to end through the real binary (node dist/bin.js) on a tiny generated dataset: 64x64
 * images, two categories, the smallest model (one layer, width 32), a random calibrated backbone.
 */
const MODEL = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4'];

let root: string;
let data: string;
let run: string;
/** Scores of `predict` on grid/test, by file name. */
const predicted = new Map<string, number>();

describe.skipIf(!binBuilt)('rlr train → eval → predict (built binary)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-e2e-'));
    data = join(root, 'data');
    run = join(root, 'run');
    await generateDataset({ root: data, categories: ['grid', 'disc'], trainCount: 8, testCount: 6, size: 64, seed: 1 });
  });

  it('trains from a config file with flags overriding it, checkpoints, saves, reports JSON lines', async () => {
    // The data and model settings come from the file (relative to it); --epochs overrides its 5.
    const config = join(root, 'run.yaml');
    await writeFile(config, ['data: ./data', 'format: mvtec', 'model:', '  image_size: 64', '  out_indices: [1, 2]', '  hidden: [32, 32]', '  heads: 4', '  layers: 1', 'train:', '  epochs: 5', '  batch_size: 4', 'weights: random', 'preset: demo', ''].join('\n'));
    const r = await runBin(['train', '--config', config, '--epochs', '2', '--out', run, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.filter((e) => e.event === 'epoch').map((e) => e.epoch)).toEqual([1, 2]);
    expect(events.some((e) => e.event === 'progress' && e.task === 'extract features')).toBe(true);
    expect(events.filter((e) => e.event === 'warning')).toEqual([]); // the generator's manifest.json is part of the dataset
    const result = events.at(-1)!;
    expect(result).toMatchObject({ event: 'result', epochs: 2, run });
    expect(typeof result.final_loss).toBe('number');
    for (const f of ['run.json', 'history.json', 'model/config.json', 'model/weights.safetensors', 'checkpoint/checkpoint.json', 'features/features.json']) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'done', epochsDone: 2, pretrained: false, preset: 'demo', data: { root: data, format: 'mvtec' } });
    expect(manifest.model).toMatchObject({ imageSize: [64, 64], outIndices: [1, 2], hidden: [32, 32], heads: 4, layers: 1 });
    expect(manifest.train).toMatchObject({ epochs: 2, batchSize: 4 });
    expect(manifest.calibrationImages).toBeUndefined(); // the random backbone is saved with the model instead
    expect(existsSync(join(run, 'model', 'backbone.safetensors'))).toBe(true);
    const history = JSON.parse(await readFile(join(run, 'history.json'), 'utf8'));
    expect(history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    // The default 10 % validation split: recorded, scored every epoch, never a test image.
    const split = JSON.parse(await readFile(join(run, 'validation.json'), 'utf8'));
    expect(split).toMatchObject({ fraction: 0.1, seed: 3407, normals: 16, train: 14 });
    expect(split.images.every((p: string) => p.includes(`${join('train', 'good')}`))).toBe(true);
    for (const h of history) expect(typeof h.valLoss === 'number' && h.valScores.p95 <= h.valScores.max).toBe(true);
    expect(events.find((e) => e.event === 'epoch')).toHaveProperty('val_loss');
  });

  it('evaluates: metrics.json in schema, report.md, self-contained report.html, gallery PNGs', async () => {
    const out = join(root, 'report'); // not the default: predict finds it through run.json
    const r = await runBin(['eval', '--model', run, '--out', out, '--quiet']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stdout).toContain('I-AUROC');
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as MetricsReport;
    expect(validateMetricsReport(metrics)).toEqual([]);
    expect(Object.keys(metrics.categories).sort()).toEqual(['disc', 'grid']);
    for (const c of Object.values(metrics.categories)) {
      expect(c.pixel).not.toBeNull();
      expect(c.counts.normal + c.counts.anomalous).toBe(6);
    }
    expect(metrics.mean.pixel).not.toBeNull();
    const manifest = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(metrics.model).toMatchObject({ backbone: manifest.model.backbone, pretrained: false, epochs: 2 });
    expect(metrics.data).toEqual({ root: data, format: 'mvtec', categories: ['disc', 'grid'], test_images: 12, skipped: 0 });
    expect(metrics.timing.total_s).toBeGreaterThan(0);

    const md = await readFile(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| disc \| 2 \| 4 \|/);
    expect(md).toMatch(/randomly initialised/);
    expect(md).toContain(`- **root**: ${data}`);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((html.match(/<svg /g) ?? []).length).toBe(3); // ROC, PR, loss
    expect(html).toContain('data:image/png;base64,');
    const pngs = (await readdir(join(out, 'gallery'))).filter((f) => f.endsWith('_overlay.png'));
    expect(pngs.length).toBeGreaterThanOrEqual(4);
    const meta = await sharp(join(out, 'gallery', pngs[0])).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([64, 64, 'png']);
  });

  it('predicts a folder with the threshold fitted on validation normals, writes overlays and JSON lines; unreadable images exit 3', async () => {
    const out = join(root, 'pred');
    const images = join(data, 'grid', 'test');
    const bad = join(root, 'bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(bad, { recursive: true }));
    await writeFile(join(bad, 'broken.png'), 'this is not a png');
    const r = await runBin(['predict', '--model', run, images, join(bad, 'broken.png'), '--out', out, '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(3);
    const preds = jsonLines(r.stdout).filter((e) => e.event === 'prediction');
    expect(preds).toHaveLength(7);
    // The model's post-processor (validation normals), not the eval report's test-set F1-max threshold.
    const post = JSON.parse(await readFile(join(run, 'model', 'postprocessor.json'), 'utf8'));
    expect(post).toMatchObject({ version: 1, source: 'validation-normals', images: 2 });
    const threshold = post.image.threshold as number;
    const good = preds.filter((p) => p.error === undefined);
    expect(good).toHaveLength(6);
    for (const p of good) {
      expect(typeof p.score).toBe('number');
      expect(p.threshold).toBe(threshold);
      expect(p.label).toBe((p.score as number) >= threshold ? 1 : 0);
      expect(p.normalized_score as number).toBeGreaterThanOrEqual(0);
      expect(p.normalized_score as number).toBeLessThanOrEqual(1);
      expect((p.normalized_score as number) >= 0.5).toBe(p.label === 1);
      expect(existsSync(p.heatmap as string)).toBe(true);
    }
    expect(preds.find((p) => p.error !== undefined)?.path).toContain('broken.png');
    expect(jsonLines(r.stdout).find((e) => e.event === 'result')).toMatchObject({ threshold, threshold_source: join(run, 'model', 'postprocessor.json') });
    const lines = (await readFile(join(out, 'predictions.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(7);
    for (const p of good) predicted.set(relative(data, p.path as string), p.score as number);
  });

  it("--threshold-mode category labels each image with its category's threshold, falling back to the pooled one", async () => {
    const loose = join(root, 'loose');
    await import('node:fs/promises').then(async (fs) => {
      await fs.mkdir(loose, { recursive: true });
      await fs.copyFile(join(data, 'disc', 'test', 'good', '000.png'), join(loose, 'unsorted.png'));
    });
    const r = await runBin(['predict', '--model', run, join(data, 'grid', 'test'), join(data, 'disc', 'test'), loose, '--threshold-mode', 'category', '--out', join(root, 'pred-cat'), '--json', '--no-heatmaps']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(root, 'report', 'metrics.json'), 'utf8')) as MetricsReport;
    const events = jsonLines(r.stdout);
    const preds = events.filter((e) => e.event === 'prediction');
    expect(preds).toHaveLength(13);
    for (const p of preds) {
      const cat = relative(data, p.path as string).split('/')[0];
      if ((p.path as string).startsWith(loose)) expect([p.category, p.threshold]).toEqual([null, metrics.pooled.image.threshold]);
      else expect([p.category, p.threshold], p.path as string).toEqual([cat, metrics.categories[cat].image.threshold]);
      expect(p.label).toBe((p.score as number) >= (p.threshold as number) ? 1 : 0);
    }
    const warnings = events.filter((e) => e.event === 'warning').map((e) => e.message as string);
    expect(warnings.some((m) => /1 image\(s\) are in no known category folder, so they got the pooled threshold/.test(m))).toBe(true);
    // The per-category thresholds are the test set's own F1-max: predict says they are an oracle figure.
    expect(warnings.some((m) => /per-category thresholds from .*metrics\.json: F1-max on the test set .*oracle/.test(m))).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'result', threshold_mode: 'category', thresholds: { grid: metrics.categories.grid.image.threshold, disc: metrics.categories.disc.image.threshold } });
    // --category names the category of every input; one the report lacks is a usage error.
    const forced = await runBin(['predict', '--model', run, loose, '--category', 'grid', '--out', join(root, 'pred-cat2'), '--json', '--no-heatmaps']);
    expect(jsonLines(forced.stdout).find((e) => e.event === 'prediction')).toMatchObject({ category: 'grid', threshold: metrics.categories.grid.image.threshold });
    const wrong = await runBin(['predict', '--model', run, loose, '--category', 'bottle', '--out', join(root, 'pred-cat3')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--category bottle: .*has no threshold for it\n {2}fix: use one of disc, grid/);
  });

  it('scores the same after the training images moved: the random backbone comes from the model folder', async () => {
    const moved = join(root, 'data-moved');
    await rename(data, moved);
    try {
      const r = await runBin(['predict', '--model', run, join(moved, 'grid', 'test'), '--out', join(root, 'pred-moved'), '--json', '--no-heatmaps']);
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
      const preds = jsonLines(r.stdout).filter((e) => e.event === 'prediction');
      expect(preds).toHaveLength(predicted.size);
      for (const p of preds) expect(p.score, p.path as string).toBe(predicted.get(relative(moved, p.path as string)));
    } finally {
      await rename(moved, data);
    }
  });

  it('trains and scores the same with 1 and 2 worker threads (up to float rounding)', async () => {
    const history = async (workers: number, extra: string[] = []) => {
      const dir = join(root, `workers-${workers}`);
      const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...MODEL, '--epochs', '2', '--out', dir, '--workers', String(workers), '--quiet', ...extra]);
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
      return { dir, losses: (JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')) as { loss: number }[]).map((h) => h.loss) };
    };
    const serial = await history(1);
    // The same run with a higher post-processor sensitivity: the same weights, a lower threshold.
    const parallel = await history(2, ['--sensitivity', '0.9']);
    parallel.losses.forEach((l, i) => expect(Math.abs(l - serial.losses[i]) / serial.losses[i], `epoch ${i + 1}`).toBeLessThan(1e-5));
    const post = async (dir: string) => JSON.parse(await readFile(join(dir, 'model', 'postprocessor.json'), 'utf8')) as { sensitivity: number; image: { threshold: number; min: number; max: number } };
    const [calm, eager] = [await post(serial.dir), await post(parallel.dir)];
    expect([calm.sensitivity, eager.sensitivity]).toEqual([0.5, 0.9]);
    expect(eager.image.threshold).toBeCloseTo(calm.image.threshold - 0.4 * (calm.image.max - calm.image.min), 3);
    const scores = async (workers: number) => {
      const r = await runBin(['predict', '--model', parallel.dir, join(data, 'grid', 'test'), '--out', join(root, `pred-workers-${workers}`), '--no-heatmaps', '--workers', String(workers), '--json']);
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
      return jsonLines(r.stdout).filter((e) => e.event === 'prediction').map((e) => e.score as number);
    };
    const one = await scores(1);
    const two = await scores(2);
    expect(two).toHaveLength(6);
    two.forEach((s, i) => expect(Math.abs(s - one[i]) / Math.abs(one[i]), `image ${i}`).toBeLessThanOrEqual(1e-5));
  });

  it('resumes a killed training from its last checkpoint', async () => {
    const dir = join(root, 'killed');
    const child = spawnBin(['train', '--data', data, '--format', 'mvtec', ...MODEL, '--epochs', '200', '--out', dir, '--json']);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const killedAfter = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const epochs = jsonLines(out.slice(0, out.lastIndexOf('\n') + 1)).filter((e) => e.event === 'epoch' && e.checkpoint === true);
        if (epochs.length >= 2) {
          child.kill('SIGKILL');
          resolve(epochs.at(-1)!.epoch as number);
        }
      });
      child.on('close', () => reject(new Error(`training ended before it was killed:\n${out.slice(-1000)}\n${err.slice(-1500)}`)));
    });
    await new Promise((r) => child.on('close', r));
    expect(killedAfter).toBeGreaterThanOrEqual(2);
    const target = killedAfter + 2;
    const r = await runBin(['train', '--out', dir, '--resume', '--epochs', String(target), '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const events = jsonLines(r.stdout);
    const resumed = events.find((e) => e.event === 'resume');
    // SIGKILL may land after a later checkpoint was written, never before the one we saw.
    expect(resumed?.epoch).toBeGreaterThanOrEqual(killedAfter);
    const epochs = events.filter((e) => e.event === 'epoch').map((e) => e.epoch as number);
    expect(epochs[0]).toBe((resumed!.epoch as number) + 1);
    expect(epochs.at(-1)).toBe(target);
    expect(events.some((e) => e.event === 'progress' && e.task === 'extract features')).toBe(false); // features were cached
    const history = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')) as { epoch: number }[];
    expect(history.map((h) => h.epoch)).toEqual(Array.from({ length: target }, (_, i) => i + 1));
  });

  it('Ctrl-C saves a checkpoint and exits with 130', async () => {
    const dir = join(root, 'interrupted');
    const child = spawnBin(['train', '--data', data, '--format', 'mvtec', ...MODEL, '--epochs', '200', '--out', dir, '--json']);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout!.on('data', (d) => {
        out += d;
        if (!child.killed && jsonLines(out.slice(0, out.lastIndexOf('\n') + 1)).some((e) => e.event === 'epoch')) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(code, err.slice(-1500)).toBe(130);
    expect(err).toMatch(/stopping at the next safe point/);
    const manifest = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    expect(existsSync(join(dir, 'checkpoint', 'checkpoint.json'))).toBe(true);
    const errorEvent = jsonLines(out).find((e) => e.event === 'error');
    expect(errorEvent?.hint).toContain('--resume');
  });
});

describe.skipIf(!binBuilt)('bad input reaches the user as one line and a fix', () => {
  let mvtec: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-bad-'));
    mvtec = join(dir, 'data');
    await generateDataset({ root: mvtec, categories: ['grid'], trainCount: 2, testCount: 2, size: 32, seed: 2 });
  });

  function expectShortError(stderr: string) {
    // Status lines may come first; the error is the last two lines.
    const lines = stderr.trim().split('\n').slice(-2);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[1]).toMatch(/^ {2}fix: /);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  }

  it('wrong dataset format: exit 3', async () => {
    const r = await runBin(['train', '--data', mvtec, '--format', 'visa', '--weights', 'random', '--out', join(mvtec, '..', 'r1')]);
    expect(r.code, r.stderr.slice(-1500)).toBe(3);
    expectShortError(r.stderr);
    expect(r.stderr).toMatch(/1cls\.csv|split/);
  });

  it('missing weights in offline mode: exit 4', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'rlr-cache-'));
    const r = await runBin(['train', '--data', mvtec, '--format', 'mvtec', '--preset', 'demo', '--out', join(mvtec, '..', 'r2')], { env: childEnv({ RLR_CACHE: cache }) });
    expect(r.code, r.stderr.slice(-1500)).toBe(4);
    expectShortError(r.stderr);
    expect(r.stderr).toMatch(/offline/);
    expect(r.stderr).toMatch(/--weights/);
  });

  it('unreadable training image: exit 3 naming the file', async () => {
    await writeFile(join(mvtec, 'grid', 'train', 'good', 'zz_broken.png'), 'garbage');
    const r = await runBin(['train', '--data', mvtec, '--format', 'mvtec', ...MODEL, '--epochs', '1', '--out', join(mvtec, '..', 'r3')]);
    expect(r.code, r.stderr.slice(-1500)).toBe(3);
    expectShortError(r.stderr);
    expect(r.stderr).toContain('zz_broken.png');
  });

  it('not a run folder: exit 4; --verbose adds the stack', async () => {
    const r = await runBin(['eval', '--model', join(mvtec, 'nope')]);
    expect(r.code, r.stderr.slice(-1500)).toBe(4);
    expectShortError(r.stderr);
    const v = await runBin(['eval', '--model', join(mvtec, 'nope'), '--verbose']);
    expect(v.stderr).toMatch(/\n\s+at /);
    // --resume of a folder that holds no run: the fix speaks of train's options, not eval's --model.
    const resume = await runBin(['train', '--out', join(mvtec, 'nope'), '--resume']);
    expect(resume.code, resume.stderr.slice(-1500)).toBe(4);
    expectShortError(resume.stderr);
    expect(resume.stderr).toMatch(/fix: .*--out .*--resume/);
    expect(resume.stderr).not.toMatch(/--model/);
  });

  it('bad flag values: exit 2', async () => {
    const r = await runBin(['train', '--data', mvtec, '--format', 'mvtec', '--hidden', '100', '--out', join(mvtec, '..', 'r4')]);
    expect(r.code, r.stderr.slice(-1500)).toBe(2);
    expectShortError(r.stderr);
  });

  it('a failed train leaves nothing that stops the same command from running again', async () => {
    await rm(join(mvtec, 'grid', 'train', 'good', 'zz_broken.png'), { force: true }); // left by the test above
    // Settings that do not fit the grids (64 px at levels 1, 2: 16x16 and 8x8) fail before anything is written.
    const out = join(mvtec, '..', 'r5');
    const bad = await runBin(['train', '--data', mvtec, '--format', 'mvtec', ...MODEL, '--window', '9', '--epochs', '1', '--out', out]);
    expect(bad.code, bad.stderr.slice(-1500)).toBe(2);
    expectShortError(bad.stderr);
    expect(bad.stderr).toMatch(/RLR level 1 window: window 9 covers the whole 8x8 grid.*at most 7/);
    expect(existsSync(out)).toBe(false);
    // A run that fails after it started (diverging before its first checkpoint) removes its run.json.
    const diverged = await runBin(['train', '--data', mvtec, '--format', 'mvtec', ...MODEL, '--epochs', '3', '--checkpoint-every', '0', '--lr', '1e30', '--out', out]);
    expect(diverged.code, diverged.stderr.slice(-1500)).toBe(2);
    expect(diverged.stderr).toMatch(/training diverged[\s\S]*fix: lower --lr/);
    expect(existsSync(join(out, 'run.json'))).toBe(false);
    const ok = await runBin(['train', '--data', mvtec, '--format', 'mvtec', ...MODEL, '--window', '5,3', '--epochs', '1', '--out', out, '--json']);
    expect(ok.code, ok.stderr.slice(-1500)).toBe(0);
    expect(jsonLines(ok.stdout).some((e) => e.event === 'progress' && e.task === 'extract features')).toBe(false); // the cache was kept
    expect(JSON.parse(await readFile(join(out, 'model', 'config.json'), 'utf8')).levels.map((l: { window: number }) => l.window)).toEqual([5, 3]);
  });
});

describe.skipIf(!binBuilt)('rlr bench', () => {
  it('measures a backend × preset in a child process and writes the JSON rows', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'rlr-bench-')), 'bench.json');
    const r = await runBin(['bench', '--backends', 'wasm', '--presets', 'demo', '--iterations', '1', '--warmup', '0', '--batch-size', '2', '--workers', '2', '--json', file]);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    expect(r.stdout).toMatch(/extract ms\/img/);
    const rows = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ backend: 'wasm', workers: 2, model: 'rlr', preset: 'demo', backbone: 'tf_efficientnet_b3', image_size: [128, 128], batch: 2 });
    for (const k of ['extract_ms_per_image', 'train_step_ms_per_image', 'infer_ms_per_image', 'peak_rss_mb']) {
      expect(rows[0][k], k).toBeGreaterThan(0);
    }
    expect(Object.keys(rows[0]).sort()).toEqual(['backbone', 'backend', 'batch', 'extract_ms_per_image', 'image_size', 'infer_ms_per_image', 'model', 'peak_rss_mb', 'preset', 'train_step_ms_per_image', 'workers']);
  });
});
