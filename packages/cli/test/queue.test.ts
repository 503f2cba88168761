import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, jsonLines, runBin, spawnBin } from './bin-helpers.js';
import { freePort, hasRedisServer, startRedis, type TestRedis } from './redis-server.js';

/*
 * `rlr worker` / `rlr submit` on a real Redis (Debian's redis-server, started here at a free port):
 * two workers score generated images while one is SIGKILLed mid-run (a tenth of the way); every image is in the output
 * exactly once, with the score `rlr predict` gives it. CI installs redis-server; elsewhere the
 * suite skips without it.
 */
const MODEL = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4', '--workers', '1'];
const COUNT = 500;

if (!hasRedisServer && process.env.CI) throw new Error('redis-server is not installed: CI must install it (.ci/run: apt-get install -y redis-server)');
if (!hasRedisServer) console.warn('skipping the queue tests: redis-server is not installed (apt-get install -y redis-server)');

let root: string;
let run: string;
let redis: TestRedis;
let images: string[];
let truncated: string;
const predicted = new Map<string, number>();

/** Start `rlr worker`; resolves once it is consuming. */
function startWorker(args: string[]): Promise<{ child: ChildProcess; exit: Promise<number | null>; output: () => string }> {
  const child = spawnBin(['worker', ...args, '--json']);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
  return new Promise((ok, fail) => {
    child.stdout!.on('data', () => {
      if (jsonLines(out).some((e) => e.event === 'result')) ok({ child, exit, output: () => out });
    });
    void exit.then((code) => fail(new Error(`rlr worker exited ${code}: ${out.slice(-1500)}`)));
  });
}

