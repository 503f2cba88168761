/**
 * Test-only loader of the shared RLR fixture (`fixtures/rlr/`, SPEC section 4): two small levels
 * with PyTorch-computed parameters, inputs, reconstructions, loss, gradients and scores.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseSafetensors, type NamedTensor } from '../src/safetensors.js';
import type { RLRConfig, RLRSpec } from '../src/config.js';
import type { OfficialTensor } from '../src/level-params.js';

export interface FixtureLevel {
  c_in: number;
  h: number;
  w: number;
  d: number;
  heads: number;
  layers: number;
  window: number;
  alpha: number;
}

export interface RlrFixture {
  manifest: {
    levels: FixtureLevel[];
    batch: number;
    image_size: number;
    jitter_scale: number;
    losses: number[];
    adam: { lr: number; beta1: number; beta2: number; epsilon: number };
  };
  spec: RLRSpec;
  config: Partial<RLRConfig>;
  /** Official tensors per level, names without the `level{i}.` prefix. */
  params: Map<string, OfficialTensor>[];
  grads: Map<string, OfficialTensor>[];
  paramsAfterAdam: Map<string, OfficialTensor>[];
  tensors: Map<string, NamedTensor>;
  /** Raw bytes of params.safetensors (for checkpoint import). */
  paramsBytes: Uint8Array;
}

function byLevel(file: Map<string, NamedTensor>, levels: number): Map<string, OfficialTensor>[] {
  const out = Array.from({ length: levels }, () => new Map<string, OfficialTensor>());
  for (const [name, t] of file) {
    const m = /^level(\d+)\.(.*)$/.exec(name);
    if (!m) continue;
    out[Number(m[1])].set(m[2], { shape: t.shape, data: t.data as Float32Array });
  }
  return out;
}

export function loadRlrFixture(manifestPath: string): RlrFixture {
  const dir = dirname(manifestPath);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RlrFixture['manifest'];
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  const paramsBytes = read('params.safetensors');
  const n = manifest.levels.length;
  const spec: RLRSpec = {
    imageSize: [manifest.image_size, manifest.image_size],
    levels: manifest.levels.map((l) => ({ grid: [l.h, l.w] as [number, number], channels: l.c_in })),
  };
  const config: Partial<RLRConfig> = {
    d: manifest.levels.map((l) => l.d),
    heads: manifest.levels.map((l) => l.heads),
    layers: manifest.levels.map((l) => l.layers),
    window: manifest.levels.map((l) => l.window),
    alpha: manifest.levels.map((l) => l.alpha),
    jitterScale: manifest.jitter_scale,
  };
  return {
    manifest,
    spec,
    config,
    params: byLevel(parseSafetensors(paramsBytes).tensors, n),
    grads: byLevel(parseSafetensors(read('grads.safetensors')).tensors, n),
    paramsAfterAdam: byLevel(parseSafetensors(read('params_after_adam_step.safetensors')).tensors, n),
    tensors: parseSafetensors(read('tensors.safetensors')).tensors,
    paramsBytes,
  };
}

/** max |a − b| and max |b| over all elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}
