import * as tf from '@tensorflow/tfjs-core';
import { variantParts, type AttentionModule } from './attention-variants.js';
import type { LevelConfig } from './config.js';
import { Rng, deriveSeed } from './rng.js';

/**
 * Parameters of one RLR level. Internally every linear map is stored as `[in, out]` (the
 * transpose of PyTorch's `[out, in]`) so the forward products are untransposed 2-D matMuls, the
 * fast case on wasm (SPEC section 5). The official names and layouts exist only at the borders:
 * checkpoint import, `weights.safetensors`, and the parity tests.
 *
 * Internal names (L layers, k = 0 .. L-1):
 *   embed.w [C, d], embed.b [d]           input Embedding2D projection
 *   ref [N, C]                            the learnable reference R
 *   refEmbed.w [C, d], refEmbed.b [d]     reference Embedding2D projection
 *   layers.k.{lca,mlka}.{wq,wk,wv,wo} [d, d], .{bq,bk,bv,bo} [d]
 *   layers.k.{norm1,norm2}.{g,b} [d]
 *   layers.k.fc1.w [d, F], .b [F]; layers.k.fc2.w [F, d], .b [d]
 *   norm.{g,b} [d]; proj.w [d, C], proj.b [C]
 * The attention variants (`attention-variants.ts`) hold only the modules they use: `lca` alone
 * (lca, cross, residual-cross), `sa` alone with no `ref`/`refEmbed` (residual-self), or `lca` and
 * `mlka` (the default and cross+mlka).
 */
export type LevelParams = Map<string, tf.Variable>;

