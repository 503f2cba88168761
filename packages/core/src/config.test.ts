import { describe, expect, it } from 'vitest';
import { presets, resolveLevels, specFromFeatureInfo } from './config.js';

describe('configuration', () => {
  it('resolves the paper preset for tf_efficientnet_b6 stages 2 and 3 at 256x256 (SPEC section 3)', () => {
    const spec = specFromFeatureInfo({ channels: [72, 200], reductions: [8, 16] }, 256);
    expect(spec.levels.map((l) => l.grid)).toEqual([
      [32, 32],
      [16, 16],
    ]);
    const levels = resolveLevels(spec, presets.paper);
    expect(levels.map((l) => [l.d, l.heads, l.layers, l.window, l.ffnHidden, l.alpha])).toEqual([
      [256, 8, 4, 7, 1024, 2],
      [512, 8, 4, 5, 2048, 2],
    ]);
  });

  it('the fast and demo presets scale the width with the stride: 128/256 and 32/64 at strides 8 and 16', () => {
    const spec = specFromFeatureInfo({ channels: [72, 200], reductions: [8, 16] }, 256);
    const fast = resolveLevels(spec, presets.fast);
    expect(fast.map((l) => [l.d, l.heads, l.layers, l.window])).toEqual([
      [128, 8, 2, 7],
      [256, 8, 2, 5],
    ]);
    expect(resolveLevels(spec, presets.demo).map((l) => [l.d, l.heads, l.layers])).toEqual([
      [32, 4, 1],
      [64, 4, 1],
    ]);
    expect(resolveLevels(spec, { ...presets.fast, d: 64 }).map((l) => l.d)).toEqual([64, 64]); // an explicit d wins
  });

  it('default windows fit small grids: a 64 px crop at strides 8 and 16 (8x8 and 4x4)', () => {
    const spec = specFromFeatureInfo({ channels: [24, 40], reductions: [8, 16] }, 64);
    expect(resolveLevels(spec, presets.demo).map((l) => l.window)).toEqual([5, 3]);
    expect(() => resolveLevels(spec, { ...presets.demo, window: 5 })).toThrow(
      /RLR level 1 window: window 5 covers the whole 4x4 grid .*at most 3 for this level/,
    );
    const tiny = specFromFeatureInfo({ channels: [8], reductions: [32] }, 32);
    expect(() => resolveLevels(tiny, presets.demo)).toThrow(/RLR level 0: a 1x1 feature grid has a single token/);
  });

  it('rounds grids up like SAME padding and accepts per-level values', () => {
    const spec = specFromFeatureInfo({ channels: [40], reductions: [16] }, [224, 330]);
    expect(spec.levels[0].grid).toEqual([14, 21]);
    const [l] = resolveLevels(spec, { d: [64], heads: [4], window: [3] });
    expect([l.d, l.heads, l.window]).toEqual([64, 4, 3]);
  });

  it('names the setting at fault', () => {
    const spec = { imageSize: [64, 64] as [number, number], levels: [{ grid: [8, 8] as [number, number], channels: 8 }] };
    expect(() => resolveLevels(spec, {})).toThrow(/no width "d" given/);
    expect(() => resolveLevels(spec, { d: 30 })).toThrow(/d=30 is not divisible by heads=8/);
    expect(() => resolveLevels(spec, { d: 32, heads: [4, 4] })).toThrow(/"heads" lists 2 values but the model has 1 levels/);
    expect(() => resolveLevels(spec, { d: 32, window: 6 })).toThrow(/window 6 must be a positive odd integer/);
  });

  it('resolves the attention variant per level; the default leaves the resolved level as before', () => {
    const spec = { imageSize: [64, 64] as [number, number], levels: [{ grid: [8, 8] as [number, number], channels: 8 }, { grid: [4, 4] as [number, number], channels: 8 }] };
    expect(resolveLevels(spec, { d: 32 }).map((l) => 'attention' in l)).toEqual([false, false]);
    expect(resolveLevels(spec, { d: 32, attention: 'mlka+lca' }).map((l) => 'attention' in l)).toEqual([false, false]);
    expect(resolveLevels(spec, { d: 32, attention: 'cross' }).map((l) => l.attention)).toEqual(['cross', 'cross']);
    expect(resolveLevels(spec, { d: 32, attention: ['lca', 'mlka+lca'] }).map((l) => l.attention)).toEqual(['lca', undefined]);
    expect(() => resolveLevels(spec, { d: 32, attention: ['lca'] })).toThrow(/"attention" lists 1 values but the model has 2 levels/);
    expect(() => resolveLevels(spec, { d: 32, jitterScale: -1 })).toThrow(/"jitterScale" must be a number ≥ 0/);
    expect(resolveLevels(spec, { d: 32, jitterScale: 0 })).toHaveLength(2);
  });
});
