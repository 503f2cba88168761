import { describe, expect, it } from 'vitest';
import { camelCase, flagName, parseImageSize, parseSetting } from './settings.js';
import { presets as modelPresets } from '@rlr/core';
import { PRESET_NAMES } from './preset-names.js';
import { demo, fast, getPreset, paper, PRESETS } from './presets.js';

describe('settings', () => {
  it('parses sizes as HxW', () => {
    expect(parseImageSize('256')).toEqual([256, 256]);
    expect(parseImageSize('256x640')).toEqual([256, 640]);
    expect(() => parseImageSize('256x')).toThrow();
  });

  it('converts key spellings', () => {
    expect(camelCase('normal_dir')).toBe('normalDir');
    expect(camelCase('batch-size')).toBe('batchSize');
    expect(flagName('outIndices')).toBe('--out-indices');
  });

  it('keeps URLs, hf ids and "random" as weight sources and resolves local paths', () => {
    expect(parseSetting('weights', 'hf://timm/x/model.safetensors', 'w', '/base')).toBe('hf://timm/x/model.safetensors');
    expect(parseSetting('weights', 'random', 'w', '/base')).toBe('random');
    expect(parseSetting('weights', 'w/b0.safetensors', 'w', '/base')).toBe('/base/w/b0.safetensors');
  });

  it('rejects negative or fractional integers', () => {
    expect(() => parseSetting('epochs', '-1', '--epochs', '/')).toThrow(/--epochs/);
    expect(() => parseSetting('layers', '1.5', '--layers', '/')).toThrow();
    expect(parseSetting('lr', '3e-4', '--lr', '/')).toBe(3e-4);
  });
});

describe('presets', () => {
  it('paper is SPEC section 3', () => {
    expect(paper.model).toMatchObject({ backbone: 'tf_efficientnet_b6', outIndices: [2, 3], imageSize: [256, 256], layers: 4, hidden: [256, 512], heads: 8, ffnRatio: 4, alpha: 2, jitterScale: 4 });
    // The released recipe: random reference, constant rate, and every training image (no validation split).
    expect(paper.train).toEqual({ epochs: 200, batchSize: 4, lr: 1e-4, seed: 3407, refInit: 'randn', lrSchedule: 'constant', warmupEpochs: 0, keep: 'last' });
    expect(paper.train.valFraction).toBeUndefined();
    expect(fast.train.valFraction).toBe(0.1);
  });

  it("take their model hyperparameters from @rlr/core's presets of the same name", () => {
    expect([...PRESET_NAMES].sort()).toEqual(Object.keys(modelPresets).sort());
    expect(Object.keys(PRESETS).sort()).toEqual(Object.keys(modelPresets).sort());
    for (const p of Object.values(PRESETS)) {
      const m = modelPresets[p.name];
      expect([p.model.heads, p.model.layers, p.model.ffnRatio, p.model.alpha, p.model.jitterScale, p.train.seed], p.name).toEqual([m.heads, m.layers, m.ffnRatio, m.alpha, m.jitterScale, m.seed]);
    }
    // Widths: d = dPerStride × stride at the backbone's levels 2 and 3 (strides 8 and 16).
    expect([paper.model.hidden, fast.model.hidden, demo.model.hidden]).toEqual([
      [256, 512],
      [128, 256],
      [32, 64],
    ]);
  });

  it('fast is cheaper than paper on every axis it changes', () => {
    expect(fast.model.layers).toBeLessThan(paper.model.layers);
    expect(fast.train.epochs).toBeLessThan(paper.train.epochs);
    expect(Math.max(...fast.model.hidden)).toBeLessThanOrEqual(Math.max(...paper.model.hidden));
  });

  it('getPreset returns a copy', () => {
    const p = getPreset('paper');
    p!.model.outIndices.push(9);
    expect(paper.model.outIndices).toEqual([2, 3]);
    expect(getPreset('nope')).toBeUndefined();
  });
});