describe.skipIf(!binBuilt || !hasRedisServer)('rlr worker + rlr submit on Redis (built binary)', () => {
  beforeAll(async () => {
    redis = await startRedis();
    root = await mkdtemp(join(tmpdir(), 'rlr-queue-'));
    const data = join(root, 'data');
    run = join(root, 'run');
    await generateDataset({ root: data, categories: ['grid'], trainCount: 6, testCount: 2, size: 64, seed: 3 });
    const t = await runBin(['train', '--data', data, '--format', 'mvtec', ...MODEL, '--epochs', '1', '--out', run, '--quiet']);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    // Small generated images: smooth gradients with a seeded blob, 48x48 (resized to the run's 64).
    const dir = join(root, 'incoming');
    await mkdir(dir);
    images = [];
    for (let i = 0; i < COUNT; i++) {
      const px = Buffer.alloc(48 * 48 * 3);
      for (let y = 0; y < 48; y++) {
        for (let x = 0; x < 48; x++) {
          const d = (x - (i % 40) - 4) ** 2 + (y - ((i * 7) % 40) - 4) ** 2;
          const o = (y * 48 + x) * 3;
          px[o] = (x * 5 + i) & 255;
          px[o + 1] = d < 20 ? 250 : (y * 5) & 255;
          px[o + 2] = 128;
        }
      }
      const file = join(dir, `img-${String(i).padStart(4, '0')}.png`);
      await sharp(px, { raw: { width: 48, height: 48, channels: 3 } }).png().toFile(file);
      images.push(file);
    }
    truncated = join(dir, 'truncated.png');
    writeFileSync(truncated, readFileSync(images[0]).subarray(0, 200));
    const p = await runBin(['predict', '--model', run, dir, '--threshold', '1', '--no-heatmaps', '--workers', '1', '--out', join(root, 'pred'), '--quiet']);
    expect(p.code).toBe(3); // the truncated image
    for (const line of (await readFile(join(root, 'pred', 'predictions.jsonl'), 'utf8')).trim().split('\n')) {
      const l = JSON.parse(line) as { path: string; score: number | null };
      if (l.score !== null) predicted.set(l.path, l.score);
    }
    expect(predicted.size).toBe(COUNT);
  }, 300_000);
  afterAll(async () => {
    await redis?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('two workers, one SIGKILLed mid-run: every image scored exactly once, as rlr predict scores it', async () => {
    const common = ['--queue', redis.url, '--model', run, '--threshold', '1', '--concurrency', '4', '--lock-ms', '2000'];
    const [a, b] = await Promise.all([startWorker(common), startWorker(common)]);
    const out = join(root, 'predictions.jsonl');
    const t0 = performance.now();
    const submitter = spawnBin(['submit', '--queue', redis.url, join(root, 'incoming'), '--out', out, '--backoff-ms', '200', '--json']);
    let stdout = '';
    let stderr = '';
    submitter.stdout!.on('data', (d) => (stdout += d));
    submitter.stderr!.on('data', (d) => (stderr += d));
    const submit = new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => submitter.on('close', (code) => ok({ code, stdout, stderr })));
    // Kill worker a mid-run: once the progress shows a tenth of the images scored.
    const progress = () => jsonLines(stdout).filter((e) => e.event === 'progress' && e.task === 'score').map((e) => Number(e.done));
    for (const end = Date.now() + 60_000; Date.now() < end && !(Math.max(0, ...progress()) >= COUNT / 10); ) await new Promise((ok) => setTimeout(ok, 50));
    a.child.kill('SIGKILL');
    const doneAtKill = Math.max(0, ...progress());
    expect(doneAtKill).toBeGreaterThanOrEqual(COUNT / 10);
    expect(doneAtKill).toBeLessThan(COUNT); // the kill is mid-run: images are still to score
    const killedAt = performance.now() - t0;
    const r = await submit;
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr.slice(-1500)).toBe(3); // the truncated image failed; the rest were scored
    expect(r.stdout + r.stderr).toContain(`${truncated}:`);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; score: number | null; error?: string; worker?: string });
    expect(lines.length).toBe(COUNT + 1);
    expect(new Set(lines.map((l) => l.path)).size).toBe(COUNT + 1);
    const bad = lines.filter((l) => l.error !== undefined);
    expect(bad.map((l) => l.path)).toEqual([truncated]);
    expect(bad[0].error).toMatch(/truncated\.png: .*(truncated|corrupt|could not be decoded)/i);
    for (const l of lines) {
      if (l.path === truncated) continue;
      const want = predicted.get(l.path)!;
      expect(Math.abs(l.score! - want), l.path).toBeLessThanOrEqual(1e-5 * Math.abs(want));
    }
    const byWorker = new Map<string, number>();
    for (const l of lines) if (l.worker) byWorker.set(l.worker, (byWorker.get(l.worker) ?? 0) + 1);
    expect(byWorker.size).toBe(2); // both worked before one was killed
    console.log(`queue: ${COUNT} images in ${seconds.toFixed(1)} s, worker killed at ${(killedAt / 1000).toFixed(1)} s after ${doneAtKill} images, by worker: ${[...byWorker.values()].join(' / ')}`);

    // A re-submit adds no job and gives the same lines (the surviving worker alone).
    const again = await runBin(['submit', '--queue', redis.url, join(root, 'incoming'), '--out', join(root, 'again.jsonl'), '--quiet']);
    expect(again.code).toBe(3);
    const second = (await readFile(join(root, 'again.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; score: number | null });
    expect(second.map((l) => [l.path, l.score])).toEqual(lines.map((l) => [l.path, l.score]));

    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0);
    expect(b.output()).toMatch(/stopping: finishing the active jobs/);
  }, 240_000);

  it('scores images given by URL (the workers fetch them) as rlr predict scores the files; a 404 is a failed line naming the URL', async () => {
    const served = images.slice(0, 5);
    const server = createServer((req, res) => {
      const i = Number(/^\/img\/(\d+)\.png$/.exec(req.url ?? '')?.[1] ?? -1);
      if (!(i >= 0 && i < served.length)) return void res.writeHead(404).end('not here');
      res.writeHead(200, { 'content-type': 'image/png' }).end(readFileSync(served[i]));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const w = await startWorker(['--queue', redis.url, '--model', run, '--threshold', '1', '--queue-name', 'urls']);
    try {
      const urls = [...served.map((_, i) => `${base}/img/${i}.png`), `${base}/img/missing.png`];
      const out = join(root, 'by-url.jsonl');
      const r = await runBin(['submit', '--queue', redis.url, '--queue-name', 'urls', ...urls, '--attempts', '1', '--out', out, '--quiet']);
      expect(r.code, r.stderr.slice(-1500)).toBe(3); // the missing one
      const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { url?: string; path?: string; score: number | null; error?: string });
      expect(lines.map((l) => l.url)).toEqual(urls);
      served.forEach((file, i) => {
        const want = predicted.get(file)!;
        expect(Math.abs(lines[i].score! - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want));
      });
      expect(lines.at(-1)).toMatchObject({ score: null, error: expect.stringContaining(`GET ${base}/img/missing.png answered 404`) });
    } finally {
      w.child.kill('SIGTERM');
      await w.exit;
      server.close();
    }
  });

  it('an unreachable Redis is an error naming the URL within seconds (exit 6)', async () => {
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    for (const args of [
      ['worker', '--queue', url, '--model', run],
      ['submit', '--queue', url, join(root, 'incoming')],
    ]) {
      const t0 = performance.now();
      const r = await runBin(args, { cwd: root });
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toContain(`cannot reach Redis at ${url}`);
      expect(r.stderr).toMatch(/--queue/);
      expect(performance.now() - t0).toBeLessThan(8000);
    }
  });

  it('a worker refuses a damaged model file, naming it (exit 4)', async () => {
    const broken = join(root, 'broken');
    cpSync(run, broken, { recursive: true });
    const file = join(broken, 'model', 'weights.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    const r = await runBin(['worker', '--queue', redis.url, '--model', broken]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(file);
  });
});
