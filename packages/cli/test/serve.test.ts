import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, jsonLines, runBin, spawnBin } from './bin-helpers.js';

/*
 * `rlr serve` through the built binary, on a tiny run trained on generated data: the scores of
 * the service equal `rlr predict`'s, a truncated upload is a 400 naming the problem, SIGTERM
 * finishes the requests in flight, a damaged model file stops the service from starting.
 */
const MODEL = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4', '--workers', '1'];

let root: string;
let run: string;
let images: string[];
const predicted = new Map<string, number>();

/** Start `rlr serve` on a free port; resolves with its URL once it prints it. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exit: Promise<number | null> }> {
  const child = spawnBin(['serve', ...args, '--port', '0', '--json']);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<number | null>((ok) => child.on('close', ok));
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const result = jsonLines(stdout).find((e) => e.event === 'result');
      if (result) ok({ child, url: String(result.url), output: () => stdout + stderr, exit });
    });
    void exit.then((code) => fail(new Error(`rlr serve exited ${code} before listening: ${stderr.slice(-1500)}`)));
  });
}

const post = (url: string, bytes: Uint8Array, query = '') => fetch(`${url}/v1/predict${query}`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });

describe.skipIf(!binBuilt)('rlr serve (built binary)', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-serve-'));
    const data = join(root, 'data');
    run = join(root, 'run');
    await generateDataset({ root: data, categories: ['grid'], trainCount: 6, testCount: 4, size: 64, seed: 2 });
    const t = await runBin(['train', '--data', data, '--format', 'mvtec', ...MODEL, '--epochs', '1', '--out', run, '--quiet']);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    const testDir = join(data, 'grid', 'test');
    images = [];
    for (const kind of await readdir(testDir)) for (const f of await readdir(join(testDir, kind))) images.push(join(testDir, kind, f));
    images.sort();
    const p = await runBin(['predict', '--model', run, ...images, '--threshold', '1', '--no-heatmaps', '--workers', '1', '--out', join(root, 'pred'), '--quiet']);
    expect(p.code, p.stderr.slice(-1500)).toBe(0);
    for (const line of (await readFile(join(root, 'pred', 'predictions.jsonl'), 'utf8')).trim().split('\n')) {
      const l = JSON.parse(line) as { path: string; score: number };
      predicted.set(l.path, l.score);
    }
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('scores uploads as rlr predict scores the files, refuses a truncated one, and serves the map', async () => {
    const s = await serve(['--model', run, '--threshold', '1', '--batch-wait-ms', '20']);
    try {
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200); // warmed up before it listens
      const bodies = await Promise.all(images.map(async (f) => (await post(s.url, readFileSync(f))).json()));
      bodies.forEach((b, i) => {
        const want = predicted.get(images[i])!;
        expect(Math.abs(b.score - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want));
        expect(b).toMatchObject({ threshold: 1, label: b.score >= 1 ? 1 : 0 });
        expect(b.normalizedScore).toBeCloseTo(Math.min(1, Math.max(0, b.score / 2)), 6); // 0.5 at --threshold 1
      });
      const truncated = await post(s.url, readFileSync(images[0]).subarray(0, 300));
      expect(truncated.status).toBe(400);
      expect((await truncated.json()).error).toMatch(/^the upload: /);
      const withMap = await (await post(s.url, readFileSync(images[1]), '?map=png')).json();
      expect(withMap.map).toMatchObject({ height: 64, width: 64 });
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/rlr_http_requests_total\{route="\/v1\/predict",status="400"\} 1/);
      expect(Number(/^rlr_batch_size_count (\d+)$/m.exec(metrics)?.[1])).toBeLessThan(images.length + 2); // concurrent uploads were batched
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  });

  it('without --threshold labels and normalises with the model\'s post-processor (validation normals), as rlr predict does', async () => {
    const pp = JSON.parse(readFileSync(join(run, 'model', 'postprocessor.json'), 'utf8')) as { image: { threshold: number; min: number; max: number } };
    const s = await serve(['--model', run]);
    try {
      const { threshold, min, max } = pp.image;
      for (const f of [images[0], images.at(-1)!]) {
        const b = await (await post(s.url, readFileSync(f))).json();
        expect(b.threshold).toBe(threshold);
        expect(b.label).toBe(b.score >= threshold ? 1 : 0);
        expect(b.normalizedScore).toBeCloseTo(Math.min(1, Math.max(0, 0.5 + (b.score - threshold) / (max - min))), 6);
      }
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  });

  it('on SIGTERM answers the requests in flight, then exits 0', async () => {
    const s = await serve(['--model', run, '--threshold', '1', '--max-batch', '1', '--max-queue', '64']);
    const bytes = readFileSync(images[0]);
    let killedAt = Infinity;
    const after: number[] = []; // statuses of the answers that came after the signal
    const answers = Array.from({ length: 40 }, () =>
      post(s.url, bytes).then(
        (r) => {
          if (performance.now() > killedAt) after.push(r.status);
          return r.status;
        },
        (e: Error) => `${e.message} ${String((e.cause as Error | undefined)?.message)}`,
      ),
    );
    // The signal goes as soon as the first answer is back: the other requests are in flight then.
    await Promise.race(answers);
    killedAt = performance.now();
    s.child.kill('SIGTERM');
    const statuses = await Promise.all(answers);
    expect(after.filter((c) => c === 200).length).toBeGreaterThan(0); // in flight at the signal, still answered
    expect(statuses.filter((c) => c !== 200 && c !== 503)).toEqual([]); // no reset, no dropped request
    expect(await s.exit).toBe(0);
    expect(s.output()).toMatch(/shutting down: finishing the requests in flight/);
  });

  it('--backend onnxruntime serves the exported model.onnx with the scores of rlr predict', async () => {
    const e = await runBin(['export', '--format', 'onnx', '--model', run, '--quiet']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const s = await serve(['--model', run, '--threshold', '1', '--backend', 'onnxruntime']);
    try {
      const bodies = await Promise.all(images.map(async (f) => (await post(s.url, readFileSync(f))).json()));
      bodies.forEach((b, i) => {
        const want = predicted.get(images[i])!;
        expect(Math.abs(b.score - want)).toBeLessThanOrEqual(1e-4 * Math.abs(want));
      });
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  });

  it('refuses to start on a damaged model file, naming it (exit 4)', async () => {
    const broken = join(root, 'broken');
    cpSync(run, broken, { recursive: true });
    const file = join(broken, 'model', 'weights.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    const r = await runBin(['serve', '--model', broken, '--port', '0']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(file);
  });
});
