import { describe, expect, it } from 'vitest';
import { modelGeometry, preprocessingRecord, scoringGeometry, tileSettings } from './input-geometry.js';
import { resolveRunSettings } from './run-settings.js';
import type { Logger } from './log.js';

const base = { format: 'folder' as const, normalDir: '/data/good' };
const log = (infos: string[]) => ({ info: (m: string) => void infos.push(m) }) as unknown as Logger;

describe('tiling settings', () => {
  it('--tile sets the model input; the stride defaults to half the tile, the scale to 1', () => {
    const s = resolveRunSettings({ ...base, preset: 'demo', tile: [128, 128] });
    expect(s.model.tile).toEqual({ size: [128, 128], stride: [64, 64], scale: 1 });
    expect(s.model.imageSize).toEqual([128, 128]);
    expect(preprocessingRecord(modelGeometry(s.model))).toEqual({ resize: 128, crop: [128, 128], tile: { size: [128, 128], stride: [64, 64], scale: 1 } });
  });

  it('records --resize-mode in the model settings and the saved preprocessing', () => {
    const s = resolveRunSettings({ ...base, preset: 'demo', resizeMode: 'fit' });
    expect(modelGeometry(s.model).mode).toBe('fit');
    expect(preprocessingRecord(modelGeometry(s.model))).toMatchObject({ resizeMode: 'fit' });
    expect(preprocessingRecord(modelGeometry(resolveRunSettings({ ...base, preset: 'demo' }).model))).toMatchObject({ resizeMode: 'crop' });
  });

  it('names the flag at fault', () => {
    expect(() => tileSettings({ tileStride: [16, 16] })).toThrow(/--tile-stride needs --tile/);
    expect(() => tileSettings({ tileScale: 0.5 })).toThrow(/--tile-scale needs --tile/);
    expect(() => tileSettings({ tile: [64, 64], tileStride: [80, 80] })).toThrow(/--tile-stride: the stride height 80 is larger than the tile height 64/);
    expect(() => tileSettings({ tile: [64, 64], imageSize: [128, 128] })).toThrow(/--tile 64x64 and --image-size 128x128 differ/);
    expect(() => tileSettings({ tile: [64, 64], resizeMode: 'fit' })).toThrow(/--resize-mode does not apply with --tile/);
    expect(() => tileSettings({ tile: [64, 64], tileScale: 0 })).toThrow(/--tile-scale 0 must be positive/);
    expect(() => resolveRunSettings({ ...base, preset: 'demo', tile: [64, 64], resize: 300 })).toThrow(/--resize does not apply with --tile/);
  });
});

describe('scoringGeometry (eval / predict flags over the run)', () => {
  const run = { resize: 64, crop: [64, 64] as [number, number] };
  const tiled = { ...run, tile: { size: [64, 64] as [number, number], stride: [32, 32] as [number, number], scale: 1 } };

  it("keeps the run's geometry without flags and applies overrides", () => {
    const infos: string[] = [];
    expect(scoringGeometry(tiled, {}, '/', log(infos))).toBe(tiled);
    expect(scoringGeometry(tiled, { tileStride: '16', tileScale: '0.5' }, '/', log(infos)).tile).toEqual({ size: [64, 64], stride: [16, 16], scale: 0.5 });
    expect(scoringGeometry(run, { resizeMode: 'fit' }, '/', log(infos)).mode).toBe('fit');
    expect(infos).toEqual(['--resize-mode fit: the run was trained with --resize-mode crop']);
  });

  it('tiles an untiled run only at its input size, and says so', () => {
    const infos: string[] = [];
    expect(scoringGeometry(run, { tile: '64' }, '/', log(infos)).tile).toEqual({ size: [64, 64], stride: [32, 32], scale: 1 });
    expect(infos[0]).toMatch(/trained on whole 64x64 images on tiles/);
    expect(() => scoringGeometry(run, { tile: '128' }, '/', log([]))).toThrow(/--tile 128x128 is not the model's input size 64x64/);
    expect(() => scoringGeometry(run, { tileStride: '16' }, '/', log([]))).toThrow(/--tile-stride: the run was trained without tiles/);
    expect(() => scoringGeometry(tiled, { resizeMode: 'crop' }, '/', log([]))).toThrow(/--resize-mode does not apply/);
    expect(() => scoringGeometry(run, { resizeMode: 'pad' }, '/', log([]))).toThrow(/--resize-mode: "pad" is not a resize mode/);
  });
});
