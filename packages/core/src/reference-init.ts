import * as tf from '@tensorflow/tfjs-core';
import type { FeatureSource } from './feature-source.js';
import { Rng, deriveSeed } from './rng.js';
import type { RLRModel } from './rlr-model.js';

/**
 * Initial value of each level's learnable reference R [N, C]:
 * - `randn`: the standard-normal draw of `createRLR` (the paper's; nothing changes);
 * - `mean`: the per-position mean of the training features (what the reference converges
 *   towards on normal data, so training starts near the answer);
 * - `sample`: the features of one training image, chosen by the seed.
 */
export type RefInit = 'randn' | 'mean' | 'sample';

/** The reference initialisations, for validating user input. */
export const REF_INITS: readonly RefInit[] = ['randn', 'mean', 'sample'];

/** Images read at a time by {@link meanFeatures}. */
const CHUNK = 16;

/**
 * Per-position mean over all images of `source`, one `[h·w·C]` array per level (float64 sums).
 */
export async function meanFeatures(source: FeatureSource): Promise<Float32Array[]> {
  const sums = source.levels.map((l) => new Float64Array(l.grid[0] * l.grid[1] * l.channels));
  for (let first = 0; first < source.size; first += CHUNK) {
    const n = Math.min(CHUNK, source.size - first);
    const parts = await source.read(Array.from({ length: n }, (_, k) => first + k));
    parts.forEach((data, i) => {
      const sum = sums[i];
      const per = sum.length;
      for (let b = 0; b < n; b++) {
        const off = b * per;
        for (let j = 0; j < per; j++) sum[j] += data[off + j];
      }
    });
  }
  return sums.map((s) => Float32Array.from(s, (v) => v / source.size));
}

/** Index of the image `sample` initialisation takes for a source of `size` images. */
export function sampledReferenceImage(size: number, seed: number): number {
  return new Rng(deriveSeed(seed, 0x4ef1)).int(size);
}

/**
 * Set every level's reference of `model` from `source` (the training features) as `mode` says.
 * `randn` leaves the model untouched. Call it on a fresh model, before `Trainer.fit`.
 * @returns the image index used by `sample` (undefined otherwise)
 */
export async function initReference(model: RLRModel, source: FeatureSource, mode: RefInit, seed = model.config.seed): Promise<number | undefined> {
  if (!REF_INITS.includes(mode)) throw new Error(`initReference: mode must be one of ${REF_INITS.join(', ')}, got ${String(mode)}`);
  if (mode === 'randn') return undefined;
  if (source.size < 1) throw new Error('initReference: the feature source holds no images');
  let values: Float32Array[];
  let index: number | undefined;
  if (mode === 'mean') values = await meanFeatures(source);
  else {
    index = sampledReferenceImage(source.size, seed);
    values = await source.read([index]);
  }
  model.levels.forEach((lv, i) => {
    const ref = lv.params.get('ref');
    if (!ref) throw new Error(`initReference: level ${i} has no reference parameter`);
    if (values[i].length !== ref.size) throw new Error(`initReference: level ${i} features have ${values[i].length} values, the reference ${ref.size}`);
    tf.tidy(() => ref.assign(tf.tensor(values[i], ref.shape)));
  });
  return index;
}
