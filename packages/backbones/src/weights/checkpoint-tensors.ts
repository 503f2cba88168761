/**
 * Reading named tensors out of a decoded checkpoint with errors that name the tensor, the file and
 * what to do. Extra tensors are never an error: callers ask only for what they need.
 */
import type { NamedTensor } from '@rlr/core';

/** Tensors of a checkpoint by name (what `parseSafetensors(...).tensors` returns). */
export type TensorMap = Map<string, NamedTensor>;

/** Where a checkpoint came from and what it should contain, for error messages. */
export interface CheckpointContext {
  /** File path, URL or description of the checkpoint. */
  source: string;
  /** Model the checkpoint is loaded into, e.g. `tf_efficientnet_b6`. */
  model: string;
}

/**
 * The float data of tensor `name`, checked against the expected shape.
 * @throws naming the tensor and the checkpoint when it is missing, not floating point, or misshapen
 */
export function requireTensor(tensors: TensorMap, name: string, shape: readonly number[], ctx: CheckpointContext): Float32Array {
  const t = tensors.get(name);
  if (!t) {
    throw new Error(
      `${ctx.source}: tensor "${name}" is missing, but ${ctx.model} needs it (shape [${shape.join(', ')}]). ` +
        `Use a timm checkpoint of ${ctx.model} that covers the requested stages (or request fewer stages with outIndices).`,
    );
  }
  if (!(t.data instanceof Float32Array)) {
    throw new Error(
      `${ctx.source}: tensor "${name}" has dtype ${t.dtype}; ${ctx.model} needs floating-point weights (F32, F16 or BF16).`,
    );
  }
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(
      `${ctx.source}: tensor "${name}" has shape [${t.shape.join(', ')}] but ${ctx.model} expects [${shape.join(', ')}]; ` +
        `the checkpoint is probably for another model variant.`,
    );
  }
  return t.data;
}
