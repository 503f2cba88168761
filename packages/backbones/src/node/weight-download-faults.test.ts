/**
 * Download faults against local HTTP servers (node:http on 127.0.0.1): a file that changes version
 * between a partial download and its resume, servers without validators, truncated and garbage
 * bodies, a bad file already in the cache, a server that never answers or stalls mid-body, and an
 * abort signal. Nothing bad may end up in the cache, and nothing may hang.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serializeSafetensors } from '@rlr/core';
import { cachePathFor, DownloadAbortedError, ensureCached } from './weight-cache.js';

const version = (seed: number) =>
  Buffer.from(serializeSafetensors({ w: { shape: [50_000], data: Float32Array.from({ length: 50_000 }, (_, i) => Math.sin(i * seed)) } }));
const V1 = version(1);
const V2 = version(2); // same length as V1, other content
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let server: Server;
let base: string;
let seen: IncomingHttpHeaders[] = [];
/** What /versioned/ serves now, and whether it cuts the body in half. */
let current = { body: V1, etag: '"v1"', cut: false, honourIfRange: true };

function send(res: ServerResponse, headers: IncomingHttpHeaders, file: typeof current, validators: Record<string, string>): void {
  const m = /^bytes=(\d+)-$/.exec(headers.range ?? '');
  const ifRange = headers['if-range'];
  const rangeOk = m && (!file.honourIfRange || ifRange === undefined || ifRange === file.etag || ifRange === validators['Last-Modified']);
  const start = rangeOk ? Number(m[1]) : 0;
  const h: Record<string, string | number> = { ...validators, 'Content-Length': file.body.length - start };
  if (rangeOk) h['Content-Range'] = `bytes ${start}-${file.body.length - 1}/${file.body.length}`;
  res.writeHead(rangeOk ? 206 : 200, h);
  const part = file.body.subarray(start);
  if (file.cut) res.write(part.subarray(0, part.length >> 1), () => res.destroy());
  else res.end(part);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    seen.push(req.headers);
    if (path.startsWith('/versioned/')) return send(res, req.headers, current, { ETag: current.etag });
    if (path.startsWith('/lastmod/')) return send(res, req.headers, current, { 'Last-Modified': current.etag === '"v1"' ? 'Mon, 01 Jan 2024 00:00:00 GMT' : 'Tue, 02 Jan 2024 00:00:00 GMT' });
    if (path.startsWith('/novalidator/')) return send(res, req.headers, current, {});
    if (path.startsWith('/truncated/')) {
      const short = V1.subarray(0, V1.length - 4000); // a whole response of a truncated file
      res.writeHead(200, { 'Content-Length': short.length }).end(short);
      return;
    }
    if (path.startsWith('/garbage/')) {
      const html = '<html><body>Service temporarily unavailable</body></html>';
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': html.length }).end(html);
      return;
    }
    if (path.startsWith('/silent/')) return; // accepts the connection, never answers
    if (path.startsWith('/stall/')) {
      res.writeHead(200, { 'Content-Length': V1.length, ETag: '"s"' });
      res.write(V1.subarray(0, 10_000)); // then nothing, connection open
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'rlr-download-faults-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
afterEach(() => {
  seen = [];
  current = { body: V1, etag: '"v1"', cut: false, honourIfRange: true };
});

let n = 0;
const fresh = (route: string) => `${base}/${route}/model-${++n}.safetensors`;

/** A first run that gets half of version 1 and gives up, then the server publishes version 2. */
async function partialV1ThenV2(url: string): Promise<void> {
  current = { ...current, cut: true };
  await expect(ensureCached(url, { cacheDir, retries: 0 })).rejects.toThrow(/failed after 1 attempts/);
  expect(existsSync(`${cachePathFor(url, cacheDir)}.partial`)).toBe(true);
  current = { body: V2, etag: '"v2"', cut: false, honourIfRange: current.honourIfRange };
  seen = [];
}

describe('weight download faults', () => {
  it('a partial v1 and a server now serving v2: If-Range gets the whole v2, never a splice', async () => {
    const url = fresh('versioned');
    await partialV1ThenV2(url);
    const path = await ensureCached(url, { cacheDir });
    expect(seen.map((h) => [h.range, h['if-range']])).toEqual([[expect.stringMatching(/^bytes=\d+-$/), '"v1"']]);
    expect(readFileSync(path).equals(V2)).toBe(true);
  });

  it('the same with Last-Modified as the only validator', async () => {
    const url = fresh('lastmod');
    await partialV1ThenV2(url);
    const path = await ensureCached(url, { cacheDir });
    expect(seen[0]['if-range']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(readFileSync(path).equals(V2)).toBe(true);
  });

  it('a server that ignores If-Range and sends a 206 of v2: the changed ETag restarts the download', async () => {
    const url = fresh('versioned');
    current.honourIfRange = false;
    await partialV1ThenV2(url);
    const path = await ensureCached(url, { cacheDir });
    expect(seen.map((h) => h.range)).toEqual([expect.stringMatching(/^bytes=/), undefined]);
    expect(readFileSync(path).equals(V2)).toBe(true);
  });

  it('no ETag and no Last-Modified: the next run restarts from byte 0', async () => {
    const url = fresh('novalidator');
    current.honourIfRange = false;
    await partialV1ThenV2(url);
    const path = await ensureCached(url, { cacheDir });
    expect(seen.map((h) => h.range)).toEqual([undefined]);
    expect(readFileSync(path).equals(V2)).toBe(true);
  });

  it('a truncated safetensors file is refused before caching, naming the cache path', async () => {
    const url = fresh('truncated');
    const target = cachePathFor(url, cacheDir);
    await expect(ensureCached(url, { cacheDir })).rejects.toThrow(
      new RegExp(`into ${esc(target)} is not a valid safetensors file: its tensors need ${V1.length} bytes but the file has ${V1.length - 4000} \\(truncated\\); nothing was cached`),
    );
    for (const f of [target, `${target}.sha256`, `${target}.partial`, `${target}.partial.json`]) expect(existsSync(f), f).toBe(false);
  });

  it('garbage (an HTML page) for a .safetensors or a model.json is refused before caching', async () => {
    const url = fresh('garbage');
    await expect(ensureCached(url, { cacheDir })).rejects.toThrow(/is not a valid safetensors file: its safetensors header length \d+ does not fit/);
    expect(existsSync(cachePathFor(url, cacheDir))).toBe(false);
    const json = `${base}/garbage/model.json`;
    await expect(ensureCached(json, { cacheDir })).rejects.toThrow(/is not a valid tfjs-model file: it is not JSON/);
    expect(existsSync(cachePathFor(json, cacheDir))).toBe(false);
  });

  it('a damaged file already in the cache (an older version cached it) is refused, naming it and the fix', async () => {
    const url = fresh('versioned');
    const target = cachePathFor(url, cacheDir);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, V1.subarray(0, 5000));
    await expect(ensureCached(url, { cacheDir })).rejects.toThrow(
      new RegExp(`cached ${esc(target)} \\(from .*\\) is damaged: .*truncated.*; delete ${esc(target)} .* or use another cache folder \\(--cache-dir, RLR_CACHE\\)`),
    );
    expect(seen).toHaveLength(0);
  });

  it('a server that accepts and never answers: the connect timeout ends each attempt', async () => {
    const url = fresh('silent');
    const t0 = performance.now();
    await expect(ensureCached(url, { cacheDir, timeoutMs: 300, retries: 1 })).rejects.toThrow(
      /failed after 2 attempts \(no data from .* for 0\.3 s \(connect\/idle timeout\)\)/,
    );
    const s = (performance.now() - t0) / 1000;
    expect(seen).toHaveLength(2);
    expect(s).toBeLessThan(3); // 2 x 0.3 s + 0.5 s pause
  });

  it('a body that stalls midway: the idle timeout ends it and the bytes received are kept', async () => {
    const url = fresh('stall');
    const progress: number[] = [];
    await expect(ensureCached(url, { cacheDir, timeoutMs: 300, retries: 0, onProgress: (p) => progress.push(p.loaded) })).rejects.toThrow(
      /no data from .* for 0\.3 s .*10000 bytes are kept in .*\.partial/,
    );
    expect(progress[0]).toBe(0); // progress starts with the answer, before any byte
    expect(progress.at(-1)).toBe(10_000);
  });

  it('an abort signal ends a stalled download at once, without retrying, keeping the partial file', async () => {
    const url = fresh('stall');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const t0 = performance.now();
    const err = await ensureCached(url, { cacheDir, timeoutMs: 30_000, signal: controller.signal }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DownloadAbortedError);
    expect((err as Error).message).toMatch(/was interrupted; 10000 bytes are kept in .*\.partial and the next run resumes/);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(seen).toHaveLength(1);
  });
});
