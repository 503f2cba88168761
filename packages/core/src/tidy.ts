import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.tidy` with the result's own type: every tensor reachable from the returned value (through
 * objects and arrays; `null` entries allowed) is kept, every other tensor created inside is
 * disposed.
 */
export function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
