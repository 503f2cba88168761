/**
 * Embedding the `rlr serve` routes in your own Fastify server, around a model folder loaded with
 * the engine's `Detector`.
 *
 *   npx tsx src/service.ts --model <dir> [--port 8080] [--host 127.0.0.1] [--threshold 1.5]
 *
 *   GET  /               → your own routes stay yours
 *   POST /rlr/v1/predict (body: the image file) → {"score":1.93,"normalizedScore":0.64,"label":1,"threshold":1.5}
 *   GET  /rlr/healthz, /rlr/readyz, /rlr/metrics
 *
 * `@rlr/serve` brings the limits (body size → 413, non-image → 415, timeout → 504, a bounded
 * queue → 503 + Retry-After), micro-batching and the Prometheus metrics; all it needs is a
 * `Predictor`: something that scores a batch of encoded images. Here that is a `Detector` loaded
 * from a model folder (backbone, model and the thresholds in `postprocessor.json`).
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import Fastify from 'fastify';
import { readImage } from '@rlr/data/node';
import { Detector, PostProcessor } from '@rlr/engine/node';
import { drain, rlrRoutes, type PredictOutcome, type Predictor, type ServiceLimits, type ServiceState } from '@rlr/serve';

export interface ServiceOptions extends ServiceLimits {
  /** A model folder written by `Detector.save` or `rlr train` (config.json + weights). */
  modelDir: string;
  port?: number;
  host?: string;
  /** Score at or above which an image is labelled anomalous; default: the folder's postprocessor.json, if any. */
  threshold?: number;
}

export interface Service {
  url: string;
  close(): Promise<void>;
}

// #region predictor
/** A model folder as a `Predictor`: decode each upload, score the decodable ones in one batch. */
export async function createPredictor(modelDir: string, threshold?: number): Promise<Predictor> {
  await tf.setBackend('wasm');
  await tf.ready();
  // #region load
  // Backbone (backbone.safetensors or its weights source), model, and postprocessor.json.
  const detector = await Detector.load(modelDir);
  if (threshold !== undefined) detector.postProcessor = PostProcessor.manual(threshold); // --threshold
  // #endregion load
  const [H, W] = detector.geometry.crop;
  return {
    ready: () => Promise.resolve(),
    async predictBatch(images, options = {}) {
      // Decoded with the model's own resize and crop.
      const decoded = await Promise.all(images.map((b) => readImage(b, { ...detector.geometry, label: 'the upload' }).catch((e: Error) => ({ error: e.message }))));
      const out: PredictOutcome[] = decoded.map((d) => ('error' in d ? d : { error: '' }));
      const ok = decoded.flatMap((d, i) => ('error' in d ? [] : [{ i, data: d.data }]));
      if (ok.length === 0) return out;
      const pixels = new Float32Array(ok.length * H * W * 3);
      ok.forEach((o, k) => pixels.set(o.data, k * H * W * 3));
      // Throws on a non-finite score (damaged weights): the whole batch fails with a 500.
      const r = await detector.scoreImages(pixels, ok.length);
      const px = r.height * r.width;
      ok.forEach(({ i }, k) => {
        const map = r.maps.slice(k * px, (k + 1) * px);
        const p = detector.describe(r.scores[k], map, r.height, r.width); // label and normalizedScore from the post-processor
        out[i] = {
          score: p.score,
          normalizedScore: p.normalizedScore,
          label: p.label,
          threshold: detector.postProcessor?.imageThreshold ?? null,
          ...(options.maps ? { map: { data: map, height: r.height, width: r.width } } : {}),
        };
      });
      return out;
    },
    async close() {
      await detector.close();
    },
    describe: () => ({ model: `${detector.extractor.name}, ${H}x${W}, ${detector.model.spec.levels.length} levels` }),
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
