/**
 * Faults: weight downloads from servers that misbehave (node:http on 127.0.0.1). A server that
 * never answers used to keep `rlr train` silent for 791 s and ignore the first Ctrl-C; a garbage
 * body used to be cached as complete. Now: a connect/idle timeout (`--download-timeout`), one
 * SIGINT ends the download with the interrupt code, and nothing bad is cached.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binBuilt, childEnv, runBin, spawnBin } from '../bin-helpers.js';
import { TINY_MODEL, tinyDataset } from './integrity-helpers.js';

let root: string;
let data: string;
let server: Server;
let base: string;
let requests: string[] = [];

/** Every file under `dir` (relative), for "nothing was cached" checks. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** `rlr train` of the tiny model with backbone weights from `url`, downloads allowed. */
const trainArgs = (url: string, cacheDir: string, extra: string[] = []) =>
  ['train', '--data', data, '--format', 'mvtec', ...TINY_MODEL.filter((a, i, all) => a !== 'random' && all[i + 1] !== 'random'), '--weights', url, '--cache-dir', cacheDir, '--epochs', '1', '--out', join(root, `run-${requests.length}-${Date.now()}`), ...extra];
const online = childEnv({ RLR_OFFLINE: '0' });

describe.skipIf(!binBuilt)('integrity faults: weight downloads', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-integrity-download-'));
    data = await tinyDataset(root);
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url?.startsWith('/silent/')) return; // accepts, never answers
      if (req.url?.startsWith('/stall/')) {
        res.writeHead(200, { 'Content-Length': 10_000_000, ETag: '"s1"' });
        res.write(Buffer.alloc(64 * 1024, 1)); // then nothing
        return;
      }
      const html = '<html><body>502 Bad Gateway</body></html>';
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': html.length }).end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  });

  it('a server that never answers: --download-timeout 1 ends it in seconds, exit 4, the fix names the flag', async () => {
    requests = [];
    const cacheDir = join(root, 'cache-silent');
    const t0 = performance.now();
    const r = await runBin(trainArgs(`${base}/silent/model.safetensors`, cacheDir, ['--download-timeout', '1']), { env: online });
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(4);
    expect(seconds).toBeLessThan(20); // 3 attempts of 1 s, 1.5 s of pauses, plus start-up
    expect(requests.filter((u) => u.startsWith('/silent/'))).toHaveLength(3);
    expect(r.stderr).toContain(`downloading ${base}/silent/model.safetensors into ${cacheDir}`);
    expect(r.stderr).toMatch(/failed after 3 attempts \(no data from .* for 1 s/);
    expect(r.stderr).toMatch(/fix: .*--download-timeout.*--cache-dir/);
    expect(await filesUnder(cacheDir)).toEqual([]);
  });

  it('a bad --download-timeout is a usage error', async () => {
    const r = await runBin(trainArgs(`${base}/silent/model.safetensors`, join(root, 'cache-x'), ['--download-timeout', '0']), { env: online });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--download-timeout must be a number of seconds/);
  });

  it('an HTML page instead of safetensors: exit 4, the cache path named, nothing cached, the next run downloads again', async () => {
    requests = [];
    const cacheDir = join(root, 'cache-garbage');
    const url = `${base}/garbage/model.safetensors`;
    const r = await runBin(trainArgs(url, cacheDir), { env: online });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`download of ${url} into ${cacheDir}/url/127\\.0\\.0\\.1_\\d+/garbage/model\\.safetensors is not a valid safetensors file`));
    expect(r.stderr).toContain('nothing was cached');
    expect(await filesUnder(cacheDir)).toEqual([]);
    const again = await runBin(trainArgs(url, cacheDir), { env: online });
    expect(again.code).toBe(4);
    expect(requests).toHaveLength(2); // not served from the cache
  });

  it('one SIGINT during a stalled download ends rlr within a couple of seconds, exit 130, partial kept', async () => {
    requests = [];
    const cacheDir = join(root, 'cache-stall');
    const child = spawnBin(trainArgs(`${base}/stall/model.safetensors`, cacheDir), { env: online });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    // Wait until the download is under way (the request arrived and the body started).
    for (let i = 0; i < 300 && requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(requests).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const seconds = (performance.now() - t0) / 1000;
    expect(code, stderr).toBe(130);
    expect(seconds).toBeLessThan(2.5);
    expect(stderr).toMatch(/interrupted: download of .* was interrupted; 65536 bytes are kept in .*\.partial/);
    expect(stderr).toMatch(/fix: rerun the same command: the download resumes/);
    expect(requests).toHaveLength(1); // no retry after the signal
  });
});
