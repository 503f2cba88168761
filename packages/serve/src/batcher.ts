import type { PredictOptions, PredictOutcome, PredictResult, Predictor } from './predictor.js';

/** How {@link MicroBatcher} groups images. */
export interface BatcherOptions {
  /** Most images scored in one backend call. */
  maxBatch: number;
  /** How long the first waiting image waits for company before its batch runs (ms). */
  batchWaitMs: number;
}

/** Rejection of an image whose caller gave up (its signal aborted) before it was scored. */
export class AbortedError extends Error {
  constructor(message = 'the request was cancelled before it was scored') {
    super(message);
    this.name = 'AbortedError';
  }
}

interface Item {
  image: Buffer;
  maps: boolean;
  resolve(o: PredictOutcome): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Groups images submitted close together into one {@link Predictor.predictBatch} call (at most
 * `maxBatch` images, the first waiting at most `batchWaitMs`), one batch at a time: the backend
 * computes on one thread, so a second batch in parallel would only slow both down.
 */
export class MicroBatcher {
  private readonly pending: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private runningCount = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly predictor: Pick<Predictor, 'predictBatch'>,
    private readonly options: BatcherOptions,
    /** Called after each batch with its size and duration (metrics). */
    private readonly onBatch?: (size: number, seconds: number) => void,
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1, got ${options.maxBatch}`);
  }

  /** Images waiting for a batch. */
  get queued(): number {
    return this.pending.length;
  }

  /** Images in the batch being scored now. */
  get running(): number {
    return this.runningCount;
  }

  /**
   * Score one image in the next batch. Rejects with {@link AbortedError} when `signal` aborts
   * while the image still waits (an image already in a running batch is scored, its result dropped).
   */
  submit(image: Buffer, options: PredictOptions & { signal?: AbortSignal } = {}): Promise<PredictOutcome> {
    return new Promise<PredictOutcome>((resolve, reject) => {
      if (options.signal?.aborted) return reject(new AbortedError());
      const item: Item = { image, maps: Boolean(options.maps), resolve, reject, signal: options.signal };
      if (options.signal) {
        item.onAbort = () => {
          const at = this.pending.indexOf(item);
          if (at >= 0) {
            this.pending.splice(at, 1);
            reject(new AbortedError());
            this.notifyIdle();
          }
        };
        options.signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.pending.push(item);
      this.schedule();
    });
  }

  /** Resolves once nothing waits and no batch runs. */
  idle(): Promise<void> {
    if (!this.busy && this.pending.length === 0) return Promise.resolve();
    return new Promise((ok) => this.idleWaiters.push(ok));
  }

  private notifyIdle(): void {
    if (this.busy || this.pending.length > 0) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.busy) return;
    if (this.pending.length >= this.options.maxBatch) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.batchWaitMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.busy || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    for (const item of batch) if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
    this.busy = true;
    this.runningCount = batch.length;
    const t0 = performance.now();
    const maps = batch.some((i) => i.maps);
    try {
      const out = await this.predictor.predictBatch(
        batch.map((i) => i.image),
        { maps },
      );
      if (out.length !== batch.length) throw new Error(`the predictor returned ${out.length} results for a batch of ${batch.length} images`);
      batch.forEach((item, k) => {
        const o = out[k];
        if (!item.maps && 'map' in o) {
          const copy: PredictResult = { ...o };
          delete copy.map;
          item.resolve(copy);
        } else item.resolve(o);
      });
    } catch (e) {
      for (const item of batch) item.reject(e);
    } finally {
      this.onBatch?.(batch.length, (performance.now() - t0) / 1000);
      this.busy = false;
      this.runningCount = 0;
      // Whatever arrived during the batch has waited long enough: run it now.
      if (this.pending.length > 0) void this.flush();
      else this.notifyIdle();
    }
  }
}
