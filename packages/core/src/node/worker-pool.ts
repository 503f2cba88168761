import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { RLRModel } from '../rlr-model.js';
import type { TrainingPool, TrainingSession, TrainingSetup } from '../trainer-pool.js';
import { ParallelPredictor } from './parallel-predictor.js';
import { ParallelTrainingSession } from './parallel-training.js';
import { RemoteExtractor } from './remote-extractor.js';
import type { ExtractorRecipe, TaskReply, WorkerInit } from './worker-protocol.js';
import type { WorkerChannel } from './worker-channel.js';
import { tsxApi, typescriptBootstrap, workerScript } from './worker-script.js';

/** Upper bound of `workers: 'auto'`: each worker holds its own backend, replicas and wasm heap. */
export const MAX_AUTO_WORKERS = 8;

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * Worker threads: `'auto'` (default) = the available cores (`os.availableParallelism()`), at
   * most {@link MAX_AUTO_WORKERS}; or a positive integer.
   */
  workers?: 'auto' | number;
  /** tfjs backend every worker selects, e.g. `'wasm'` or `'cpu'`. */
  backend: string;
  /**
   * Module(s) every worker imports before selecting the backend: the backend package
   * (`'@tensorflow/tfjs-backend-wasm'`), or an absolute path / file URL (e.g.
   * `import.meta.resolve('@tensorflow/tfjs-backend-wasm')` where bare names do not resolve
   * from `@rlr/core`'s folder, as in strict pnpm layouts). Bare names are resolved from the
   * worker script inside `@rlr/core`.
   */
  backendModule: string | URL | readonly (string | URL)[];
}

/** Number of workers `workers` asks for on this machine. */
export function resolveWorkerCount(workers: 'auto' | number = 'auto'): number {
  if (workers === 'auto') return Math.max(1, Math.min(MAX_AUTO_WORKERS, availableParallelism()));
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(`workers must be 'auto' or a positive integer, got ${JSON.stringify(workers)}`);
  }
  return workers;
}

/** An error raised inside a worker (or the loss of a worker), as the caller sees it. */
export class WorkerTaskError extends Error {
  constructor(
    message: string,
    /** Index of the worker in its pool. */
    readonly worker: number,
    /** The request that failed (`start` for the worker's start-up). */
    readonly task: string,
    /** The stack inside the worker, when it threw. */
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'WorkerTaskError';
    if (workerStack) this.stack = `${this.stack}\n    --- in worker ${worker} ---\n${workerStack}`;
  }
}

interface Pending {
  task: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One worker thread and its outstanding requests. */
class Thread {
  readonly pending = new Map<number, Pending>();
  exited = false;

  constructor(
    readonly index: number,
    readonly worker: Worker,
    onFailure: (error: WorkerTaskError) => void,
  ) {
    worker.on('message', (m: TaskReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id);
      if (m.ok) p.resolve(m.result);
      else {
        const what = m.id === 0 ? 'failed to start' : `failed in "${p.task}"`;
        p.reject(new WorkerTaskError(`worker ${index} ${what}: ${m.error.message}`, index, p.task, m.error.stack));
      }
    });
    // An uncaught error or an exit ends the worker: its requests can never be answered.
    worker.on('error', (e) => onFailure(this.lost(`stopped with an uncaught error: ${e.message}`, e.stack)));
    worker.on('exit', (code) => {
      this.exited = true;
      if (this.pending.size > 0) onFailure(this.lost(`exited (code ${code})`));
    });
    worker.unref();
  }

  private lost(what: string, stack?: string): WorkerTaskError {
    const tasks = [...new Set([...this.pending.values()].map((p) => p.task))];
    const err = new WorkerTaskError(`worker ${this.index} ${what}${tasks.length ? ` during "${tasks.join('", "')}"` : ''}`, this.index, tasks[0] ?? 'none', stack);
    this.rejectAll(err);
    return err;
  }

