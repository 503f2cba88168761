import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { flagSettings, resolveRunSettings } from './run-settings.js';

describe('run settings', () => {
  it('starts from the preset and lets later sources override', () => {
    const s = resolveRunSettings({ preset: 'paper', data: '/d', format: 'mvtec', epochs: 5, imageSize: [256, 640] });
    expect(s.model.backbone).toBe('tf_efficientnet_b6');
    expect(s.train).toEqual({ epochs: 5, batchSize: 4, lr: 1e-4, seed: 3407 });
    expect(s.model.imageSize).toEqual([256, 640]);
    expect(s.model.resize).toBe(256);
    expect(s.data).toMatchObject({ root: '/d', format: 'mvtec' });
  });

  it('derives hidden widths from out indices unless given', () => {
    expect(resolveRunSettings({ data: '/d', format: 'mvtec', outIndices: [1, 2, 3] }).model.hidden).toEqual([128, 256, 512]);
    expect(resolveRunSettings({ data: '/d', format: 'mvtec', outIndices: [1, 2], hidden: [64, 64] }).model.hidden).toEqual([64, 64]);
  });

  it('rejects inconsistent settings with the fix', () => {
    expect(() => resolveRunSettings({ data: '/d', format: 'mvtec', hidden: [256] })).toThrow(/--hidden has 1 widths but --out-indices has 2/);
    expect(() => resolveRunSettings({ data: '/d', format: 'mvtec', hidden: [100, 200] })).toThrow(/multiple of 8 heads/);
    expect(() => resolveRunSettings({ format: 'mvtec' })).toThrow(/needs --data/);
    expect(() => resolveRunSettings({ format: 'folder' })).toThrow(/--normal-dir/);
    expect(() => resolveRunSettings({})).toThrow(/no dataset given/);
    expect(() => resolveRunSettings({ preset: 'huge', data: '/d', format: 'mvtec' })).toThrow(/unknown preset/);
  });

  it('takes only the flags the user typed', () => {
    const cmd = new Command().exitOverride().option('--epochs <n>').option('--lr <x>', 'lr', '0.5').option('--data <root>');
    cmd.parse(['--epochs', '7', '--data', 'rel/dir'], { from: 'user' });
    const s = flagSettings(cmd, '/base');
    expect(s).toEqual({ epochs: 7, data: '/base/rel/dir' });
  });
});
