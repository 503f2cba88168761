/**
 * The download cache against a local HTTP server (node:http on 127.0.0.1): download once, progress,
 * checksums, resume with HTTP Range after a dropped connection, offline mode, `hf://` ids.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serializeSafetensors } from '@rlr/core';
import { resolveSourceUrl } from '../weight-source.js';
import { cachePathFor, defaultCacheDir, ensureCached, readWeightsFile } from './weight-cache.js';
import type { DownloadProgress } from '../weight-source.js';

// A real safetensors file of ~300 kB: .safetensors downloads are checked to parse before caching.
const BODY = Buffer.from(serializeSafetensors({ w: { shape: [75_000], data: Float32Array.from({ length: 75_000 }, (_, i) => Math.sin(i)) } }));
const SHA = createHash('sha256').update(BODY).digest('hex');

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
let dropsLeft = 0;

const ETAG = `"${SHA.slice(0, 16)}"`;

/** Serve `body` honouring `Range: bytes=N-` (and `If-Range`: a stale validator gets the whole file). */
function serveRange(headers: IncomingHttpHeaders, res: import('node:http').ServerResponse, body: Buffer): void {
  const m = /^bytes=(\d+)-$/.exec(headers.range ?? '');
  res.setHeader('ETag', ETAG);
  if (m && (headers['if-range'] === undefined || headers['if-range'] === ETAG)) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'Content-Length': body.length - start,
      'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length });
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    seen.push({ path, headers: req.headers });
    if (path.startsWith('/ok/')) return serveRange(req.headers, res, BODY);
    if (path.startsWith('/hf/')) {
      // Like huggingface.co/<repo>/resolve/...: a redirect to the CDN carrying the LFS sha256 and size.
      const sha = path.includes('corrupt') ? 'f'.repeat(64) : SHA;
      res.writeHead(302, { Location: `${base}/ok${path}`, 'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': BODY.length }).end();
      return;
    }
    if (path.startsWith('/norange/')) {
      res.writeHead(200, { 'Content-Length': BODY.length }).end(BODY);
      return;
    }
    if (path.startsWith('/drop/')) {
      if (dropsLeft > 0) {
        dropsLeft--;
        // Promise the whole file, send about half of what was asked for, then cut the connection.
        const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
        const status = start > 0 ? 206 : 200;
        const headers: Record<string, string | number> = { 'Content-Length': BODY.length - start, ETag: ETAG };
        if (start > 0) headers['Content-Range'] = `bytes ${start}-${BODY.length - 1}/${BODY.length}`;
        res.writeHead(status, headers);
        res.write(BODY.subarray(start, start + Math.floor((BODY.length - start) / 2)), () => res.destroy());
        return;
      }
      return serveRange(req.headers, res, BODY);
    }
    res.writeHead(404, 'Not Found').end('no such file');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'rlr-cache-test-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
afterEach(() => {
  seen = [];
  dropsLeft = 0;
});

let n = 0;
/** A fresh file name per test so that tests do not share cache entries. */
const fresh = (prefix: string) => `${base}/${prefix}/weights-${++n}.bin`;

describe('weight download cache', () => {
  it('downloads once with progress, checks sha256 and records it; the second call is served from disk', async () => {
    const url = fresh('ok');
    const progress: DownloadProgress[] = [];
    const path = await ensureCached(url, { cacheDir, sha256: SHA, onProgress: (p) => progress.push(p) });
    expect(path).toBe(cachePathFor(url, cacheDir));
    expect(readFileSync(path).equals(BODY)).toBe(true);
    expect(readFileSync(`${path}.sha256`, 'utf8').trim()).toBe(SHA);
    expect(progress.at(-1)).toEqual({ source: url, loaded: BODY.length, total: BODY.length });
    expect(progress.every((p, i) => i === 0 || p.loaded > progress[i - 1].loaded)).toBe(true);
    expect(existsSync(`${path}.partial`)).toBe(false);
    expect(seen).toHaveLength(1);
    await ensureCached(url, { cacheDir, sha256: SHA });
    expect(seen).toHaveLength(1); // no second request
  });

  it('resumes with an HTTP Range request when the server drops the connection midway', async () => {
    const url = fresh('drop');
    dropsLeft = 1;
    const progress: DownloadProgress[] = [];
    const bytes = await readWeightsFile(url, { cacheDir, sha256: SHA, onProgress: (p) => progress.push(p) });
    expect(Buffer.from(bytes).equals(BODY)).toBe(true);
    expect(seen).toHaveLength(2);
    expect(seen[0].headers.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(seen[1].headers.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(BODY.length);
    expect(progress.at(-1)?.loaded).toBe(BODY.length);
  });

  it('resumes a partial file left by an earlier run, with If-Range on the ETag it recorded', async () => {
    const url = fresh('ok');
    const target = cachePathFor(url, cacheDir);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.partial`, BODY.subarray(0, 1000));
    writeFileSync(`${target}.partial.json`, JSON.stringify({ url, etag: ETAG, total: BODY.length }));
    await ensureCached(url, { cacheDir, sha256: SHA });
    expect(seen.map((s) => [s.headers.range, s.headers['if-range']])).toEqual([['bytes=1000-', ETAG]]);
    expect(readFileSync(target).equals(BODY)).toBe(true);
    expect(existsSync(`${target}.partial.json`)).toBe(false);
  });

  it('restarts from byte 0 when nothing recorded proves the partial file is the same version', async () => {
    const url = fresh('ok');
    const target = cachePathFor(url, cacheDir);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.partial`, Buffer.alloc(1000, 9)); // no .partial.json beside it
    await ensureCached(url, { cacheDir, sha256: SHA });
    expect(seen.map((s) => s.headers.range)).toEqual([undefined]);
    expect(readFileSync(target).equals(BODY)).toBe(true);
  });

  it('starts over when the server ignores Range', async () => {
    const url = fresh('norange');
    const target = cachePathFor(url, cacheDir);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.partial`, Buffer.alloc(5000, 7));
    await ensureCached(url, { cacheDir });
    expect(readFileSync(target).equals(BODY)).toBe(true);
  });

  it('gives up after the retries, keeping the partial file for the next run', async () => {
    const url = fresh('drop');
    dropsLeft = 10;
    await expect(ensureCached(url, { cacheDir, retries: 2 })).rejects.toThrow(
      /failed after 3 attempts .* bytes are kept in .*\.partial and the next run resumes from there/,
    );
    expect(seen).toHaveLength(3);
    expect(existsSync(`${cachePathFor(url, cacheDir)}.partial`)).toBe(true);
    dropsLeft = 0;
    await ensureCached(url, { cacheDir, sha256: SHA }); // the next run completes it
  });

  it('rejects a wrong sha256 or size and leaves nothing in the cache', async () => {
    const url = fresh('ok');
    const wrong = '0'.repeat(64);
    await expect(ensureCached(url, { cacheDir, sha256: wrong })).rejects.toThrow(
      new RegExp(`into ${cachePathFor(url, cacheDir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has sha256 ${SHA}, expected ${wrong}.*nothing was cached`),
    );
    expect(existsSync(cachePathFor(url, cacheDir))).toBe(false);
    expect(existsSync(`${cachePathFor(url, cacheDir)}.partial`)).toBe(false);
    await expect(ensureCached(url, { cacheDir, size: 123 })).rejects.toThrow(new RegExp(`gave ${BODY.length} bytes, expected 123`));
  });

  it('reports an HTTP error without retrying', async () => {
    await expect(ensureCached(`${base}/missing/model.safetensors`, { cacheDir })).rejects.toThrow(
      /HTTP 404 Not Found .*\(check the name\)/,
    );
    expect(seen).toHaveLength(1);
  });

  it('offline mode never touches the network and says which file is missing and how to provide it', async () => {
    const url = fresh('ok');
    const target = cachePathFor(url, cacheDir);
    await expect(ensureCached(url, { cacheDir, offline: true })).rejects.toThrow(
      new RegExp(
        `offline mode: .* is not in the cache \\(expected at ${target.replace(
          /[.*+?^${}()|[\]\\]/g,
          '\\$&',
        )}\\)\\. Download .* place it at that path`,
      ),
    );
    const before = process.env.RLR_OFFLINE;
    process.env.RLR_OFFLINE = '1';
    try {
      await expect(ensureCached(url, { cacheDir })).rejects.toThrow(/RLR_OFFLINE is set/);
      expect(seen).toHaveLength(0);
      await ensureCached(url, { cacheDir, offline: false }); // an explicit option wins over the environment
      expect(await ensureCached(url, { cacheDir })).toBe(target); // cached files work offline
    } finally {
      if (before === undefined) delete process.env.RLR_OFFLINE;
      else process.env.RLR_OFFLINE = before;
    }
  });

  it('downloads hf:// ids from the hub URL, checked against the sha256 the hub announces, cached under hf/<owner>/<repo>/<revision>/', async () => {
    const id = 'hf://timm/tf_efficientnet_b0.aa_in1k/model.safetensors';
    expect(resolveSourceUrl(id)).toBe('https://huggingface.co/timm/tf_efficientnet_b0.aa_in1k/resolve/main/model.safetensors');
    expect(resolveSourceUrl('hf://timm/x@v1.2/sub/w.safetensors')).toBe(
      'https://huggingface.co/timm/x/resolve/v1.2/sub/w.safetensors',
    );
    expect(() => resolveSourceUrl('hf://timm/../model.safetensors')).toThrow(/not a Hugging Face id/);
    // Route the hub through the local server; its redirect carries the file's sha256 and size.
    const viaLocal = ((url: string, init?: RequestInit) =>
      fetch(String(url).replace('https://huggingface.co/', `${base}/hf/`), init)) as typeof fetch;
    const before = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'secret-token';
    try {
      const path = await ensureCached(id, { cacheDir, fetch: viaLocal });
      expect(path).toBe(join(cacheDir, 'hf', 'timm', 'tf_efficientnet_b0.aa_in1k', 'main', 'model.safetensors'));
      expect(readFileSync(`${path}.sha256`, 'utf8').trim()).toBe(SHA);
      expect(seen.map((s) => s.path)).toEqual([
        '/hf/timm/tf_efficientnet_b0.aa_in1k/resolve/main/model.safetensors',
        '/ok/hf/timm/tf_efficientnet_b0.aa_in1k/resolve/main/model.safetensors',
      ]);
      expect(seen[0].headers.authorization).toBe('Bearer secret-token');
      expect(seen[1].headers.authorization).toBeUndefined(); // the token stays with the hub
      // A file whose content does not match the hub's sha256 is rejected without being cached.
      const corrupt = 'hf://timm/corrupt/model.safetensors';
      await expect(ensureCached(corrupt, { cacheDir, fetch: viaLocal })).rejects.toThrow(
        new RegExp(`has sha256 ${SHA}, expected ${'f'.repeat(64)} \\(from the hub\\)`),
      );
      expect(existsSync(cachePathFor(corrupt, cacheDir))).toBe(false);
    } finally {
      if (before === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = before;
    }
  });

  it('finds the cache directory from RLR_CACHE, then XDG_CACHE_HOME, then the home directory', () => {
    expect(defaultCacheDir({ RLR_CACHE: '/data/rlr-cache', XDG_CACHE_HOME: '/x' })).toBe('/data/rlr-cache');
    if (process.platform === 'linux') {
      expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'rlr'));
      expect(defaultCacheDir({})).toMatch(/\.cache[/\\]rlr$/);
    }
  });

  it('returns local paths unchanged and names a missing one', async () => {
    const local = join(cacheDir, 'local.bin');
    writeFileSync(local, BODY);
    expect(await ensureCached(local)).toBe(local);
    await expect(ensureCached(join(cacheDir, 'nope.safetensors'))).rejects.toThrow(
      /weights file ".*nope\.safetensors" does not exist/,
    );
  });
});
