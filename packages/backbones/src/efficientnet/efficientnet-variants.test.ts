import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { requireShared } from '@rlr/testing';
import { efficientNetParamShapes } from './efficientnet-params.js';
import { efficientNetArchitecture, EFFICIENTNET_NAMES, makeDivisible, scaleDepth } from './efficientnet-variants.js';
import { efficientNetFeatureInfo } from './efficientnet.js';

describe('timm scaling rules', () => {
  it('make_divisible rounds to a multiple of 8 and never loses more than 10%', () => {
    expect(makeDivisible(32 * 1.8)).toBe(56); // B6 stem
    expect(makeDivisible(112 * 1.8)).toBe(200);
    expect(makeDivisible(24 * 1.8)).toBe(40); // 43.2 → 40 (within 10%)
    expect(makeDivisible(3)).toBe(8); // at least one divisor
    expect(makeDivisible(20 * 1.1)).toBe(24); // 22 → 24 (rounds half up)
  });

  it('depth is scaled with ceil', () => {
    expect(scaleDepth(1, 2.6)).toBe(3);
    expect(scaleDepth(4, 2.6)).toBe(11);
    expect(scaleDepth(2, 1.1)).toBe(3);
    expect(scaleDepth(3, 1)).toBe(3);
  });
});

describe('EfficientNet feature info (no weights needed)', () => {
  it('B6 at out indices [1, 2, 3]: 40/72/200 channels at strides 4/8/16 (SPEC section 3)', () => {
    expect(efficientNetFeatureInfo('tf_efficientnet_b6', [1, 2, 3])).toEqual({ channels: [40, 72, 200], reductions: [4, 8, 16] });
  });

  it('B0 stages follow timm: 16, 24, 40, 112, 320 at strides 2..32', () => {
    expect(efficientNetFeatureInfo('tf_efficientnet_b0', [0, 1, 2, 3, 4])).toEqual({
      channels: [16, 24, 40, 112, 320],
      reductions: [2, 4, 8, 16, 32],
    });
  });

  it('only the blocks of the deepest requested stage are needed', () => {
    const arch = efficientNetArchitecture('tf_efficientnet_b6');
    expect(arch.features.map((f) => f.blockCount)).toEqual([3, 9, 15, 31, 45]);
    expect(arch.blocks).toHaveLength(45);
    expect(arch.blocks[30].prefix).toBe('blocks.4.7'); // last block of stage 3 (stride 16)
  });

  it('rejects bad outIndices naming the setting', () => {
    expect(() => efficientNetFeatureInfo('tf_efficientnet_b0', [5])).toThrow(/outIndices contains 5; stages are 0\.\.4/);
    expect(() => efficientNetFeatureInfo('tf_efficientnet_b0', [2, 2])).toThrow(/twice/);
    expect(() => efficientNetFeatureInfo('tf_efficientnet_b9', [2])).toThrow(/unknown EfficientNet "tf_efficientnet_b9"/);
  });
});

const shapesFile = requireShared('fixtures/efficientnet/param-shapes.json');

describe.skipIf(!shapesFile)('checkpoint layout equals timm (param-shapes.json)', () => {
  const reference = shapesFile ? (JSON.parse(readFileSync(shapesFile, 'utf8')) as Record<string, Record<string, number[]>>) : {};
  it.each(EFFICIENTNET_NAMES)('%s: same tensor names, order and shapes', (name) => {
    const ours = efficientNetParamShapes(efficientNetArchitecture(name));
    expect([...ours.entries()]).toEqual(Object.entries(reference[name]));
  });
});
