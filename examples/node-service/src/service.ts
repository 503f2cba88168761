/**
 * A small HTTP scoring service around a saved RLR model directory.
 *
 *   npx tsx src/service.ts --model <dir> [--port 8080] [--host 127.0.0.1] [--threshold 1.5]
 *
 *   GET  /health  → {"status":"ok","model":"…"}
 *   POST /score   (body: the image file, PNG/JPEG/BMP/TIFF/WebP)
 *                 → {"score":1.93,"anomalous":false,"threshold":1.5,"peak":{"x":40,"y":12},"ms":85}
 *
 * Requests are scored one at a time (tfjs on wasm uses one thread; queueing keeps latency
 * predictable and memory flat). The model directory is what `saveModel` writes; the backbone is
 * rebuilt by `loadBackboneFromStore`: from `backbone.safetensors` beside the model when present,
 * otherwise from the source recorded in `config.json` (a path, URL or hf:// id, cached on disk).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadBackboneFromStore } from '@rlr/backbones/node';
import { loadModel, type FeatureExtractor, type RLRModel } from '@rlr/core';
import { DataError, readImage } from '@rlr/data/node';
import { fileStore } from '@rlr/core/node';

export interface ServiceOptions {
  /** A model directory written by `saveModel` (config.json + weights.safetensors). */
  modelDir: string;
  port?: number;
  host?: string;
  /** Score above which an image is reported anomalous; default: `threshold` in config.json, if any. */
  threshold?: number;
  /** Largest accepted upload in bytes (default 20 MB). */
  maxBytes?: number;
}

export interface ScoreResult {
  score: number;
  anomalous: boolean | null;
  threshold: number | null;
  /** Where the anomaly map peaks, in pixels of the model's input crop. */
  peak: { x: number; y: number };
  ms: number;
}

export interface Service {
  url: string;
  /** Score image bytes directly (what POST /score does). */
  score(bytes: Uint8Array): Promise<ScoreResult>;
  close(): Promise<void>;
}

// #region load
/** Load a model directory and the backbone it was trained with. */
export async function loadDetector(modelDir: string): Promise<{ model: RLRModel; backbone: FeatureExtractor }> {
  const store = fileStore(modelDir);
  const model = await loadModel(store);
  try {
    // backbone.safetensors beside the model when present, else the weights source in config.json
    const backbone = await loadBackboneFromStore(store, model.metadata.backbone as Record<string, unknown> | undefined);
    return { model, backbone };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
// #endregion load

export async function startService(options: ServiceOptions): Promise<Service> {
  await tf.setBackend('wasm');
  await tf.ready();
  const { model, backbone } = await loadDetector(options.modelDir);
  const meta = model.metadata as { preprocessing?: { resize?: number; crop?: number | [number, number] }; threshold?: number };
  const [H, W] = model.spec.imageSize;
  const transform = { resize: meta.preprocessing?.resize ?? Math.min(H, W), crop: meta.preprocessing?.crop ?? ([H, W] as [number, number]) };
  const threshold = options.threshold ?? (typeof meta.threshold === 'number' ? meta.threshold : null);
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;

  // #region score
  async function scoreBytes(bytes: Uint8Array): Promise<ScoreResult> {
    const t0 = performance.now();
    // Decoded from memory; errors name "the uploaded image".
    const image = await readImage(bytes, { ...transform, label: 'the uploaded image' }); // [H, W, 3] RGB in [0, 1], resized and cropped
    const input = tf.tensor4d(image.data, [1, image.height, image.width, 3]);
    const features = backbone.extract(input);
    // predict throws on a non-finite score (damaged weights): the request fails, tensors are freed.
    const prediction = await model.predict(features).finally(() => tf.dispose([input, ...features]));
    const map = prediction.smoothedMaps; // [1, H, W]
    let best = 0;
    for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
    const score = prediction.scores[0];
    // @rlr/core already refuses non-finite scores; never answer "not anomalous" for one.
    if (!Number.isFinite(score)) throw Object.assign(new Error(`the model gave a non-finite score (${score}); its weights are damaged`), { status: 500 });
    return {
      score,
      anomalous: threshold === null ? null : score >= threshold,
      threshold,
      peak: { x: best % prediction.size[1], y: Math.floor(best / prediction.size[1]) },
      ms: Math.round(performance.now() - t0),
    };
  }
  // #endregion score

  // One request at a time: each waits for the previous one to finish.
  let queue: Promise<unknown> = Promise.resolve();
  const score = (bytes: Uint8Array) => {
    const next = queue.then(() => scoreBytes(bytes));
    queue = next.catch(() => undefined);
    return next;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const tooLarge = () => Object.assign(new Error(`upload larger than ${maxBytes} bytes: send a smaller image`), { status: 413 });
  // Refuses a declared oversize body before reading it; an undeclared one stops being buffered at
  // the limit. The connection stays open until the 413 is sent (destroying it first would leave the
  // client with a reset and no status), then closes.
  const readBody = (req: IncomingMessage) =>
    new Promise<Uint8Array>((ok, fail) => {
      if (Number(req.headers['content-length'] ?? 0) > maxBytes) return fail(tooLarge());
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          parts.length = 0;
          fail(tooLarge());
        } else parts.push(c);
      });
      req.on('end', () => ok(new Uint8Array(Buffer.concat(parts))));
      req.on('error', fail);
    });

  // The handler answers every failure itself (its try/catch sends 4xx/500), so no promise is left unhandled.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      if (path === '/health') {
        send(res, 200, { status: 'ok', model: `${backbone.name}, ${H}x${W}, ${model.levels.length} levels` });
      } else if (path === '/score') {
        if (req.method !== 'POST') return send(res, 405, { error: 'POST the image file as the request body' });
        const bytes = await readBody(req);
        if (!bytes.length) return send(res, 400, { error: 'empty body: POST the image file as the request body' });
        send(res, 200, await score(bytes));
      } else {
        send(res, 404, { error: `no route ${path}: use GET /health or POST /score` });
      }
    } catch (e) {
      const status = (e as { status?: number }).status ?? (e instanceof DataError ? 400 : 500);
      if (status === 413) {
        // The rest of the body is not read: close the connection once the answer is out.
        res.setHeader('connection', 'close');
        res.once('finish', () => req.destroy());
      }
      send(res, status, { error: (e as Error).message });
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    score,
    async close() {
      await new Promise<void>((ok) => server.close(() => ok()));
      model.dispose();
      backbone.dispose();
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      threshold: { type: 'string' },
    },
  });
  if (!values.model) {
    console.error('usage: tsx src/service.ts --model <model-dir> [--port 8080] [--host 127.0.0.1] [--threshold x]');
    process.exit(2);
  }
  startService({
    modelDir: values.model,
    port: Number(values.port),
    host: values.host,
    threshold: values.threshold === undefined ? undefined : Number(values.threshold),
  }).then(
    (s) => {
      console.log(`scoring service on ${s.url} (POST an image to ${s.url}score)`);
      const stop = () => void s.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
