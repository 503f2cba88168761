import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '@rlr/example-node-train-eval';
import { startService, type Service } from '../src/service.js';

describe('node-service: the rlr serve routes in your own Fastify server, on a model trained by the node-train-eval example', () => {
  const out = mkdtempSync(join(tmpdir(), 'rlr-node-service-'));
  let trained: RunResult;
  let service: Service;
  let testImages: string[];

  beforeAll(async () => {
    trained = await run({ out, quick: true, epochs: 2, log: () => {} });
    testImages = trained.testImages;
    service = await startService({ modelDir: trained.modelDir, threshold: 5 });
  });
  afterAll(async () => {
    await service?.close();
    rmSync(out, { recursive: true, force: true });
  });

  const post = (body: Uint8Array | string, url = service.url) =>
    fetch(`${url}rlr/v1/predict`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': typeof body === 'string' ? 'text/plain' : 'image/png' } });

  it('keeps its own routes and answers /rlr/healthz and /rlr/readyz with the model it serves', async () => {
    expect((await (await fetch(service.url)).json()).hello).toMatch(/yours/);
    const res = await fetch(`${service.url}rlr/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', model: expect.stringContaining('tf_efficientnet_b0, 64x64') });
    expect((await fetch(`${service.url}rlr/readyz`)).status).toBe(200);
  });

  it('scores an uploaded image exactly as the library did after training', async () => {
    for (const i of [0, testImages.length - 1]) {
      const res = await post(readFileSync(testImages[i]));
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(Math.abs(body.score - trained.scores[i])).toBeLessThanOrEqual(1e-6);
      expect(body.threshold).toBe(5);
      expect(body.label).toBe(body.score >= 5 ? 1 : 0);
      // PostProcessor.manual(5): 0.5 at the threshold, [0, 10] mapped onto [0, 1]
      expect(body.normalizedScore).toBeCloseTo(Math.min(1, Math.max(0, body.score / 10)), 6);
    }
  });

  it('batches concurrent uploads and gives each its own answer', async () => {
    const picks = [1, 2, 3];
    const answers = await Promise.all(picks.map((i) => post(readFileSync(testImages[i])).then((r) => r.json())));
    answers.forEach((a, k) => expect(Math.abs(a.score - trained.scores[picks[k]])).toBeLessThanOrEqual(1e-6));
  });

  it('rejects what is not an image, a truncated image and unknown routes with a reason', async () => {
    const bad = await post('this is not an image');
    expect(bad.status).toBe(415);
    expect((await bad.json()).error).toMatch(/the upload is text, not an image/);
    const cut = await post(readFileSync(testImages[0]).subarray(0, 100));
    expect(cut.status).toBe(400);
    expect((await cut.json()).error).toMatch(/^the upload: /); // decoded from memory, named by its label
    expect((await post(new Uint8Array())).status).toBe(400);
    expect((await fetch(`${service.url}rlr/v1/predict`)).status).toBe(404);
  });

  /** A copy of the trained model folder with one float of `file` set to NaN. */
  const poisonedCopy = (file: string): string => {
    const dir = join(out, `poisoned-${file}`);
    cpSync(trained.modelDir, dir, { recursive: true });
    const path = join(dir, file);
    const bytes = new Uint8Array(readFileSync(path));
    const view = new DataView(bytes.buffer);
    const headerLen = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    const name = Object.keys(header).find((k) => k !== '__metadata__' && header[k].dtype === 'F32')!;
    view.setFloat32(8 + headerLen + header[name].data_offsets[0], NaN, true);
    writeFileSync(path, bytes);
    return dir;
  };

  it('refuses to start on a model whose weights hold a NaN, naming the file', async () => {
    const dir = poisonedCopy('weights.safetensors');
    await expect(startService({ modelDir: dir })).rejects.toThrow(`${join(dir, 'weights.safetensors')}: checksum mismatch`);
  });

  it('answers 500 with a reason, never a score, when the backbone weights make the score NaN', async () => {
    const broken = await startService({ modelDir: poisonedCopy('backbone.safetensors'), threshold: 5 });
    try {
      const res = await post(readFileSync(testImages[0]), broken.url);
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body.score).toBeUndefined();
      expect(body.label).toBeUndefined();
      expect(body.error).toMatch(/non-finite anomaly score/);
    } finally {
      await broken.close();
    }
  });
  it('answers an oversize upload with 413 and a reason, and keeps serving', async () => {
    const image = new Uint8Array(readFileSync(testImages[0]));
    const limit = image.length + 16;
    const small = await startService({ modelDir: trained.modelDir, maxBodyBytes: limit });
    try {
      const big = await post(new Uint8Array(limit * 4), small.url);
      expect(big.status).toBe(413);
      expect((await big.json()).error).toMatch(/larger than the body limit/);
      expect((await post(image, small.url)).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
