/** `fetchBytes` (the browser-safe download) against local servers: progress, timeouts, abort, short bodies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchBytes, type DownloadProgress } from './weight-source.js';

let server: Server;
let base: string;
const BODY = Buffer.alloc(50_000, 3);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') return void res.writeHead(200, { 'Content-Length': BODY.length }).end(BODY);
    if (req.url === '/silent') return; // never answers
    if (req.url === '/short') {
      res.writeHead(200, { 'Content-Length': BODY.length });
      res.write(BODY.subarray(0, 1000), () => res.destroy());
      return;
    }
    res.writeHead(200, { 'Content-Length': BODY.length });
    res.write(BODY.subarray(0, 1000)); // /stall: then nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('fetchBytes', () => {
  it('downloads with progress', async () => {
    const progress: DownloadProgress[] = [];
    const bytes = await fetchBytes(`${base}/ok`, { onProgress: (p) => progress.push(p) });
    expect(Buffer.from(bytes).equals(BODY)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ loaded: BODY.length, total: BODY.length });
  });

  it('a server that never answers, or stalls mid-body, fails at the timeout naming the URL', async () => {
    const t0 = performance.now();
    await expect(fetchBytes(`${base}/silent`, { timeoutMs: 200 })).rejects.toThrow(`could not download ${base}/silent from ${base}/silent: no data for 0.2 s (connect/idle timeout)`);
    await expect(fetchBytes(`${base}/stall`, { timeoutMs: 200 })).rejects.toThrow(/no data for 0\.2 s/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('an abort signal ends it at once; a body cut short is an error, not a short file', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(fetchBytes(`${base}/stall`, { signal: controller.signal })).rejects.toThrow(/: aborted$/);
    await expect(fetchBytes(`${base}/short`)).rejects.toThrow(/could not download/);
  });
});
