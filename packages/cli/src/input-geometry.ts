import { checkTiling, DataError, type ResizeMode } from '@rlr/data';
import { usageError } from './errors.js';
import type { ImageGeometry } from '@rlr/engine';
import type { Logger } from './log.js';
import type { ModelSettings, TileSettings } from './presets.js';
import { parseSetting } from './settings.js';

/** The flags that shape how images reach the model: `--resize-mode` and the tiling flags. */
export interface InputFlags {
  imageSize?: [number, number];
  resize?: number;
  resizeMode?: ResizeMode;
  tile?: [number, number];
  tileStride?: [number, number];
  tileScale?: number;
}

/**
 * The tiling of a run from its flags: the tile is the model input (so it sets `--image-size`),
 * the stride defaults to half the tile, the scale to 1 (native resolution).
 * @throws a usage error naming the flag for a bad or contradictory value
 */
export function tileSettings(f: InputFlags): TileSettings | undefined {
  if (f.tile === undefined) {
    if (f.tileStride !== undefined || f.tileScale !== undefined) throw usageError(`${f.tileStride !== undefined ? '--tile-stride' : '--tile-scale'} needs --tile`, 'add --tile <size> (e.g. --tile 256), or drop the option');
    return undefined;
  }
  if (f.imageSize !== undefined && (f.imageSize[0] !== f.tile[0] || f.imageSize[1] !== f.tile[1])) {
    throw usageError(`--tile ${f.tile.join('x')} and --image-size ${f.imageSize.join('x')} differ: with tiling the tile is the model input`, 'drop --image-size (the tile sets it), or make them equal');
  }
  if (f.resize !== undefined) throw usageError('--resize does not apply with --tile: tiles are cut from the image at --tile-scale', 'drop --resize; pass --tile-scale 0.5 (for example) to tile a downscaled image');
  if (f.resizeMode !== undefined) throw usageError('--resize-mode does not apply with --tile: tiles cover the whole image, nothing is cropped or padded', 'drop --resize-mode, or drop --tile');
  const stride = f.tileStride ?? [Math.max(1, Math.floor(f.tile[0] / 2)), Math.max(1, Math.floor(f.tile[1] / 2))];
  const scale = f.tileScale ?? 1;
  if (!(scale > 0)) throw usageError(`--tile-scale ${scale} must be positive`, 'use --tile-scale 1 (native resolution) or e.g. 0.5 (half size)');
  try {
    checkTiling({ tile: f.tile, stride });
  } catch (e) {
    if (e instanceof DataError) throw usageError(`${e.subject}: ${e.problem}`, e.fix);
    throw e;
  }
  return { size: [f.tile[0], f.tile[1]], stride, scale };
}

/** Applies `--resize-mode` and the tiling flags of `rlr train` to the model settings. */
export function applyInputFlags(model: ModelSettings, f: InputFlags): void {
  const tile = tileSettings(f);
  if (tile) {
    model.tile = tile;
    model.imageSize = [...tile.size];
    model.resize = Math.min(...tile.size);
  }
  if (f.resizeMode !== undefined) model.resizeMode = f.resizeMode;
}

/** The input geometry of a run's model settings (what training recorded). */
export function modelGeometry(m: ModelSettings): ImageGeometry {
  return { resize: m.resize, crop: m.imageSize, ...(m.resizeMode ? { mode: m.resizeMode } : {}), ...(m.tile ? { tile: m.tile } : {}) };
}

/** The `preprocessing` entry saved in the model's config.json: everything eval and predict need to feed images alike. */
export function preprocessingRecord(g: ImageGeometry): Record<string, unknown> {
  return { resize: g.resize, crop: g.crop, ...(g.tile ? { tile: g.tile } : { resizeMode: g.mode ?? 'crop' }) };
}

/** What `--resize-mode` / tiling a geometry uses, for logs and reports. */
export function describeInput(g: ImageGeometry): string {
  if (g.tile) return `tiles of ${g.tile.size.join('x')} px, stride ${g.tile.stride.join('x')}, at --tile-scale ${g.tile.scale}`;
  return `${g.mode ?? 'crop'} to ${g.crop.join('x')}${(g.mode ?? 'crop') === 'crop' ? ` after --resize ${g.resize}` : ''}`;
}

/**
 * The geometry `rlr eval` / `rlr predict` score with: the run's (recorded at training), changed by
 * `--resize-mode`, `--tile-stride`, `--tile-scale` or `--tile` given on the command line. A tile
 * must be the model's input size; `--tile` on a run trained without tiles scores its tiles with
 * the model as trained (logged, since the model saw whole resized images).
 */
export function scoringGeometry(run: ImageGeometry, opts: Record<string, unknown>, cwd: string, log: Logger): ImageGeometry {
  const parse = <T>(name: 'resizeMode' | 'tile' | 'tileStride' | 'tileScale', flag: string): T | undefined => (opts[name] === undefined ? undefined : (parseSetting(name, opts[name], flag, cwd) as T));
  const resizeMode = parse<ResizeMode>('resizeMode', '--resize-mode');
  const tile = parse<[number, number]>('tile', '--tile');
  const tileStride = parse<[number, number]>('tileStride', '--tile-stride');
  const tileScale = parse<number>('tileScale', '--tile-scale');
  if (resizeMode === undefined && tile === undefined && tileStride === undefined && tileScale === undefined) return run;
  if (tile !== undefined && (tile[0] !== run.crop[0] || tile[1] !== run.crop[1])) {
    throw usageError(`--tile ${tile.join('x')} is not the model's input size ${run.crop.join('x')}`, `pass --tile ${run.crop.join('x')} (each tile is one model input), or leave --tile out`);
  }
  const base = run.tile;
  if (!base && tile === undefined && (tileStride !== undefined || tileScale !== undefined)) {
    throw usageError(`${tileStride !== undefined ? '--tile-stride' : '--tile-scale'}: the run was trained without tiles`, `add --tile ${run.crop.join('x')} to score it on tiles, or drop the option`);
  }
  if (base || tile !== undefined) {
    if (resizeMode !== undefined) throw usageError('--resize-mode does not apply to a tiled scoring: tiles cover the whole image', 'drop --resize-mode');
    const t = tileSettings({ tile: run.crop, tileStride: tileStride ?? base?.stride, tileScale: tileScale ?? base?.scale });
    if (!base) log.info(`scoring a run trained on whole ${run.crop.join('x')} images on tiles (--tile): the model never saw image content at this scale`);
    return { ...run, tile: t, mode: undefined };
  }
  if (resizeMode !== (run.mode ?? 'crop')) log.info(`--resize-mode ${resizeMode}: the run was trained with --resize-mode ${run.mode ?? 'crop'}`);
  return { ...run, mode: resizeMode };
}
