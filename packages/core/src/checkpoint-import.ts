import { presets, resolveLevels, type RLRConfig, type RLRSpec } from './config.js';
import { fromOfficial, levelParamsFromValues, type OfficialTensor } from './level-params.js';
import { officialTensorsByLevel } from './model-io.js';
import { modelFromParams, type RLRModel } from './rlr-model.js';
import { parseSafetensors } from './safetensors.js';

/**
 * Import the authors' released PyTorch weights. The official `.pth` files are pickles: convert
 * them once in Python to safetensors with one prefix per level, e.g.
 *
 *   sd = torch.load('best-img.pth', map_location='cpu')['state_dict']   # a list, one per level
 *   save_file({f'level{i}.{k}': v.contiguous() for i, s in enumerate(sd) for k, v in s.items()}, 'rlr.safetensors')
 *
 * Tensor names follow SPEC section 3 (`embedding.project_embedding.project.weight`, `ref_mca`,
 * `encoder.encode_layers.{k}.{mca,nsa}.in_proj_weight`, …). Sizes (C, d, N, layers, FFN width)
 * are read from the tensors; what the tensors cannot tell comes from the options.
 */
export interface ImportOptions {
  /** Crop size the checkpoint was trained at; default 256 (the released models). */
  imageSize?: [number, number] | number;
  /** Grid [h, w] per level; default square √N from the reference's token count. */
  grids?: [number, number][];
  /** Attention heads; default 8 (released). */
  heads?: number | number[];
  /** Window per level; default by grid side (16 → 5, 32 → 7, 64 → 11). */
  window?: number | number[];
  /** α; default 2. */
  alpha?: number | number[];
  /** Extra config values (jitterScale, seed) for further training. */
  config?: Partial<RLRConfig>;
}

/**
 * Build an {@link RLRModel} from official weights in safetensors form.
 * @param bytes the safetensors file (prefixes `level0.`, `level1.`, …; no prefix = one level)
 */
export function importOfficialCheckpoint(bytes: Uint8Array, options: ImportOptions = {}, source = 'official checkpoint'): RLRModel {
  const file = parseSafetensors(bytes, source);
  const all = new Map<string, OfficialTensor>();
  for (const [name, t] of file.tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${source}: tensor "${name}" is ${t.dtype}, expected a float type`);
    all.set(name, { shape: t.shape, data: t.data });
  }
  const byLevel = officialTensorsByLevel(all);
  if (!byLevel.length) throw new Error(`${source}: holds no tensors`);
  const imageSize: [number, number] =
    typeof options.imageSize === 'number' ? [options.imageSize, options.imageSize] : options.imageSize ?? [256, 256];
  const shape = (lv: Map<string, OfficialTensor>, i: number, name: string) => {
    const t = lv.get(name);
    if (!t) throw new Error(`${source}: tensor "level${i}.${name}" is missing; is this an RLR checkpoint with level<i>. prefixes?`);
    return t.shape;
  };
  const d: number[] = [];
  const layers: number[] = [];
  let ffnRatio = 4;
  const levels = byLevel.map((lv, i) => {
    const [C, dModel] = shape(lv, i, 'projection.weight');
    const [, n, c2] = shape(lv, i, 'ref_mca');
    if (c2 !== C) throw new Error(`${source}: level${i}.ref_mca has ${c2} channels but the projection outputs ${C}`);
    let L = 0;
    while (lv.has(`encoder.encode_layers.${L}.norm1.weight`)) L++;
    if (!L) throw new Error(`${source}: level${i} has no encoder layers (encoder.encode_layers.0.* missing)`);
    const [F] = shape(lv, i, 'encoder.encode_layers.0.ffn.fc1.weight');
    ffnRatio = F / dModel;
    d.push(dModel);
    layers.push(L);
    let grid = options.grids?.[i];
    if (!grid) {
      const side = Math.round(Math.sqrt(n));
      if (side * side !== n) throw new Error(`${source}: level${i} has ${n} reference tokens, not a square grid; pass options.grids`);
      grid = [side, side];
    }
    if (grid[0] * grid[1] !== n) throw new Error(`${source}: level${i} grid ${grid[0]}x${grid[1]} does not hold its ${n} reference tokens`);
    return { grid, channels: C, reduction: imageSize[0] / grid[0] };
  });
  const spec: RLRSpec = { imageSize, levels };
  const config: RLRConfig = {
    ...presets.paper,
    ...options.config,
    d,
    layers,
    ffnRatio,
    heads: options.heads ?? 8,
    alpha: options.alpha ?? 2,
    ...(options.window !== undefined ? { window: options.window } : {}),
  };
  const resolved = resolveLevels(spec, config);
  const params = byLevel.map((lv, i) =>
    levelParamsFromValues(resolved[i], fromOfficial(resolved[i], lv, `${source} level${i}`), `${source} level${i}`),
  );
  const model = modelFromParams(spec, config, params);
  model.metadata = { importedFrom: source };
  return model;
}
