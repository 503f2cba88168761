import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AbortedError, MicroBatcher } from './batcher.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { mapToPng } from './png.js';
import { isImageFailure, type Predictor } from './predictor.js';
import { sniffImage } from './sniff.js';

/** Limits and batching of the predict route. Every field has a default. */
export interface ServiceLimits {
  /** Largest accepted upload in bytes (raw body or multipart file); larger → 413. Default 20 MiB. */
  maxBodyBytes?: number;
  /** Most milliseconds from a request's arrival to its answer; later → 504. Default 30000. */
  timeoutMs?: number;
  /**
   * Most predict requests admitted at once (uploading, waiting for a batch, or being scored); one
   * more → 503 with `Retry-After`, refused before its body is read. Bounds memory to about
   * `maxQueue × maxBodyBytes` of request bodies. Default 32.
   */
  maxQueue?: number;
  /** Most images in one backend batch. Default 8. */
  maxBatch?: number;
  /** How long the first image waits for others to batch with (ms). Default 5. */
  batchWaitMs?: number;
  /** Seconds sent in `Retry-After` with a 503. Default 1. */
  retryAfterS?: number;
}

/**
 * Shutdown state shared with {@link rlrRoutes}: set `draining` before closing the server, so
 * `/readyz` and new predict requests answer 503 and every answer closes its connection, and wait
 * for `admitted` to reach 0 (what {@link startService}'s `close()` does).
 */
export interface ServiceState {
  draining: boolean;
  /** Predict requests admitted and not yet answered (kept by the routes). */
  admitted: number;
}

/** Options of {@link rlrRoutes}. */
export interface RoutesOptions extends ServiceLimits {
  predictor: Predictor;
  /** Shutdown state to share with the caller (default: the routes' own). */
  state?: ServiceState;
  /** Metrics to record into (default: a fresh set, served by this plugin's `/metrics`). */
  metrics?: ServiceMetrics;
}

/** The defaults of {@link ServiceLimits}. */
export const DEFAULT_LIMITS: Required<ServiceLimits> = {
  maxBodyBytes: 20 * 1024 * 1024,
  timeoutMs: 30_000,
  maxQueue: 32,
  maxBatch: 8,
  batchWaitMs: 5,
  retryAfterS: 1,
};

/** JSON answer of `POST /v1/predict`. */
export interface PredictResponse {
  score: number;
  normalizedScore: number | null;
  label: 0 | 1 | null;
  threshold: number | null;
  /** Milliseconds from arrival to answer. */
  ms: number;
  /** With `?map=png`: the anomaly map as a base64 gray PNG, black = `min`, white = `max`. */
  map?: ReturnType<typeof mapToPng>;
}

const mb = (bytes: number) => `${+(bytes / 1024 / 1024).toFixed(2)} MB`;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    rlrArrived?: number;
  }
}

/**
 * The scoring routes as a Fastify plugin, to register in any Fastify server (optionally under a
 * `prefix`): `POST /v1/predict`, `GET /healthz`, `GET /readyz`, `GET /metrics`. Its body parsers,
 * hooks and error handler stay inside the plugin.
 */
