/**
 * Embedding the `rlr serve` routes in your own Fastify server, around a model directory loaded
 * with the library.
 *
 *   npx tsx src/service.ts --model <dir> [--port 8080] [--host 127.0.0.1] [--threshold 1.5]
 *
 *   GET  /               → your own routes stay yours
 *   POST /rlr/v1/predict (body: the image file) → {"score":1.93,"normalizedScore":1.29,"label":1,"threshold":1.5,"ms":85}
 *   GET  /rlr/healthz, /rlr/readyz, /rlr/metrics
 *
 * `@rlr/serve` brings the limits (body size → 413, non-image → 415, timeout → 504, a bounded
 * queue → 503 + Retry-After), micro-batching and the Prometheus metrics; all it needs is a
 * `Predictor`: something that scores a batch of encoded images. Here that is a model directory
 * written by `saveModel`, with its backbone rebuilt by `loadBackboneFromStore`.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import Fastify from 'fastify';
import { loadBackboneFromStore } from '@rlr/backbones/node';
import { loadModel, type FeatureExtractor, type RLRModel } from '@rlr/core';
import { fileStore, readImage } from '@rlr/data/node';
import { drain, rlrRoutes, type PredictOutcome, type Predictor, type ServiceLimits, type ServiceState } from '@rlr/serve';

export interface ServiceOptions extends ServiceLimits {
  /** A model directory written by `saveModel` (config.json + weights.safetensors). */
  modelDir: string;
  port?: number;
  host?: string;
  /** Score at or above which an image is labelled anomalous; default: `threshold` in config.json, if any. */
  threshold?: number;
}

export interface Service {
  url: string;
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

// #region predictor
/** A model directory as a `Predictor`: decode each upload, score the decodable ones in one batch. */
export async function createPredictor(modelDir: string, threshold?: number): Promise<Predictor> {
  await tf.setBackend('wasm');
  await tf.ready();
  const { model, backbone } = await loadDetector(modelDir);
  const meta = model.metadata as { preprocessing?: { resize?: number; crop?: number | [number, number] }; threshold?: number };
  const [H, W] = model.spec.imageSize;
  const transform = { resize: meta.preprocessing?.resize ?? Math.min(H, W), crop: meta.preprocessing?.crop ?? ([H, W] as [number, number]) };
  const t = threshold ?? (typeof meta.threshold === 'number' ? meta.threshold : null);
  return {
    ready: () => Promise.resolve(),
    async predictBatch(images, options = {}) {
      const decoded = await Promise.all(images.map((b) => readImage(b, { ...transform, label: 'the upload' }).catch((e: Error) => ({ error: e.message }))));
      const out: PredictOutcome[] = decoded.map((d) => ('error' in d ? d : { error: '' }));
      const ok = decoded.flatMap((d, i) => ('error' in d ? [] : [{ i, data: d.data }]));
      if (ok.length === 0) return out;
      const pixels = new Float32Array(ok.length * H * W * 3);
      ok.forEach((o, k) => pixels.set(o.data, k * H * W * 3));
      const input = tf.tensor4d(pixels, [ok.length, H, W, 3]);
      const features = backbone.extract(input);
      // predict throws on a non-finite score (damaged weights): the whole batch fails with a 500.
      const p = await model.predict(features, { batchSize: ok.length }).finally(() => tf.dispose([input, ...features]));
      const [h, w] = p.size;
      ok.forEach(({ i }, k) => {
        const score = p.scores[k];
        out[i] = {
          score,
          normalizedScore: t === null ? null : score / t,
          label: t === null ? null : score >= t ? 1 : 0,
          threshold: t,
          ...(options.maps ? { map: { data: p.smoothedMaps.slice(k * h * w, (k + 1) * h * w), height: h, width: w } } : {}),
        };
      });
      return out;
    },
    async close() {
      model.dispose();
      backbone.dispose();
    },
    describe: () => ({ model: `${backbone.name}, ${H}x${W}, ${model.levels.length} levels` }),
  };
}
// #endregion predictor

// #region server
/** Your own Fastify server, with the scoring routes under /rlr. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const predictor = await createPredictor(options.modelDir, options.threshold);
  const app = Fastify();
  app.get('/', async () => ({ hello: 'this route is yours; the model answers under /rlr' }));
  const state: ServiceState = { draining: false, admitted: 0 }; // for a graceful close
  await app.register(rlrRoutes, { prefix: '/rlr', predictor, state, ...options });
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const { address, port } = app.server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    async close() {
      await drain(state); // 503 for new work and /readyz, the requests in flight answered
      await app.close();
      await predictor.close();
    },
  };
}
// #endregion server

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
  startService({ modelDir: values.model, port: Number(values.port), host: values.host, threshold: values.threshold === undefined ? undefined : Number(values.threshold) }).then(
    (s) => {
      console.log(`scoring service on ${s.url} (POST an image to ${s.url}rlr/v1/predict)`);
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
