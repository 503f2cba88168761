import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** Backends every numeric test runs on: they ship with npm and need no native install. */
export const TEST_BACKENDS = ['wasm', 'cpu'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Switch tfjs to `name` and wait until it is ready. */
export async function useBackend(name: TestBackend): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
}
