import { presets, resolveLevels, type RLRConfig, type RLRSpec } from './config.js';
import { fromOfficial, levelParamsFromValues, toOfficial, type OfficialTensor } from './level-params.js';
import { officialTensorsByLevel } from './model-io.js';
import { modelFromParams, type RLRModel } from './rlr-model.js';
import { parseSafetensors } from './safetensors.js';
import { isTorchZip, readTorchCheckpoint } from './torch-checkpoint.js';

/**
 * Import the authors' released PyTorch weights, either the `.pth` file itself (read by the
 * restricted, tensor-only reader of `torch-checkpoint.ts`: no code in the pickle is ever run) or
 * a safetensors conversion with one prefix per level, e.g.
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
  /**
   * What the model must fit: the backbone's levels at the crop size (e.g. `specFromFeatureInfo`).
   * With it, the number of levels, every level's channels and grid are checked against the
   * backbone, and errors name the tensor with the shape the backbone needs; `imageSize` and
   * `grids` are taken from it.
   */
  spec?: RLRSpec;
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
  /** Accept tensors that are not RLR parameters (default: they are an error, naming them). */
  ignoreUnknown?: boolean;
}

/**
 * Build an {@link RLRModel} from official weights: a safetensors file (prefixes `level0.`,
 * `level1.`, …; no prefix = one level) or a `torch.save` zip archive (`.pth`).
 */
export function importOfficialCheckpoint(bytes: Uint8Array, options: ImportOptions = {}, source = 'official checkpoint'): RLRModel {
  if (isTorchZip(bytes)) return importOfficialTensors(readTorchCheckpoint(bytes, source), options, source);
  const file = parseSafetensors(bytes, source);
  const all = new Map<string, OfficialTensor>();
  for (const [name, t] of file.tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${source}: tensor "${name}" is ${t.dtype}, expected a float type`);
    all.set(name, { shape: t.shape, data: t.data });
  }
  return importOfficialTensors(all, options, source);
}

/**
 * Build an {@link RLRModel} from official tensors named `level<i>.<official name>` (no prefix =
 * one level). Errors name the tensor and the shape expected.
 */
export function importOfficialTensors(all: Map<string, OfficialTensor>, options: ImportOptions = {}, source = 'official checkpoint'): RLRModel {
  const byLevel = officialTensorsByLevel(all);
  if (!byLevel.length) throw new Error(`${source}: holds no tensors`);
  const target = options.spec;
  const imageSize: [number, number] = target
    ? target.imageSize
    : typeof options.imageSize === 'number'
      ? [options.imageSize, options.imageSize]
      : options.imageSize ?? [256, 256];
  if (target) {
    const want = target.levels.length;
    const missing = target.levels.findIndex((_, i) => !byLevel[i]?.size);
    if (missing >= 0) {
      const lv = target.levels[missing];
      throw new Error(
        `${source}: level ${missing} is missing (no "level${missing}.*" tensors; expected e.g. "level${missing}.projection.weight" [${lv.channels}, d] and "level${missing}.ref_mca" [1, ${lv.grid[0] * lv.grid[1]}, ${lv.channels}]): the backbone levels chosen give ${want} levels, the file has ${byLevel.filter((l) => l.size).length}`,
      );
    }
    if (byLevel.length > want) {
      throw new Error(`${source}: holds ${byLevel.length} levels (level0 … level${byLevel.length - 1}) but the backbone levels chosen give ${want}; choose the out indices the checkpoint was trained with`);
    }
  }
  const shape = (lv: Map<string, OfficialTensor>, i: number, name: string, expected: string) => {
    const t = lv.get(name);
    if (!t) throw new Error(`${source}: tensor "level${i}.${name}" is missing (expected shape ${expected}); is this an RLR checkpoint with level<i>. prefixes?`);
    return t.shape;
  };
  const d: number[] = [];
  const layers: number[] = [];
  let ffnRatio = 4;
  const levels = byLevel.map((lv, i) => {
    const want = target?.levels[i];
    const wantC = want ? String(want.channels) : 'C';
    const proj = shape(lv, i, 'projection.weight', `[${wantC}, d]`);
    if (proj.length !== 2) throw new Error(`${source}: tensor "level${i}.projection.weight" has shape [${proj}], expected [${wantC}, d]`);
    const [C, dModel] = proj;
    if (want && C !== want.channels) {
      throw new Error(`${source}: tensor "level${i}.projection.weight" has shape [${proj}], expected [${want.channels}, ${dModel}]: backbone level ${i} has ${want.channels} channels; choose the backbone and out indices the checkpoint was trained with`);
    }
    const refShape = shape(lv, i, 'ref_mca', want ? `[1, ${want.grid[0] * want.grid[1]}, ${C}]` : `[1, N, ${C}]`);
    const [, n, c2] = refShape;
    if (refShape.length !== 3 || c2 !== C) throw new Error(`${source}: tensor "level${i}.ref_mca" has shape [${refShape}], expected [1, N, ${C}] (the projection outputs ${C} channels)`);
    let L = 0;
    while (lv.has(`encoder.encode_layers.${L}.norm1.weight`)) L++;
    if (!L) throw new Error(`${source}: level${i} has no encoder layers (tensor "level${i}.encoder.encode_layers.0.norm1.weight" [${dModel}] is missing)`);
    const [F] = shape(lv, i, 'encoder.encode_layers.0.ffn.fc1.weight', `[F, ${dModel}]`);
    ffnRatio = F / dModel;
    d.push(dModel);
    layers.push(L);
    let grid = want?.grid ?? options.grids?.[i];
    if (!grid) {
      const side = Math.round(Math.sqrt(n));
      if (side * side !== n) throw new Error(`${source}: level${i} has ${n} reference tokens, not a square grid; pass options.grids`);
      grid = [side, side];
    }
    if (grid[0] * grid[1] !== n) {
      throw new Error(`${source}: tensor "level${i}.ref_mca" has shape [${refShape}], expected [1, ${grid[0] * grid[1]}, ${C}] for the ${grid[0]}x${grid[1]} grid of this level${want ? ` at ${imageSize.join('x')}` : ''}; check the image size the checkpoint was trained at`);
    }
    return { grid, channels: C, reduction: want?.reduction ?? imageSize[0] / grid[0] };
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
  const params = byLevel.map((lv, i) => {
    const values = fromOfficial(resolved[i], lv, source, `level${i}.`);
    if (!options.ignoreUnknown) {
      const known = new Set(toOfficial(resolved[i], values).keys());
      const extra = [...lv.keys()].filter((k) => !known.has(k));
      if (extra.length) {
        const list = extra.slice(0, 3).map((k) => `"level${i}.${k}" [${lv.get(k)!.shape}]`).join(', ');
        throw new Error(`${source}: ${extra.length} tensor(s) are not parameters of an RLR level with ${layers[i]} layers: ${list}${extra.length > 3 ? ', …' : ''}`);
      }
    }
    return levelParamsFromValues(resolved[i], values, `${source} level${i}`);
  });
  const model = modelFromParams(spec, config, params);
  model.metadata = { importedFrom: source };
  return model;
}
