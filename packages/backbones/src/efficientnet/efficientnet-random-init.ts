/**
 * Seeded random EfficientNet weights with timm's initialisation (`_init_weight_goog`), laid out
 * exactly like a timm checkpoint so that they load through the same path as real weights:
 * - conv kernels ~ N(0, sqrt(2 / fan_out)), fan_out = kh·kw·out / groups; conv biases 0;
 * - BatchNorm γ = 1, β = 0, running mean 0, running variance 1;
 * - classifier ~ U(−1/sqrt(out), 1/sqrt(out)), bias 0.
 * Used by the CLI's offline demo; pair it with `calibrateBatchNorm` for well-scaled features.
 */
import { Rng } from '@rlr/core';
import type { TensorMap } from '../weights/checkpoint-tensors.js';
import { efficientNetParamShapes, type ParamScope } from './efficientnet-params.js';
import { efficientNetArchitecture } from './efficientnet-variants.js';
import { requireEfficientNetName } from './efficientnet.js';

/** Options of {@link randomEfficientNetWeights}. */
export interface RandomWeightsOptions extends ParamScope {
  /** Seed of the generator (default 0). */
  seed?: number;
}

/**
 * Random timm-layout weights for a variant.
 * @returns tensors by timm name, PyTorch layouts, F32
 */
export function randomEfficientNetWeights(name: string, options: RandomWeightsOptions = {}): TensorMap {
  const arch = efficientNetArchitecture(requireEfficientNetName(name));
  const rng = new Rng(options.seed ?? 0);
  const out: TensorMap = new Map();
  for (const [key, shape] of efficientNetParamShapes(arch, options)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (shape.length === 4) {
      const groups = key.endsWith('conv_dw.weight') ? shape[0] : 1;
      const std = Math.sqrt(2 / ((shape[0] * shape[2] * shape[3]) / groups));
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } else if (key === 'classifier.weight') {
      const range = 1 / Math.sqrt(shape[0]);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * range;
    } else if (key.endsWith('.running_var') || (key.endsWith('.weight') && !key.startsWith('classifier'))) {
      data.fill(1); // BN γ and running variance
    } // biases and running means stay 0
    out.set(key, { dtype: 'F32', shape: [...shape], data });
  }
  return out;
}
