import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { MicroBatcher } from './batcher.js';
import { isImageFailure, type Predictor } from './predictor.js';
import { checkRedis, redisConnection } from './redis.js';

/** The queue name `rlr worker` and `rlr submit` use unless told otherwise (`--queue-name`). */
export const DEFAULT_QUEUE_NAME = 'rlr-predict';

/** One job: an image to score, by file path (as the worker sees it) or URL. */
export interface ScoreJob {
  /** The caller's id of the image (the job id too). */
  id: string;
  path?: string;
  url?: string;
}

/** What a worker stores as a job's return value. */
export interface ScoreJobResult {
  id: string;
  path?: string;
  url?: string;
  score: number;
  normalizedScore: number | null;
  label: 0 | 1 | null;
  threshold: number | null;
  /** The worker that scored it (`host:pid`). */
  worker: string;
}

/** The job id of an image: a stable hash of its path or URL, so submitting it twice adds one job. */
export function jobIdOf(pathOrUrl: string): string {
  return `img-${createHash('sha256').update(pathOrUrl).digest('hex').slice(0, 40)}`;
}

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  /** `redis://host:port/db`. */
  url: string;
  queueName?: string;
  predictor: Predictor;
  /** Jobs processed at once (they are scored in micro-batches of up to `maxBatch`). Default 4. */
  concurrency?: number;
  maxBatch?: number;
  batchWaitMs?: number;
  /**
   * How long a job's lock lasts without renewal (ms, default 30000). A worker that dies holds its
   * jobs this long at most before another worker gets them; a batch must take less than half of it.
   */
  lockDurationMs?: number;
  /** How many times a job may be re-delivered after its worker died before it fails. Default 2. */
  maxStalledCount?: number;
  /** Limit on the time to fetch an image URL (ms). Default 30000. */
  fetchTimeoutMs?: number;
  /** Called after each job, scored or failed. */
  onJob?(event: { id: string; ok: boolean; error?: string }): void;
}

/** A running queue worker. */
export interface RunningWorker {
  worker: Worker<ScoreJob, ScoreJobResult>;
  /** Stop taking jobs, finish the active ones, close the connection (the predictor stays open). */
  close(): Promise<void>;
}

async function fetchBytes(url: string, timeoutMs: number): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    const msg = `GET ${url} answered ${res.status}`;
    throw res.status >= 400 && res.status < 500 ? new UnrecoverableError(msg) : new Error(msg);
  }
  return Buffer.from(await res.arrayBuffer());
}

/**
 * Consume {@link ScoreJob}s from the BullMQ queue at `url`: read each image, score it (jobs that
 * are active together are scored in one batch), return a {@link ScoreJobResult}. An image that is
 * missing or cannot be decoded fails its job at once with the reason (no retry); other failures
 * are retried with the back-off the submitter set. Refuses to start when Redis does not answer.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningWorker> {
  await checkRedis(o.url);
  await o.predictor.ready();
  const name = `${hostname()}:${process.pid}`;
  const batcher = new MicroBatcher(o.predictor, { maxBatch: o.maxBatch ?? 8, batchWaitMs: o.batchWaitMs ?? 5 });
  const connection: Redis = redisConnection(o.url);
  const lockDuration = o.lockDurationMs ?? 30_000;
  const worker = new Worker<ScoreJob, ScoreJobResult>(
    o.queueName ?? DEFAULT_QUEUE_NAME,
    async (job) => {
      const { id, path, url } = job.data;
      let bytes: Buffer;
      if (path !== undefined) {
        try {
          bytes = await readFile(path);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES') throw new UnrecoverableError(`${path}: ${err.code === 'ENOENT' ? 'no such file on worker ' + name : err.message}`);
          throw e;
        }
      } else if (url !== undefined) {
        bytes = await fetchBytes(url, o.fetchTimeoutMs ?? 30_000);
      } else {
        throw new UnrecoverableError(`job ${job.id}: has neither a path nor a url`);
      }
      const outcome = await batcher.submit(bytes);
      if (isImageFailure(outcome)) throw new UnrecoverableError(`${path ?? url}: ${outcome.error.replace(/^the upload: /, '')}`);
      return { id, path, url, score: outcome.score, normalizedScore: outcome.normalizedScore, label: outcome.label, threshold: outcome.threshold, worker: name };
    },
    {
      connection,
      concurrency: o.concurrency ?? 4,
      lockDuration,
      stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
      maxStalledCount: o.maxStalledCount ?? 2,
      autorun: true,
    },
  );
  worker.on('completed', (job) => o.onJob?.({ id: String(job.id), ok: true }));
  worker.on('failed', (job, err) => o.onJob?.({ id: String(job?.id), ok: false, error: err.message }));
  worker.on('error', () => undefined); // connection drops: ioredis reconnects
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** An image of a submit: a path or a URL. */
type ImageRef = { path: string; url?: undefined } | { url: string; path?: undefined };

/** One line of `rlr submit`'s predictions.jsonl: for an image given by path, or by URL. */
export interface SubmitLine {
  path?: string;
  url?: string;
  id: string;
  score: number | null;
  normalizedScore: number | null;
  label: 0 | 1 | null;
  threshold: number | null;
  worker?: string;
  /** Why the image was not scored (after its retries). */
  error?: string;
}

