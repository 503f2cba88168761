/**
 * One Adam step on host arrays, fused with the sum of the workers' gradients, computing exactly
 * what `Adam.apply` computes with tfjs ops (`torch.optim.Adam`):
 *   g = Σ_w g_w;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
 *
 * Why on the host: with tfjs ops this is ~12 full passes over the parameters through separate
 * kernels (~0.3–0.6 s per step for the official 21 M parameters on wasm); here it is one loop
 * that also reads the gradient sum directly from shared memory.
 *
 * Why bit-identical to the tfjs version: every tfjs op rounds its float32 result, and so does
 * every `Math.fround` below, operation by operation in the same order with the same float32
 * constants (tfjs turns the scalar operands into float32 tensors). A double holds 53 bits ≥
 * 2·24 + 2, so rounding an exact-or-double-rounded +, −, ×, ÷ or √ of float32 values to float32
 * gives the correctly rounded float32 result (double rounding is innocuous at that precision).
 */
import type { AdamOptions } from '../adam.js';

const f = Math.fround;

/** A level's optimizer state and parameters, as flat host arrays (the packed layout). */
export interface HostAdamState {
  step: number;
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/**
 * Sum `parts` gradient slots of `slots` (slot w at `w * n`) in slot order and apply one Adam step
 * to `state` in place.
 */
export function hostAdamStep(state: HostAdamState, slots: Float32Array, parts: number, o: AdamOptions): void {
  const { p, m, v } = state;
  const n = p.length;
  if (slots.length < parts * n) throw new Error(`hostAdamStep: ${slots.length} gradient values for ${parts} parts of ${n}`);
  state.step += 1;
  const t = state.step;
  // The scalars as Adam.apply computes them (in double), then as tfjs stores them (float32).
  const b1 = f(o.beta1);
  const c1 = f(1 - o.beta1);
  const b2 = f(o.beta2);
  const c2 = f(1 - o.beta2);
  const bc2 = f(Math.sqrt(1 - o.beta2 ** t));
  const eps = f(o.epsilon);
  const stepSize = f(o.lr / (1 - o.beta1 ** t));
  for (let i = 0; i < n; i++) {
    let g = slots[i];
    for (let w = 1; w < parts; w++) g = f(g + slots[w * n + i]);
    const m1 = f(f(m[i] * b1) + f(g * c1));
    const v1 = f(f(v[i] * b2) + f(f(g * g) * c2));
    const denom = f(f(f(Math.sqrt(v1)) / bc2) + eps);
    p[i] = f(p[i] - f(f(m1 / denom) * stepSize));
    m[i] = m1;
    v[i] = v1;
  }
}