/** A parameter's name, internal shape and PyTorch-default initialiser. */
export interface ParamDef {
  name: string;
  shape: number[];
  init: (rng: Rng) => Float32Array;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const zeros = (shape: number[]) => () => new Float32Array(size(shape));
const ones = (shape: number[]) => () => new Float32Array(size(shape)).fill(1);
const uniform = (shape: number[], bound: number) => (rng: Rng) => rng.fillUniform(new Float32Array(size(shape)), -bound, bound);
const normal = (shape: number[], std: number) => (rng: Rng) => rng.fillNormal(new Float32Array(size(shape)), 0, std);

/** Parameter list of a level, in a fixed order (the order of initialisation draws). */
export function levelParamDefs(cfg: LevelConfig): ParamDef[] {
  const { d, channels: C, ffnHidden: F } = cfg;
  const N = cfg.grid[0] * cfg.grid[1];
  const parts = variantParts(cfg.attention);
  const defs: ParamDef[] = [
    // Conv1d(C, d, 1): Kaiming normal (fan_in = C, gain √2); bias PyTorch default U(±1/√fan_in).
    { name: 'embed.w', shape: [C, d], init: normal([C, d], Math.sqrt(2 / C)) },
    { name: 'embed.b', shape: [d], init: uniform([d], 1 / Math.sqrt(C)) },
  ];
  if (parts.usesReference) {
    defs.push(
      { name: 'ref', shape: [N, C], init: normal([N, C], 1) },
      { name: 'refEmbed.w', shape: [C, d], init: normal([C, d], Math.sqrt(2 / C)) },
      { name: 'refEmbed.b', shape: [d], init: uniform([d], 1 / Math.sqrt(C)) },
    );
  }
  // nn.MultiheadAttention: in_proj xavier_uniform over [3d, d], in/out biases 0, out_proj
  // Linear default U(±1/√d).
  const xavier = Math.sqrt(6 / (d + 3 * d));
  for (let k = 0; k < cfg.layers; k++) {
    const p = `layers.${k}`;
    for (const m of parts.modules) {
      for (const x of ['q', 'k', 'v']) defs.push({ name: `${p}.${m}.w${x}`, shape: [d, d], init: uniform([d, d], xavier) });
      for (const x of ['q', 'k', 'v']) defs.push({ name: `${p}.${m}.b${x}`, shape: [d], init: zeros([d]) });
      defs.push({ name: `${p}.${m}.wo`, shape: [d, d], init: uniform([d, d], 1 / Math.sqrt(d)) });
      defs.push({ name: `${p}.${m}.bo`, shape: [d], init: zeros([d]) });
    }
    for (const nm of ['norm1', 'norm2']) {
      defs.push({ name: `${p}.${nm}.g`, shape: [d], init: ones([d]) });
      defs.push({ name: `${p}.${nm}.b`, shape: [d], init: zeros([d]) });
    }
    defs.push({ name: `${p}.fc1.w`, shape: [d, F], init: uniform([d, F], 1 / Math.sqrt(d)) });
    defs.push({ name: `${p}.fc1.b`, shape: [F], init: uniform([F], 1 / Math.sqrt(d)) });
    defs.push({ name: `${p}.fc2.w`, shape: [F, d], init: uniform([F, d], 1 / Math.sqrt(F)) });
    defs.push({ name: `${p}.fc2.b`, shape: [d], init: uniform([d], 1 / Math.sqrt(F)) });
  }
  defs.push({ name: 'norm.g', shape: [d], init: ones([d]) });
  defs.push({ name: 'norm.b', shape: [d], init: zeros([d]) });
  defs.push({ name: 'proj.w', shape: [d, C], init: uniform([d, C], 1 / Math.sqrt(d)) });
  defs.push({ name: 'proj.b', shape: [C], init: uniform([C], 1 / Math.sqrt(d)) });
  return defs;
}

/** Fresh parameters for level `level`, drawn from a generator seeded by (seed, level). */
export function initLevelParams(cfg: LevelConfig, seed: number, level: number): LevelParams {
  const rng = new Rng(deriveSeed(seed, 0x1a17, level));
  const params: LevelParams = new Map();
  for (const def of levelParamDefs(cfg)) {
    // tidy: the variable shares the initial tensor's data; the initial tensor itself is released.
    params.set(def.name, tf.tidy(() => tf.variable(tf.tensor(def.init(rng), def.shape), true, undefined, 'float32')));
  }
  return params;
}

/** Create variables from host values (internal names and layouts); checks names and shapes. */
export function levelParamsFromValues(cfg: LevelConfig, values: Map<string, Float32Array>, where: string): LevelParams {
  const params: LevelParams = new Map();
  for (const def of levelParamDefs(cfg)) {
    const v = values.get(def.name);
    if (!v) throw new Error(`${where}: missing parameter "${def.name}"`);
    if (v.length !== size(def.shape)) {
      throw new Error(`${where}: parameter "${def.name}" has ${v.length} values, expected shape [${def.shape}]`);
    }
    params.set(def.name, tf.tidy(() => tf.variable(tf.tensor(v, def.shape), true, undefined, 'float32')));
  }
  return params;
}

/** Official (PyTorch) names of the attention modules: `mca` is LCA, `nsa` is MLKA. */
const OFFICIAL_MODULE: Record<AttentionModule, string> = { lca: 'mca', mlka: 'nsa', sa: 'self_attn' };

/** The attention modules of `cfg` with their official names. */
function officialModules(cfg: LevelConfig): [AttentionModule, string][] {
  return variantParts(cfg.attention).modules.map((m) => [m, OFFICIAL_MODULE[m]]);
}

/** Transpose a row-major [rows, cols] matrix. */
export function transpose2D(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A tensor in the official checkpoint layout. */
export interface OfficialTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Convert internal values to the official names (without level prefix) and PyTorch layouts
 * (SPEC section 3: `mca` is LCA, `nsa` is MLKA, `self_attn` the self-attention of the
 * `residual-self` variant; Linear [out, in]; Conv1d [out, in, 1];
 * `in_proj_weight` = [Wq; Wk; Wv]; `ref_mca` [1, N, C]).
 */
export function toOfficial(cfg: LevelConfig, values: Map<string, Float32Array>): Map<string, OfficialTensor> {
  const { d, channels: C, ffnHidden: F } = cfg;
  const N = cfg.grid[0] * cfg.grid[1];
  const get = (n: string) => {
    const v = values.get(n);
    if (!v) throw new Error(`toOfficial: missing parameter "${n}"`);
    return v;
  };
  const out = new Map<string, OfficialTensor>();
  const emb = (prefix: string, name: string) => {
    out.set(`${prefix}.project_embedding.project.weight`, { shape: [d, C, 1], data: transpose2D(get(`${name}.w`), C, d) });
    out.set(`${prefix}.project_embedding.project.bias`, { shape: [d], data: get(`${name}.b`).slice() });
  };
  emb('embedding', 'embed');
  if (variantParts(cfg.attention).usesReference) {
    out.set('ref_mca', { shape: [1, N, C], data: get('ref').slice() });
    emb('ref_mca_embedding', 'refEmbed');
  }
  for (let k = 0; k < cfg.layers; k++) {
    const p = `layers.${k}`;
    const o = `encoder.encode_layers.${k}`;
    for (const [m, om] of officialModules(cfg)) {
      const w = new Float32Array(3 * d * d);
      const b = new Float32Array(3 * d);
      ['q', 'k', 'v'].forEach((x, j) => {
        w.set(transpose2D(get(`${p}.${m}.w${x}`), d, d), j * d * d);
        b.set(get(`${p}.${m}.b${x}`), j * d);
      });
      out.set(`${o}.${om}.in_proj_weight`, { shape: [3 * d, d], data: w });
      out.set(`${o}.${om}.in_proj_bias`, { shape: [3 * d], data: b });
      out.set(`${o}.${om}.out_proj.weight`, { shape: [d, d], data: transpose2D(get(`${p}.${m}.wo`), d, d) });
      out.set(`${o}.${om}.out_proj.bias`, { shape: [d], data: get(`${p}.${m}.bo`).slice() });
    }
    for (const nm of ['norm1', 'norm2']) {
      out.set(`${o}.${nm}.weight`, { shape: [d], data: get(`${p}.${nm}.g`).slice() });
      out.set(`${o}.${nm}.bias`, { shape: [d], data: get(`${p}.${nm}.b`).slice() });
    }
    out.set(`${o}.ffn.fc1.weight`, { shape: [F, d], data: transpose2D(get(`${p}.fc1.w`), d, F) });
    out.set(`${o}.ffn.fc1.bias`, { shape: [F], data: get(`${p}.fc1.b`).slice() });
    out.set(`${o}.ffn.fc2.weight`, { shape: [d, F], data: transpose2D(get(`${p}.fc2.w`), F, d) });
    out.set(`${o}.ffn.fc2.bias`, { shape: [d], data: get(`${p}.fc2.b`).slice() });
  }
  out.set('encoder.norm.weight', { shape: [d], data: get('norm.g').slice() });
  out.set('encoder.norm.bias', { shape: [d], data: get('norm.b').slice() });
  out.set('projection.weight', { shape: [C, d], data: transpose2D(get('proj.w'), d, C) });
  out.set('projection.bias', { shape: [C], data: get('proj.b').slice() });
  return out;
}

/**
 * Convert official tensors (names without level prefix) to internal values. Every expected
 * tensor must be present with its official shape; `where` names the source in errors, and
 * `namePrefix` (e.g. `level1.`) is put before tensor names there.
 */
export function fromOfficial(cfg: LevelConfig, tensors: Map<string, OfficialTensor>, where: string, namePrefix = ''): Map<string, Float32Array> {
  const { d, channels: C, ffnHidden: F } = cfg;
  const N = cfg.grid[0] * cfg.grid[1];
  const get = (name: string, shape: number[]) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${where}: tensor "${namePrefix}${name}" is missing (expected shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new Error(`${where}: tensor "${namePrefix}${name}" has shape [${t.shape}], expected [${shape}] for this level's configuration`);
    }
    return t.data;
  };
  const out = new Map<string, Float32Array>();
  const emb = (prefix: string, name: string) => {
    out.set(`${name}.w`, transpose2D(get(`${prefix}.project_embedding.project.weight`, [d, C, 1]), d, C));
    out.set(`${name}.b`, get(`${prefix}.project_embedding.project.bias`, [d]).slice());
  };
  emb('embedding', 'embed');
  if (variantParts(cfg.attention).usesReference) {
    out.set('ref', get('ref_mca', [1, N, C]).slice());
    emb('ref_mca_embedding', 'refEmbed');
  }
  for (let k = 0; k < cfg.layers; k++) {
    const p = `layers.${k}`;
    const o = `encoder.encode_layers.${k}`;
    for (const [m, om] of officialModules(cfg)) {
      const w = get(`${o}.${om}.in_proj_weight`, [3 * d, d]);
      const b = get(`${o}.${om}.in_proj_bias`, [3 * d]);
      ['q', 'k', 'v'].forEach((x, j) => {
        out.set(`${p}.${m}.w${x}`, transpose2D(w.subarray(j * d * d, (j + 1) * d * d), d, d));
        out.set(`${p}.${m}.b${x}`, b.slice(j * d, (j + 1) * d));
      });
      out.set(`${p}.${m}.wo`, transpose2D(get(`${o}.${om}.out_proj.weight`, [d, d]), d, d));
      out.set(`${p}.${m}.bo`, get(`${o}.${om}.out_proj.bias`, [d]).slice());
    }
    for (const nm of ['norm1', 'norm2']) {
      out.set(`${p}.${nm}.g`, get(`${o}.${nm}.weight`, [d]).slice());
      out.set(`${p}.${nm}.b`, get(`${o}.${nm}.bias`, [d]).slice());
    }
    out.set(`${p}.fc1.w`, transpose2D(get(`${o}.ffn.fc1.weight`, [F, d]), F, d));
    out.set(`${p}.fc1.b`, get(`${o}.ffn.fc1.bias`, [F]).slice());
    out.set(`${p}.fc2.w`, transpose2D(get(`${o}.ffn.fc2.weight`, [d, F]), d, F));
    out.set(`${p}.fc2.b`, get(`${o}.ffn.fc2.bias`, [d]).slice());
  }
  out.set('norm.g', get('encoder.norm.weight', [d]).slice());
  out.set('norm.b', get('encoder.norm.bias', [d]).slice());
  out.set('proj.w', transpose2D(get('projection.weight', [C, d]), C, d));
  out.set('proj.b', get('projection.bias', [C]).slice());
  return out;
}

/** Read all parameter values to the host (internal names and layouts). */
export async function readLevelValues(params: LevelParams): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) out.set(name, (await v.data()) as Float32Array);
  return out;
}