/** Options of {@link submitAndWait}. */
export interface SubmitOptions {
  url: string;
  queueName?: string;
  /** Absolute image paths (as the workers will read them). */
  paths: string[];
  /** `http(s)://` image URLs (the workers fetch them); their lines come after the paths'. */
  urls?: string[];
  /** Tries per job before it fails (default 3), retried with exponential back-off from `backoffMs`. */
  attempts?: number;
  /** First retry delay (ms, default 1000; then 2000, 4000, …). */
  backoffMs?: number;
  /** Called as jobs finish. */
  onProgress?(done: number, total: number): void;
  /** Stops waiting (the jobs stay queued; a later submit of the same paths picks them up). */
  signal?: AbortSignal;
}

/**
 * Enqueue one job per path and URL (job id = {@link jobIdOf} it, so a re-submit adds nothing
 * twice, reuses finished results, and retries jobs that had failed), wait until each has
 * completed or failed, and return one line per image, paths then URLs, in the order given.
 */
export async function submitAndWait(o: SubmitOptions): Promise<SubmitLine[]> {
  await checkRedis(o.url);
  const queueName = o.queueName ?? DEFAULT_QUEUE_NAME;
  const connections = [redisConnection(o.url), redisConnection(o.url)];
  const queue = new Queue<ScoreJob, ScoreJobResult>(queueName, { connection: connections[0] });
  const events = new QueueEvents(queueName, { connection: connections[1] });
  for (const u of o.urls ?? []) if (!/^https?:\/\//i.test(u)) throw new Error(`${u}: not an http(s) URL`);
  const sources: ImageRef[] = [...o.paths.map((path) => ({ path })), ...(o.urls ?? []).map((url) => ({ url }))];
  const byId = new Map(sources.map((r) => [jobIdOf(r.path ?? r.url!), r]));
  const lines = new Map<string, SubmitLine>();
  let notify: (() => void) | undefined;
  const finish = (id: string, line: Omit<SubmitLine, 'path' | 'id'>) => {
    const ref = byId.get(id);
    if (ref === undefined || lines.has(id)) return;
    lines.set(id, { ...ref, id, ...line });
    o.onProgress?.(lines.size, byId.size);
    notify?.();
  };
  const fromResult = (r: ScoreJobResult | string | undefined): Omit<SubmitLine, 'path' | 'id'> => {
    const v = typeof r === 'string' ? (JSON.parse(r) as ScoreJobResult) : r;
    if (!v) return { score: null, normalizedScore: null, label: null, threshold: null, error: 'the job completed without a result' };
    return { score: v.score, normalizedScore: v.normalizedScore, label: v.label, threshold: v.threshold, worker: v.worker };
  };
  const failed = (reason: string | undefined) => ({ score: null, normalizedScore: null, label: null, threshold: null, error: reason || 'failed' });
  try {
    events.on('completed', ({ jobId, returnvalue }) => finish(jobId, fromResult(returnvalue as unknown as ScoreJobResult | string)));
    events.on('failed', ({ jobId, failedReason }) => {
      if (!byId.has(jobId)) return;
      void queue.getJobState(jobId).then((state) => state === 'failed' && finish(jobId, failed(failedReason)));
    });
    events.on('error', () => undefined);
    await events.waitUntilReady();

    // Existing jobs first: finished ones give their result, failed ones are retried.
    const ids = [...byId.keys()];
    const fresh: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const jobs = await Promise.all(chunk.map((id) => Job.fromId<ScoreJob, ScoreJobResult>(queue, id)));
      for (const [k, job] of jobs.entries()) {
        if (!job) {
          fresh.push(chunk[k]);
          continue;
        }
        const state = await job.getState();
        if (state === 'completed') finish(chunk[k], fromResult(job.returnvalue));
        else if (state === 'failed') await job.retry('failed');
      }
    }
    for (let i = 0; i < fresh.length; i += 1000) {
      await queue.addBulk(
        fresh.slice(i, i + 1000).map((id) => ({
          name: 'score',
          data: { id, ...byId.get(id)! },
          opts: { jobId: id, attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 }, removeOnComplete: false, removeOnFail: false },
        })),
      );
    }

    // Wait; a sweep every few seconds catches events missed while (re)connecting.
    let lastSweep = Date.now();
    while (lines.size < byId.size) {
      if (o.signal?.aborted) throw new Error(`stopped waiting with ${byId.size - lines.size} of ${byId.size} jobs unfinished; they stay queued`);
      await new Promise<void>((ok) => {
        notify = ok;
        setTimeout(ok, 1000);
      });
      if (Date.now() - lastSweep > 3000) {
        lastSweep = Date.now();
        const pending = ids.filter((id) => !lines.has(id));
        for (let i = 0; i < pending.length; i += 500) {
          const jobs = await Promise.all(pending.slice(i, i + 500).map((id) => Job.fromId<ScoreJob, ScoreJobResult>(queue, id)));
          for (const job of jobs) {
            if (!job?.id || !job.finishedOn) continue;
            const state = await job.getState();
            if (state === 'completed') finish(job.id, fromResult(job.returnvalue));
            else if (state === 'failed') finish(job.id, failed(job.failedReason));
          }
        }
      }
    }
    return sources.map((r) => lines.get(jobIdOf(r.path ?? r.url!))!);
  } finally {
    await events.close();
    await queue.close();
    for (const c of connections) c.disconnect();
  }
}