export const rlrRoutes: FastifyPluginAsync<RoutesOptions> = async (app, options) => {
  const limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<ServiceLimits> & RoutesOptions;
  const { predictor } = options;
  const metrics = options.metrics ?? createMetrics();
  const batcher = new MicroBatcher(predictor, { maxBatch: limits.maxBatch, batchWaitMs: limits.batchWaitMs }, (size, seconds) => {
    metrics.batchSize.observe(size);
    metrics.batchDuration.observe(seconds);
    metrics.queueDepth.set(batcher.queued);
  });
  let ready = false;
  let closed = false;
  let loadError: string | undefined;
  const state: ServiceState = options.state ?? { draining: false, admitted: 0 };
  const closing = () => closed || state.draining;
  void predictor.ready().then(
    () => {
      ready = true;
      metrics.ready.set(closing() ? 0 : 1);
    },
    (e: unknown) => {
      loadError = (e as Error).message;
    },
  );
  app.addHook('preClose', async () => {
    closed = true;
    metrics.ready.set(0);
  });
  app.addHook('onClose', async () => {
    await batcher.idle();
  });

  // Every body except multipart arrives as raw bytes; what it is comes from its first bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.maxBodyBytes, files: 1, fields: 16, parts: 32 } });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, (performance.now() - (req.rlrArrived ?? performance.now())) / 1000);
  });
  app.addHook('onRequest', async (req) => {
    req.rlrArrived = performance.now();
  });
  // While shutting down, answers close their keep-alive connections, so close() need not wait
  // for clients to hang up.
  app.addHook('onSend', async (_req, reply) => {
    if (closing()) void reply.header('connection', 'close');
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    let status = err.statusCode ?? 500;
    let message = err.message;
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE') {
      status = 413;
      message = `the upload is larger than the body limit of ${mb(limits.maxBodyBytes)}: send a smaller image, or start the service with a larger --max-body-mb`;
    }
    if (status >= 500) app.log.error(err);
    // The rest of a refused body is not read: close the connection after the answer.
    if (status === 413) void reply.header('connection', 'close');
    return reply.code(status).send({ error: message });
  });

  // A refused upload is read and dropped (not kept) before the answer: answering while the client
  // still sends would make its TCP stack see a reset instead of the 503.
  const refuse = async (req: FastifyRequest, reply: FastifyReply, status: number, error: string) => {
    void reply.header('retry-after', String(limits.retryAfterS));
    if (!(await drained(req.raw, 5000))) void reply.header('connection', 'close');
    return reply.code(status).send({ error });
  };

  app.get('/healthz', async () => ({ status: 'ok', ...(predictor.describe?.() ?? {}) }));
  app.get('/readyz', async (_req, reply) => {
    if (ready && !closing()) return { ready: true };
    return reply.code(503).send({ ready: false, reason: closing() ? 'shutting down' : loadError ? `the model failed to load: ${loadError}` : 'loading and warming up the model' });
  });
  app.get('/metrics', async (_req, reply) => {
    metrics.queueDepth.set(batcher.queued);
    metrics.inFlight.set(state.admitted);
    metrics.ready.set(ready && !closing() ? 1 : 0);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.post<{ Querystring: { map?: string } }>('/v1/predict', {
    bodyLimit: limits.maxBodyBytes,
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      if (!ready || closing()) return refuse(req, reply, 503, closing() ? 'the service is shutting down: retry on another instance' : 'the model is still loading: retry shortly (GET /readyz says when it is ready)');
      if (state.admitted >= limits.maxQueue) return refuse(req, reply, 503, `busy: ${state.admitted} requests are already in flight (the limit, --max-queue, is ${limits.maxQueue}): retry after ${limits.retryAfterS} s`);
      state.admitted++;
      metrics.inFlight.set(state.admitted);
      let released = false;
      reply.raw.once('close', () => {
        if (released) return;
        released = true;
        state.admitted--;
        metrics.inFlight.set(state.admitted);
      });
    },
    handler: async (req, reply) => {
      const bytes = await readUpload(req);
      if (bytes.length === 0) throw new HttpError(400, 'empty body: POST the image file as the request body (Content-Type: image/png or application/octet-stream), or as a multipart/form-data file');
      const sniffed = sniffImage(bytes);
      if ('other' in sniffed) throw new HttpError(415, `the upload is ${sniffed.other}: send a PNG, JPEG, BMP, TIFF or WebP image`);
      const left = limits.timeoutMs - (performance.now() - (req.rlrArrived ?? performance.now()));
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), Math.max(0, left));
      const timedOut = new Promise<never>((_ok, fail) => timeout.signal.addEventListener('abort', () => fail(new HttpError(504, `not scored within ${limits.timeoutMs} ms (--timeout-ms): the service is overloaded or the image is very large; retry later`)), { once: true }));
      const maps = req.query.map === 'png';
      try {
        const job = batcher.submit(bytes, { maps, signal: timeout.signal });
        metrics.queueDepth.set(batcher.queued);
        const outcome = await Promise.race([job, timedOut]).catch((e: unknown) => {
          if (e instanceof AbortedError) throw new HttpError(504, `not scored within ${limits.timeoutMs} ms (--timeout-ms): it waited behind other requests; retry later`);
          throw e;
        });
        if (isImageFailure(outcome)) throw new HttpError(400, outcome.error);
        const body: PredictResponse = {
          score: outcome.score,
          normalizedScore: outcome.normalizedScore,
          label: outcome.label,
          threshold: outcome.threshold,
          ms: Math.round(performance.now() - (req.rlrArrived ?? 0)),
        };
        if (maps && outcome.map) body.map = mapToPng(outcome.map.data, outcome.map.height, outcome.map.width);
        return reply.send(body);
      } finally {
        clearTimeout(timer);
        timedOut.catch(() => undefined);
      }
    },
  });
};

