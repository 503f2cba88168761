import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseConfigObject } from './config-file.js';
import { flagSettings, resolveRunSettings, rlrConfig } from './run-settings.js';

describe('run settings', () => {
  it('starts from the preset and lets later sources override', () => {
    const s = resolveRunSettings({ preset: 'paper', data: '/d', format: 'mvtec', epochs: 5, imageSize: [256, 640] });
    expect(s.model.backbone).toBe('tf_efficientnet_b6');
    // The paper's recipe (randn reference, constant rate, no warm-up, every training image).
    expect(s.train).toEqual({ epochs: 5, batchSize: 4, lr: 1e-4, seed: 3407, refInit: 'randn', lrSchedule: 'constant', warmupEpochs: 0, keep: 'last' });
    expect(s.train.valFraction).toBeUndefined();
    expect(resolveRunSettings({ preset: 'paper', data: '/d', format: 'mvtec', valFraction: 0.2 }).train.valFraction).toBe(0.2);
    expect(resolveRunSettings({ preset: 'fast', data: '/d', format: 'mvtec' }).train.valFraction).toBe(0.1);
    expect(s.model.imageSize).toEqual([256, 640]);
    expect(s.model.resize).toBe(256);
    expect(s.data).toMatchObject({ root: '/d', format: 'mvtec' });
  });

  it("derives hidden widths from the preset's rule (d = dPerStride × stride) unless given", () => {
    expect(resolveRunSettings({ data: '/d', format: 'mvtec', outIndices: [1, 2, 3] }).model.hidden).toEqual([128, 256, 512]);
    expect(resolveRunSettings({ data: '/d', format: 'mvtec', preset: 'fast', outIndices: [1, 2] }).model.hidden).toEqual([64, 128]);
    expect(resolveRunSettings({ data: '/d', format: 'mvtec', outIndices: [1, 2], hidden: [64, 64] }).model.hidden).toEqual([64, 64]);
    expect(() => resolveRunSettings({ data: '/d', format: 'mvtec', backbone: 'resnet50' })).toThrow(/unknown backbone "resnet50"/);
  });

  it('takes --window for all levels or per level, and checks it against the grids before anything runs', () => {
    const base = { data: '/d', format: 'mvtec' as const, preset: 'demo' };
    expect(resolveRunSettings({ ...base, window: [3] }).model.window).toEqual([3]);
    expect(rlrConfig(resolveRunSettings({ ...base, window: [7, 5] })).window).toEqual([7, 5]);
    expect(rlrConfig(resolveRunSettings({ ...base, window: [3] })).window).toBe(3);
    expect(rlrConfig(resolveRunSettings(base)).window).toBeUndefined();
    // 64 px at strides 8 and 16: grids 8x8 and 4x4; the default windows (5, 3) fit.
    expect(() => resolveRunSettings({ ...base, imageSize: [64, 64] })).not.toThrow();
    expect(() => resolveRunSettings({ ...base, imageSize: [64, 64], window: [5] })).toThrow(
      /do not fit the 8x8 and 4x4 feature grids of 64x64 images: RLR level 1 window: window 5 covers the whole 4x4 grid.*at most 3/,
    );
    expect(() => resolveRunSettings({ ...base, window: [4] })).toThrow(/--window 4 is not a positive odd number/);
    expect(() => resolveRunSettings({ ...base, window: [5, 5, 5] })).toThrow(/--window has 3 values but --out-indices has 2 levels/);
  });

  it('rejects inconsistent settings with the fix', () => {
    expect(() => resolveRunSettings({ data: '/d', format: 'mvtec', hidden: [256] })).toThrow(/--hidden has 1 widths but --out-indices has 2/);
    expect(() => resolveRunSettings({ data: '/d', format: 'mvtec', hidden: [100, 200] })).toThrow(/multiple of 8 heads/);
    expect(() => resolveRunSettings({ format: 'mvtec' })).toThrow(/needs --data/);
    expect(() => resolveRunSettings({ format: 'folder' })).toThrow(/--normal-dir/);
    expect(() => resolveRunSettings({})).toThrow(/no dataset given/);
    expect(() => resolveRunSettings({ preset: 'huge', data: '/d', format: 'mvtec' })).toThrow(/unknown preset/);
  });

  it('takes the recipe, validation and budget options and rejects bad values naming the flag', () => {
    const base = { data: '/d', format: 'mvtec' as const, preset: 'fast' };
    const s = resolveRunSettings({ ...base, refInit: 'mean', lrSchedule: 'cosine', warmupEpochs: 2, valFraction: 0.2, earlyStop: 3, keep: 'best-val', maxMinutes: 10, snapshotMinutes: ['5', '7.5'], thresholdQuantile: 0.95, sensitivity: 0.7 });
    expect(s.train).toMatchObject({ refInit: 'mean', lrSchedule: 'cosine', warmupEpochs: 2, valFraction: 0.2, earlyStop: 3, keep: 'best-val', maxMinutes: 10, snapshotMinutes: [5, 7.5], thresholdQuantile: 0.95, sensitivity: 0.7 });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ valFraction: 0 }, /--val-fraction 0 must be between 0 and 1/],
      [{ valFraction: 1 }, /--val-fraction 1 must be between 0 and 1/],
      [{ valFraction: 1.5 }, /--val-fraction/],
      [{ earlyStop: 0 }, /--early-stop 0: the patience must be at least 1/],
      [{ refInit: 'zeros' }, /--ref-init "zeros"/],
      [{ lrSchedule: 'step' }, /--lr-schedule "step"/],
      [{ warmupEpochs: -1 }, /--warmup-epochs -1/],
      [{ keep: 'first' }, /--keep "first"/],
      [{ maxMinutes: 0 }, /--max-minutes 0/],
      [{ snapshotMinutes: ['5', 'x'] }, /--snapshot-minutes/],
      [{ thresholdQuantile: 0 }, /--threshold-quantile 0 must be in \(0, 1\]/],
      [{ thresholdQuantile: 1.2 }, /--threshold-quantile 1.2/],
      [{ sensitivity: -0.1 }, /--sensitivity -0.1 must be in \[0, 1\]/],
    ];
    for (const [given, message] of bad) expect(() => resolveRunSettings({ ...base, ...given })).toThrow(message);
  });

  it('takes --attention, --alpha and --jitter-scale from flags and config files into the core config, naming the flag in errors', () => {
    const base = { data: '/d', format: 'mvtec' as const, preset: 'demo' };
    expect(rlrConfig(resolveRunSettings(base)).attention).toBeUndefined();
    const one = rlrConfig(resolveRunSettings({ ...base, attention: ['Cross'], alpha: 3, jitterScale: 0 }));
    expect(one).toMatchObject({ attention: 'cross', alpha: 3, jitterScale: 0 });
    expect(rlrConfig(resolveRunSettings({ ...base, attention: ['lca', 'residual-self'] })).attention).toEqual(['lca', 'residual-self']);
    // Three levels (the paper's Table 4 row 1, 2, 3).
    expect(resolveRunSettings({ ...base, outIndices: [1, 2, 3], attention: ['mlka+lca'] }).model.outIndices).toEqual([1, 2, 3]);
    const file = parseConfigObject({ model: { attention: 'cross+mlka', alpha: 1, jitter_scale: 2 }, data: '/d', format: 'mvtec' }, '/x/run.yaml');
    expect(rlrConfig(resolveRunSettings({ ...file, preset: 'demo' }))).toMatchObject({ attention: 'cross+mlka', alpha: 1, jitterScale: 2 });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ attention: ['mlka'] }, /--attention "mlka" is not one of mlka\+lca, cross\+mlka, lca, cross, residual-cross, residual-self/],
      [{ attention: ['lca', 'lca', 'lca'] }, /--attention has 3 variants but --out-indices has 2 levels/],
      [{ alpha: 0 }, /--alpha 0 must be positive/],
      [{ jitterScale: -1 }, /--jitter-scale -1 is negative/],
    ];
    for (const [given, message] of bad) expect(() => resolveRunSettings({ ...base, ...given })).toThrow(message);
    expect(() => parseConfigObject({ alpha: 'two' }, '/x/run.yaml')).toThrow(/alpha: "two" is not a number/);
  });

  it('takes only the flags the user typed', () => {
    const cmd = new Command().exitOverride().option('--epochs <n>').option('--lr <x>', 'lr', '0.5').option('--data <root>');
    cmd.parse(['--epochs', '7', '--data', 'rel/dir'], { from: 'user' });
    const s = flagSettings(cmd, '/base');
    expect(s).toEqual({ epochs: 7, data: '/base/rel/dir' });
  });
});