  request(id: number, task: string, post: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Only a thread with work keeps the process alive: a forgotten pool never blocks exit.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { task, resolve, reject });
      try {
        post();
      } catch (e) {
        this.settle(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  rejectAll(error: Error): void {
    const all = [...this.pending.entries()];
    for (const [id, p] of all) {
      this.settle(id);
      p.reject(error);
    }
  }
}

/**
 * Worker threads, each with its own tfjs backend instance, that run RLR's heavy phases in
 * parallel: training steps (pass it as `Trainer`'s `pool`), inference ({@link predictor}) and
 * backbone feature extraction ({@link createExtractor}). Create with {@link createWorkerPool};
 * {@link close} it when done (an idle pool does not keep the process alive, but holds memory).
 *
 * Requests to one worker run in order; a request that throws inside a worker rejects with a
 * {@link WorkerTaskError} naming the worker and the request, and the pool stays usable. A worker
 * that dies makes the pool unusable: every later request rejects with that cause.
 */
export class WorkerPool implements TrainingPool, WorkerChannel {
  /** Number of worker threads. */
  readonly size: number;
  /** The tfjs backend the workers run on. */
  readonly backend: string;
  private readonly threads: Thread[];
  private nextId = 1;
  private nextKey = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(threads: Thread[], backend: string) {
    this.threads = threads;
    this.size = threads.length;
    this.backend = backend;
  }

  /** @internal use {@link createWorkerPool} */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const count = resolveWorkerCount(options.workers);
    if (!options.backend) throw new Error('createWorkerPool: options.backend (the tfjs backend name, e.g. "wasm") is required');
    const list = Array.isArray(options.backendModule) ? options.backendModule : [options.backendModule];
    const modules = (list as (string | URL)[]).filter((m) => m !== undefined && m !== '').map(moduleSpecifier);
    if (modules.length === 0) throw new Error('createWorkerPool: options.backendModule (e.g. "@tensorflow/tfjs-backend-wasm") is required');
    const script = workerScript();
    const tsx = tsxApi();
    if (script.typescript && !tsx) throw new Error(`@rlr/core/node: running from sources (${script.url.href}) needs tsx to start workers; build @rlr/core or install tsx`);
    const starts: Promise<unknown>[] = [];
    // Read by the threads' failure callbacks, which exist before the pool does.
    // eslint-disable-next-line prefer-const
    let pool: WorkerPool | undefined;
    const threads = Array.from({ length: count }, (_, index) => {
      const init: WorkerInit = { index, backend: options.backend, modules, prod: tf.env().getBool('PROD'), tsx };
      const worker = script.typescript
        ? new Worker(typescriptBootstrap(script.url, tsx!), { eval: true, workerData: init })
        : new Worker(script.url, { workerData: init });
      const thread = new Thread(index, worker, (e) => pool?.fail(e));
      // The worker answers request 0 when its backend is ready.
      starts.push(thread.request(0, 'start', () => undefined));
      return thread;
    });
    const outcome = await Promise.allSettled(starts);
    const failed = outcome.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw failed.reason;
    }
    pool = new WorkerPool(threads, options.backend);
    return pool;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const t of this.threads) t.rejectAll(error);
  }

  private check(): void {
    if (this.closing) throw new Error('WorkerPool: the pool is closed; create a new one with createWorkerPool()');
    if (this.failure) {
      throw new Error(`WorkerPool: unusable since ${this.failure.message}; close it and create a new one`, { cause: this.failure });
    }
  }

  /** A key for objects kept in the workers (replicas, sessions, extractors). */
  newKey(prefix: string): string {
    return `${prefix}-${this.nextKey++}`;
  }

  /**
   * Send one request to worker `index`. `transfer` lists buffers moved (not copied) to the
   * worker; they are unusable here afterwards.
   */
  call<R = unknown>(index: number, task: string, payload: unknown, transfer: ArrayBuffer[] = []): Promise<R> {
    try {
      this.check();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const thread = this.threads[index];
    if (!thread) return Promise.reject(new Error(`WorkerPool: no worker ${index} (the pool has ${this.size})`));
    const id = this.nextId++;
    return thread.request(id, task, () => thread.worker.postMessage({ id, task, payload }, transfer)) as Promise<R>;
  }

  /** Send the same request to every worker (payloads are copied to each). */
  broadcast<R = unknown>(task: string, payload: unknown): Promise<R[]> {
    return Promise.all(this.threads.map((_, i) => this.call<R>(i, task, payload)));
  }

  /** Start a data-parallel training session (used by `Trainer` when this pool is its `pool`). */
  async startTraining(model: RLRModel, setup: TrainingSetup): Promise<TrainingSession> {
    return ParallelTrainingSession.start(this, model, setup);
  }

  /**
   * Upload the model's current parameters to every worker for parallel inference. Later changes
   * to the model are not seen: create a new predictor after training further.
   */
  async predictor(model: RLRModel): Promise<ParallelPredictor> {
    return ParallelPredictor.start(this, model);
  }

  /**
   * Build a feature extractor in every worker from a recipe: each worker imports
   * `recipe.module` and calls its export `recipe.exportName` with `recipe.args`. With
   * `@rlr/backbones/node`, `backboneRecipe(name, options)` makes the recipe of a backbone.
   */
  async createExtractor(recipe: ExtractorRecipe): Promise<RemoteExtractor> {
    return RemoteExtractor.start(this, recipe);
  }

  /** Live tfjs tensors in each worker (for leak checks). */
  async memory(): Promise<{ numTensors: number; models: number; sessions: number; extractors: number }[]> {
    return this.broadcast('memory', null);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Stop every worker (pending requests reject). Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const error = new Error('WorkerPool: closed while a request was running');
      for (const t of this.threads) t.rejectAll(error);
      await Promise.all(this.threads.map((t) => (t.exited ? Promise.resolve(0) : t.worker.terminate())));
    })();
    return this.closing;
  }
}

function moduleSpecifier(m: string | URL): string {
  if (m instanceof URL) return m.href;
  return isAbsolute(m) ? pathToFileURL(m).href : m;
}

/**
 * Start worker threads for parallel training, inference and feature extraction in Node; resolves
 * when every worker's backend is ready.
 * @example
 * const pool = await createWorkerPool({ backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm' });
 * const trainer = new Trainer(model, { epochs: 200, pool });
 * await trainer.fit(features);
 * const predictor = await pool.predictor(model);
 * const { scores, maps } = await predictor.predict(testFeatures);
 * await pool.close();
 */
export function createWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  return WorkerPool.start(options);
}
