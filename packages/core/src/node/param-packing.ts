/**
 * One Float32Array per level for everything that crosses threads (parameters, gradients, Adam
 * moments): one message part instead of ~100, and one loop to sum. The layout is the parameter
 * order of `levelParamDefs`, which both sides compute from the same level config.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LevelConfig } from '../config.js';
import { levelParamDefs } from '../level-params.js';

/** Name, shape, offset and length of each parameter in a packed level. */
export interface PackedSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** The packed layout of a level and its total length. */
export function packedLayout(cfg: LevelConfig): { slots: PackedSlot[]; total: number } {
  let offset = 0;
  const slots = levelParamDefs(cfg).map((d) => {
    const size = d.shape.reduce((a, b) => a * b, 1);
    const slot = { name: d.name, shape: d.shape, offset, size };
    offset += size;
    return slot;
  });
  return { slots, total: offset };
}

/** Pack host values by name into one array. */
export function packValues(cfg: LevelConfig, values: Map<string, Float32Array>, where: string): Float32Array {
  const { slots, total } = packedLayout(cfg);
  const out = new Float32Array(total);
  for (const s of slots) {
    const v = values.get(s.name);
    if (!v || v.length !== s.size) throw new Error(`${where}: parameter "${s.name}" is missing or has the wrong size`);
    out.set(v, s.offset);
  }
  return out;
}

/** Views of a packed array by parameter name (no copy). */
export function unpackValues(cfg: LevelConfig, packed: Float32Array): Map<string, Float32Array> {
  const { slots, total } = packedLayout(cfg);
  if (packed.length !== total) throw new Error(`unpackValues: ${packed.length} values, the level has ${total} parameters`);
  return new Map(slots.map((s) => [s.name, packed.subarray(s.offset, s.offset + s.size)]));
}

/** Read tensors by name (gradients, variables) into one packed array. */
export async function packTensors(cfg: LevelConfig, tensors: Map<string, tf.Tensor>, where: string): Promise<Float32Array> {
  const { slots, total } = packedLayout(cfg);
  const out = new Float32Array(total);
  for (const s of slots) {
    const t = tensors.get(s.name);
    if (!t || t.size !== s.size) throw new Error(`${where}: tensor "${s.name}" is missing or has the wrong size`);
    out.set((await t.data()), s.offset);
  }
  return out;
}
