import { afterEach, describe, expect, it } from 'vitest';
import { startService, type RunningService, type StartOptions } from './service.js';
import { png, RecordingPredictor } from '../test/doubles.js';

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function serve(p: RecordingPredictor, o: StartOptions = {}): Promise<RunningService> {
  const s = await startService(p, { port: 0, ...o });
  running.push(s);
  await p.ready();
  await new Promise((ok) => setTimeout(ok, 5)); // the readiness callback runs after ready() settles
  return s;
}

const post = (s: RunningService, body: Uint8Array | string, type = 'image/png', query = '') =>
  fetch(`${s.url}/v1/predict${query}`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': type } });

describe('rlr serve: POST /v1/predict', () => {
  it('scores raw image bytes and a multipart upload alike, with the map as a PNG on request', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p);
    const image = png(100);
    const raw = await post(s, image);
    expect(raw.status).toBe(200);
    const body = await raw.json();
    expect(body).toMatchObject({ score: image.length / 100, normalizedScore: image.length / 200, threshold: 2 });
    expect(body.map).toBeUndefined();

    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'part.png');
    const multi = await fetch(`${s.url}/v1/predict`, { method: 'POST', body: form });
    expect(multi.status).toBe(200);
    expect((await multi.json()).score).toBe(body.score);

    const withMap = await (await post(s, image, 'application/octet-stream', '?map=png')).json();
    expect(withMap.map).toMatchObject({ height: 4, width: 4, min: 0, max: 15 });
    const file = Buffer.from(withMap.map.png, 'base64');
    expect(file.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(file.readUInt32BE(16)).toBe(4); // IHDR width
  });

  it('refuses an oversize upload with 413 (raw or multipart) and keeps serving', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p, { maxBodyBytes: 1000 });
    const big = Buffer.concat([png(1), Buffer.alloc(2000)]);
    const raw = await post(s, big);
    expect(raw.status).toBe(413);
    expect((await raw.json()).error).toMatch(/larger than the body limit of .* --max-body-mb/);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(big)]), 'big.png');
    const multi = await fetch(`${s.url}/v1/predict`, { method: 'POST', body: form });
    expect(multi.status).toBe(413);
    expect((await post(s, png(1))).status).toBe(200);
    expect(p.batches).toEqual([1]);
  });

  it('answers what is not an image with 415, an empty body and a truncated image with 400, naming the problem', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p);
    const text = await post(s, 'hello, this is not an image', 'text/plain');
    expect(text.status).toBe(415);
    expect((await text.json()).error).toMatch(/the upload is text, not an image: send a PNG, JPEG/);
    const json = await post(s, '{"image": 1}', 'application/json');
    expect(json.status).toBe(415);
    expect((await post(s, new Uint8Array(0))).status).toBe(400);
    const truncated = await post(s, png(7).subarray(0, 40));
    expect(truncated.status).toBe(400);
    expect((await truncated.json()).error).toMatch(/truncated PNG/);
  });

  it('answers 504 when the image is not scored within the timeout', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p, { timeoutMs: 150 });
    p.closeGate();
    const t0 = performance.now();
    const res = await post(s, png(3));
    expect(res.status).toBe(504);
    expect((await res.json()).error).toMatch(/not scored within 150 ms \(--timeout-ms\)/);
    expect(performance.now() - t0).toBeLessThan(2000);
    p.openGate();
  });

  it('refuses requests beyond --max-queue with 503 and Retry-After, and serves the admitted ones', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p, { maxQueue: 2, retryAfterS: 3, maxBatch: 1 });
    p.closeGate();
    const admitted = [post(s, png(1)), post(s, png(2))];
    await new Promise((ok) => setTimeout(ok, 100));
    const refused = await post(s, png(3));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect((await refused.json()).error).toMatch(/busy: 2 requests .*--max-queue.* is 2/);
    p.openGate();
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([200, 200]);
    expect((await post(s, png(4))).status).toBe(200); // capacity is back
  });

  it('groups concurrent requests into backend batches of at most --max-batch', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p, { maxBatch: 4, batchWaitMs: 100 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(s, png(i, 4 + i))));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    bodies.forEach((b, i) => expect(b.score).toBe(png(i, 4 + i).length / 100)); // each got its own answer
    expect(p.batches.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...p.batches)).toBe(4);
    expect(p.batches.length).toBeLessThanOrEqual(4);
  });
});

describe('rlr serve: health, readiness, metrics, shutdown', () => {
  it('is healthy at once, ready only once the model is ready, and refuses to predict before', async () => {
    const p = new RecordingPredictor({ ready: false });
    const s = await startService(p, { port: 0 });
    running.push(s);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${s.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect((await notReady.json()).reason).toMatch(/loading/);
    const early = await post(s, png(1));
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    p.becomeReady();
    await new Promise((ok) => setTimeout(ok, 10));
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    expect((await post(s, png(1))).status).toBe(200);
  });

  it('exports requests by status, latency, queue depth and batch sizes in Prometheus format', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p, { batchWaitMs: 50 });
    await Promise.all([post(s, png(1)), post(s, png(2)), post(s, png(3))]);
    await post(s, 'nope', 'text/plain');
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^rlr_http_requests_total\{route="\/v1\/predict",status="200"\} 3$/m);
    expect(text).toMatch(/^rlr_http_requests_total\{route="\/v1\/predict",status="415"\} 1$/m);
    expect(text).toMatch(/^rlr_http_request_duration_seconds_count\{route="\/v1\/predict"\} 4$/m);
    expect(text).toMatch(/^rlr_batch_size_sum 3$/m);
    expect(text).toMatch(/^rlr_batch_size_count 1$/m);
    expect(text).toMatch(/^rlr_queue_depth 0$/m);
    expect(text).toMatch(/^rlr_model_ready 1$/m);
  });

  it('on close finishes the requests in flight, refuses new ones, then closes the predictor', async () => {
    const p = new RecordingPredictor();
    const s = await serve(p);
    p.closeGate();
    const inFlight = post(s, png(9));
    await new Promise((ok) => setTimeout(ok, 50));
    const closing = s.close();
    await new Promise((ok) => setTimeout(ok, 50));
    const late = await post(s, png(1)).then((r) => r.status, () => 'refused');
    expect([503, 'refused']).toContain(late);
    expect(p.closed).toBe(false);
    p.openGate();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((await res.json()).score).toBe(png(9).length / 100);
    await closing;
    expect(p.closed).toBe(true);
  });
});
