import type { AdamState } from '../adam.js';
import { levelElements } from '../feature-source.js';
import { readLevelValues } from '../level-params.js';
import type { RLRModel } from '../rlr-model.js';
import type { PulledState, StepPosition, TrainingSession, TrainingSetup } from '../trainer-pool.js';
import { splitBatch } from '../trainer-step.js';
import { packValues, unpackValues } from './param-packing.js';
import { shardRanges } from './host-adam.js';
import type { ModelPayload, TrainBeginPayload, TrainGradsResult, TrainMomentsResult } from './worker-protocol.js';
import type { WorkerChannel } from './worker-channel.js';

/** Everything a worker needs to rebuild `model` exactly. */
export async function modelPayload(model: RLRModel): Promise<ModelPayload> {
  const params: Float32Array[] = [];
  for (const lv of model.levels) params.push(packValues(lv.config, await readLevelValues(lv.params), 'model replica'));
  return { spec: model.spec, config: model.config, levels: model.levelConfigs, params };
}

/** Time spent in each phase of the session's steps, in milliseconds (summed over steps). */
export interface SessionTimings {
  steps: number;
  /** Until the last worker had written its gradients (split, compute, copy into shared memory). */
  gradients: number;
  /** Until every worker had summed the gradients of its share of the parameters and stepped Adam on it. */
  apply: number;
}

/**
 * The main-thread side of data-parallel training over a {@link WorkerPool}: splits each batch's
 * images over the workers, which write their image-weighted gradients into their slot of shared
 * memory; then each worker sums the slots (in slot order, the same every step, so a rerun with
 * the same worker count repeats bit for bit) for its share of the parameters and applies Adam to
 * that share, in the parameters' shared memory (`hostAdamStep`); every worker copies the complete
 * new parameters into its replica before its next gradients. No gradients or parameters are sent
 * between threads during training.
 */
export class ParallelTrainingSession implements TrainingSession {
  /** Phase timings of the steps so far (benchmarks print them). */
  readonly timings: SessionTimings = { steps: 0, gradients: 0, apply: 0 };
  private closed = false;
  private parts = 0;

  private constructor(
    private readonly pool: WorkerChannel,
    private readonly key: string,
    private readonly model: RLRModel,
    private readonly levels: number[],
    /** Per trained level: the packed parameters in shared memory (the workers update them). */
    private readonly params: Float32Array[],
  ) {}

  static async start(pool: WorkerChannel, model: RLRModel, setup: TrainingSetup): Promise<ParallelTrainingSession> {
    const key = pool.newKey('train');
    const replica = await modelPayload(model);
    const params = setup.levels.map((level) => {
      const shared = new Float32Array(new SharedArrayBuffer(replica.params[level].length * 4));
      shared.set(replica.params[level]);
      replica.params[level] = shared;
      return shared;
    });
    const slots = params.map((p) => new SharedArrayBuffer(pool.size * p.length * 4));
    const moments = setup.levels.map((level, k) => {
      const cfg = model.levels[level].config;
      const s = setup.optimizers[k];
      return { step: s.step, m: packValues(cfg, s.m, `optimizer of level ${level}`), v: packValues(cfg, s.v, `optimizer of level ${level}`), ranges: shardRanges(params[k].length, pool.size) };
    });
    const session = new ParallelTrainingSession(pool, key, model, setup.levels.slice(), params);
    try {
      await Promise.all(
        Array.from({ length: pool.size }, (_, w) => {
          const shards = moments.map((o) => {
            const [lo, hi] = o.ranges[w];
            return { lo, hi, step: o.step, m: o.m.slice(lo, hi), v: o.v.slice(lo, hi) };
          });
          const payload: TrainBeginPayload = { session: key, model: replica, levels: setup.levels, adam: setup.adam, shards, slots };
          return pool.call(w, 'train.begin', payload, shards.flatMap((sh) => [sh.m.buffer, sh.v.buffer]));
        }),
      );
    } catch (e) {
      await session.close().catch(() => undefined);
      throw e;
    }
    return session;
  }

  async gradients(features: Float32Array[], images: number, at: StepPosition): Promise<number[]> {
    const t0 = performance.now();
    const parts = splitBatch(images, this.pool.size);
    const results = await Promise.all(
      parts.map((part, w) => {
        // slice(): a compact copy of the part's images, moved to the worker without another copy.
        const mine = this.levels.map((level) => {
          const per = levelElements({ grid: this.model.levels[level].config.grid, channels: this.model.levels[level].config.channels });
          return features[level].slice(part.first * per, (part.first + part.images) * per);
        });
        const payload = { session: this.key, part, at, features: mine, slot: w };
        return this.pool.call<TrainGradsResult>(w, 'train.grads', payload, mine.map((m) => m.buffer));
      }),
    );
    this.parts = parts.length;
    this.timings.steps += 1;
    this.timings.gradients += performance.now() - t0;
    // The batch loss is the sum of the parts' weighted losses (in part order).
    return this.levels.map((_, k) => results.reduce((sum, r) => sum + r.losses[k], 0));
  }

  async apply(levels: number[], lr?: number): Promise<void> {
    if (levels.length === 0) return;
    const t0 = performance.now();
    await this.pool.broadcast('train.apply', { session: this.key, levels, parts: this.parts, lr });
    this.timings.apply += performance.now() - t0;
  }

  async pull(withOptimizers: boolean): Promise<PulledState> {
    // Between steps nobody writes the shared parameters: read them here, no request needed.
    const configs = this.levels.map((level) => this.model.levels[level].config);
    const params = this.params.map((p, k) => unpackValues(configs[k], p.slice()));
    if (!withOptimizers) return { params };
    const parts = await this.pool.broadcast<TrainMomentsResult>('train.moments', { session: this.key });
    const optimizers: AdamState[] = this.levels.map((_, k) => {
      const n = this.params[k].length;
      const m = new Float32Array(n);
      const v = new Float32Array(n);
      for (const r of parts) {
        const sh = r.shards[k];
        m.set(sh.m, sh.lo);
        v.set(sh.v, sh.lo);
      }
      return { step: parts[0].shards[k].step, m: unpackValues(configs[k], m), v: unpackValues(configs[k], v) };
    });
    return { params, optimizers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.pool.closed) await this.pool.broadcast('train.end', { session: this.key });
  }
}