/** Read and drop the rest of a request body; false when it did not end within `ms`. */
function drained(req: IncomingMessage, ms: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), ms);
    const done = (v: boolean) => {
      clearTimeout(timer);
      ok(v);
    };
    req.once('end', () => done(true));
    req.once('error', () => done(false));
    req.once('close', () => done(req.complete));
    req.resume();
  });
}

/** The image bytes of a predict request: the raw body, or the first file of a multipart form. */
async function readUpload(req: FastifyRequest): Promise<Buffer> {
  if (req.isMultipart()) {
    const file = await req.file();
    if (!file) throw new HttpError(400, 'the multipart form has no file: send the image as a file field');
    return file.toBuffer();
  }
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * Start draining `state` and resolve once nothing has been in flight for 150 ms (or after
 * `limitMs`). Call it before closing a server that registered {@link rlrRoutes} with this `state`:
 * while it runs the server still listens, so requests already on their way get an answer (a 503
 * for new work) instead of a connection reset.
 */
export async function drain(state: ServiceState, limitMs = DEFAULT_LIMITS.timeoutMs + 1000): Promise<void> {
  state.draining = true;
  for (let quiet = 0, end = Date.now() + limitMs; quiet < 3 && Date.now() < end; ) {
    await new Promise((ok) => setTimeout(ok, 50));
    quiet = state.admitted === 0 ? quiet + 1 : 0;
  }
}

/** Options of {@link startService}. */
export interface StartOptions extends ServiceLimits {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Fastify's logger option (default off). */
  logger?: FastifyServerOptions['logger'];
}

/** A running service. */
export interface RunningService {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  url: string;
  /**
   * Stop gracefully: `/readyz` and new predict requests answer 503 while the server still
   * listens; once nothing has been in flight for 150 ms (at most the timeout plus 1 s), stop
   * listening, close the connections, then the predictor.
   */
  close(): Promise<void>;
}

/** Start a Fastify server with {@link rlrRoutes} at its root, listening on `host:port`. */
export async function startService(predictor: Predictor, options: StartOptions = {}): Promise<RunningService> {
  const app = Fastify({ logger: options.logger ?? false, return503OnClosing: false, forceCloseConnections: 'idle' });
  const state: ServiceState = { draining: false, admitted: 0 };
  await app.register(rlrRoutes, { ...options, predictor, state });
  await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const { address, port } = app.server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const drainLimitMs = (options.timeoutMs ?? DEFAULT_LIMITS.timeoutMs) + 1000;
  let closed: Promise<void> | undefined;
  const shutdown = async () => {
    await drain(state, drainLimitMs);
    await app.close();
    await predictor.close();
  };
  return {
    app,
    url,
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
}
