import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type RunResult } from '@rlr/example-node-train-eval';
import { startService, type Service } from '../src/service.js';

describe('node-service: a model trained by the node-train-eval example, served over HTTP', () => {
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

  const post = (body: Uint8Array | string) =>
    fetch(`${service.url}score`, { method: 'POST', body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]) });

  it('answers /health with the model it serves', async () => {
    const res = await fetch(`${service.url}health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', model: expect.stringContaining('tf_efficientnet_b0, 64x64') });
  });

  it('scores an uploaded image exactly as the library did after training', async () => {
    for (const i of [0, testImages.length - 1]) {
      const res = await post(readFileSync(testImages[i]));
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(Math.abs(body.score - trained.scores[i])).toBeLessThanOrEqual(1e-6);
      expect(body.threshold).toBe(5);
      expect(body.anomalous).toBe(body.score >= 5);
      expect(body.peak.x).toBeGreaterThanOrEqual(0);
      expect(body.peak.x).toBeLessThan(64);
      expect(body.peak.y).toBeGreaterThanOrEqual(0);
      expect(body.peak.y).toBeLessThan(64);
    }
  });

  it('labels with the threshold the model was trained with (held-out normals) when given none', async () => {
    const own = await startService({ modelDir: trained.modelDir });
    try {
      const post = JSON.parse(readFileSync(join(trained.modelDir, 'postprocessor.json'), 'utf8'));
      expect(post.source).toBe('validation-normals');
      const body = await (await fetch(`${own.url}score`, { method: 'POST', body: new Blob([new Uint8Array(readFileSync(testImages[0]))]) })).json();
      expect(body.threshold).toBe(post.image.threshold);
      expect(body.threshold).toBe(trained.threshold);
      expect(body.anomalous).toBe(body.score >= body.threshold);
      expect(body.normalizedScore >= 0.5).toBe(body.anomalous);
    } finally {
      await own.close();
    }
  });

  it('queues concurrent uploads and gives each its own answer', async () => {
    const picks = [1, 2, 3];
    const answers = await Promise.all(picks.map((i) => post(readFileSync(testImages[i])).then((r) => r.json())));
    answers.forEach((a, k) => expect(Math.abs(a.score - trained.scores[picks[k]])).toBeLessThanOrEqual(1e-6));
  });

  it('rejects what is not an image, wrong methods and unknown routes with a reason', async () => {
    const bad = await post('this is not an image');
    expect(bad.status).toBe(400);
    const { error } = await bad.json();
    expect(error).toMatch(/^the uploaded image: could not be decoded .*Replace it/); // decoded from memory, named by its label
    expect((await post(new Uint8Array())).status).toBe(400);
    expect((await fetch(`${service.url}score`)).status).toBe(405);
    expect((await fetch(`${service.url}nope`)).status).toBe(404);
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
      const res = await fetch(`${broken.url}score`, { method: 'POST', body: new Blob([new Uint8Array(readFileSync(testImages[0]))]) });
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body.score).toBeUndefined();
      expect(body.anomalous).toBeUndefined();
      expect(body.error).toMatch(/non-finite anomaly score/);
    } finally {
      await broken.close();
    }
  });
  it('answers an oversize upload with 413 and a reason, declared or streamed, and keeps serving', async () => {
    const image = new Uint8Array(readFileSync(testImages[0]));
    const limit = image.length + 16;
    const small = await startService({ modelDir: trained.modelDir, maxBytes: limit });
    try {
      const declared = await fetch(`${small.url}score`, { method: 'POST', body: new Blob([new Uint8Array(limit * 4)]) });
      expect(declared.status).toBe(413);
      expect((await declared.json()).error).toMatch(new RegExp(`larger than ${limit} bytes`));
      // No content-length: the body arrives in chunks and passes the limit on the way.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(Math.ceil(limit / 4)));
          c.close();
        },
      });
      const streamed = await fetch(`${small.url}score`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
      expect((await streamed.json()).error).toMatch(new RegExp(`larger than ${limit} bytes`));
      const ok = await fetch(`${small.url}score`, { method: 'POST', body: new Blob([image]) });
      expect(ok.status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
