import * as tf from '@tensorflow/tfjs-core';

/**
 * Parameter gradients by internal parameter name (see `level-params.ts`). The tensors are kept
 * outside any `tf.tidy` scope: whoever holds the map disposes it with `disposeGradients`.
 */
export type GradientMap = Map<string, tf.Tensor>;

/** Add `g` into `grads[name]` (taking ownership of `g`). */
export function accumulate(grads: GradientMap, name: string, g: tf.Tensor): void {
  const prev = grads.get(name);
  if (!prev) {
    grads.set(name, tf.keep(g));
    return;
  }
  grads.set(name, tf.keep(tf.add(prev, g)));
  prev.dispose();
  g.dispose();
}

/** Dispose every gradient in the map and clear it. */
export function disposeGradients(grads: GradientMap): void {
  for (const g of grads.values()) g.dispose();
  grads.clear();
}
