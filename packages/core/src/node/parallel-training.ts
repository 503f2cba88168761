import type { AdamState } from '../adam.js';
import { levelElements } from '../feature-source.js';
import { readLevelValues } from '../level-params.js';
import type { RLRModel } from '../rlr-model.js';
import type { PulledState, StepPosition, TrainingSession, TrainingSetup } from '../trainer-pool.js';
import { splitBatch } from '../trainer-step.js';
import { packedLayout, packValues, unpackValues } from './param-packing.js';
import type { ModelPayload, TrainGradsResult, TrainPullResult } from './worker-protocol.js';
import type { WorkerPool } from './worker-pool.js';

/** Everything a worker needs to rebuild `model` exactly. */
export async function modelPayload(model: RLRModel): Promise<ModelPayload> {
  const params: Float32Array[] = [];
  for (const lv of model.levels) params.push(packValues(lv.config, await readLevelValues(lv.params), 'model replica'));
  return { spec: model.spec, config: model.config, levels: model.levelConfigs, params };
}

/** Time spent in each phase of the session's steps, in milliseconds (summed over steps). */
export interface SessionTimings {
  steps: number;
  /** Until the last worker returned its gradients (compute + transfer). */
  gradients: number;
  /** Summing the workers' gradients in this thread. */
  reduce: number;
  /** Until every worker applied the Adam step. */
  apply: number;
}

/**
 * The main-thread side of data-parallel training over a {@link WorkerPool}: splits each batch's
 * images over the workers, sums their image-weighted gradients in worker order (the same order
 * every step, so a rerun with the same worker count repeats bit for bit) into shared memory, and
 * lets every worker apply the same Adam step to its replica.
 */
export class ParallelTrainingSession implements TrainingSession {
  /** Phase timings of the steps so far (benchmarks print them). */
  readonly timings: SessionTimings = { steps: 0, gradients: 0, reduce: 0, apply: 0 };
  private closed = false;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly key: string,
    private readonly model: RLRModel,
    private readonly levels: number[],
    /** Summed gradients per trained level; the workers read the same memory. */
    private readonly sums: Float32Array[],
  ) {}

  static async start(pool: WorkerPool, model: RLRModel, setup: TrainingSetup): Promise<ParallelTrainingSession> {
    const key = pool.newKey('train');
    const sums = setup.levels.map((level) => {
      const { total } = packedLayout(model.levels[level].config);
      return new Float32Array(new SharedArrayBuffer(total * 4));
    });
    const optimizers = setup.levels.map((level, k) => {
      const cfg = model.levels[level].config;
      const s = setup.optimizers[k];
      return { step: s.step, m: packValues(cfg, s.m, `optimizer of level ${level}`), v: packValues(cfg, s.v, `optimizer of level ${level}`) };
    });
    const payload = { session: key, model: await modelPayload(model), levels: setup.levels, adam: setup.adam, optimizers, sums: sums.map((s) => s.buffer) };
    const session = new ParallelTrainingSession(pool, key, model, setup.levels.slice(), sums);
    try {
      await pool.broadcast('train.begin', payload);
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
        return this.pool.call<TrainGradsResult>(w, 'train.grads', { session: this.key, part, at, features: mine }, mine.map((m) => m.buffer as ArrayBuffer));
      }),
    );
    const t1 = performance.now();
    const losses = this.levels.map((_, k) => {
      // Worker order, every step: the sum does not depend on which worker answered first.
      const sum = this.sums[k];
      sum.set(results[0].grads[k]);
      for (let w = 1; w < results.length; w++) {
        const g = results[w].grads[k];
        for (let i = 0; i < sum.length; i++) sum[i] += g[i];
      }
      let loss = 0;
      for (const r of results) loss += r.losses[k];
      return loss;
    });
    const t2 = performance.now();
    this.timings.steps += 1;
    this.timings.gradients += t1 - t0;
    this.timings.reduce += t2 - t1;
    return losses;
  }

  async apply(levels: number[]): Promise<void> {
    if (levels.length === 0) return;
    const t0 = performance.now();
    await this.pool.broadcast('train.apply', { session: this.key, levels });
    this.timings.apply += performance.now() - t0;
  }

  async pull(withOptimizers: boolean): Promise<PulledState> {
    const r = await this.pool.call<TrainPullResult>(0, 'train.pull', { session: this.key, withOptimizers });
    const configs = this.levels.map((level) => this.model.levels[level].config);
    const params = r.params.map((p, k) => unpackValues(configs[k], p));
    if (!withOptimizers || !r.optimizers) return { params };
    const optimizers: AdamState[] = r.optimizers.map((o, k) => ({ step: o.step, m: unpackValues(configs[k], o.m), v: unpackValues(configs[k], o.v) }));
    return { params, optimizers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.pool.closed) await this.pool.broadcast('train.end', { session: this.key });
  }
}
