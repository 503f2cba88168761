import * as tf from '@tensorflow/tfjs-core';
import type { GradientMap } from './gradients.js';
import type { LevelParams } from './level-params.js';

/** Adam hyperparameters (SPEC section 3: lr 1e-4, β 0.9/0.999, ε 1e-8, no weight decay). */
export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const ADAM_DEFAULTS: AdamOptions = { lr: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Host copy of an optimizer's state, for checkpoints. */
export interface AdamState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/**
 * Adam exactly as `torch.optim.Adam` computes it:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 * One optimizer per level (the released trainer steps once per level per batch).
 */
export class Adam {
  readonly options: AdamOptions;
  private readonly params: LevelParams;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(params: LevelParams, options: Partial<AdamOptions> = {}) {
    this.options = { ...ADAM_DEFAULTS, ...options };
    this.params = params;
    for (const [name, p] of params) {
      // tidy releases the zeros tensors; the variables keep their data.
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** Steps taken so far. */
  get step(): number {
    return this.t;
  }

  /** Apply one update with `grads` (by internal parameter name; every parameter needs one). */
  apply(grads: GradientMap): void {
    const { lr, beta1, beta2, epsilon } = this.options;
    for (const name of this.params.keys()) {
      if (!grads.has(name)) throw new Error(`Adam.apply: no gradient for parameter "${name}"`);
    }
    this.t += 1;
    const stepSize = lr / (1 - beta1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name)!;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), epsilon);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, denom), stepSize)));
        m.assign(m1);
        v.assign(v1);
      }
    });
  }

  /** Read the state to the host (for a checkpoint). */
  async getState(): Promise<AdamState> {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const name of this.params.keys()) {
      m.set(name, (await this.m.get(name)!.data()) as Float32Array);
      v.set(name, (await this.v.get(name)!.data()) as Float32Array);
    }
    return { step: this.t, m, v };
  }

  /** Restore a state read by {@link getState}; `where` names its source in errors. */
  setState(state: AdamState, where: string): void {
    for (const [name, p] of this.params) {
      const m = state.m.get(name);
      const v = state.v.get(name);
      if (!m || !v) throw new Error(`${where}: optimizer state lacks parameter "${name}"; the checkpoint does not match this model`);
      if (m.length !== p.size || v.length !== p.size) {
        throw new Error(`${where}: optimizer state of "${name}" has ${m.length} values, the parameter has ${p.size}`);
      }
      // assign() shares the new tensor's data; tidy releases the temporary's own reference.
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(m, p.shape));
        this.v.get(name)!.assign(tf.tensor(v, p.shape));
      });
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
  }
}
