import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { FeatureBank } from './feature-bank.js';
import { initReference, meanFeatures, sampledReferenceImage } from './reference-init.js';
import { createRLR } from './rlr-model.js';
import { Rng } from './rng.js';
import type { RLRSpec } from './config.js';

const spec: RLRSpec = { imageSize: [16, 16], levels: [{ grid: [4, 4], channels: 8 }, { grid: [2, 2], channels: 8 }] };
const config = { d: [16, 16], heads: 2, layers: 1, window: [3, 1], seed: 5 };

function bank(count: number): { bank: FeatureBank; data: Float32Array[] } {
  const rng = new Rng(9);
  const data = spec.levels.map((l) => Float32Array.from({ length: count * l.grid[0] * l.grid[1] * l.channels }, () => rng.normal() * 2 + 1));
  return { bank: FeatureBank.fromArrays(spec.levels, data), data };
}

describe('initReference', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('mean: every level reference equals the per-position mean of the training features', async () => {
    const { bank: source, data } = bank(19); // more than one read chunk of 16
    const model = createRLR(spec, config);
    await initReference(model, source, 'mean');
    for (let i = 0; i < spec.levels.length; i++) {
      const per = data[i].length / 19;
      const ref = (await model.levels[i].params.get('ref')!.data()) as Float32Array;
      for (const j of [0, 3, per - 1]) {
        let s = 0;
        for (let b = 0; b < 19; b++) s += data[i][b * per + j];
        expect(ref[j]).toBeCloseTo(s / 19, 5);
      }
      const mean = (await meanFeatures(source))[i];
      expect(Array.from(ref)).toEqual(Array.from(mean));
    }
    model.dispose();
  });

  it('sample: the reference is one seeded image\'s features; randn leaves the paper init', async () => {
    const { bank: source, data } = bank(7);
    const model = createRLR(spec, config);
    const before = (await model.levels[0].params.get('ref')!.data()).slice();
    expect(await initReference(model, source, 'randn')).toBeUndefined();
    expect(Array.from(await model.levels[0].params.get('ref')!.data())).toEqual(Array.from(before));
    const index = await initReference(model, source, 'sample', 3407);
    expect(index).toBe(sampledReferenceImage(7, 3407));
    expect(sampledReferenceImage(7, 3407)).toBe(sampledReferenceImage(7, 3407));
    for (let i = 0; i < spec.levels.length; i++) {
      const per = data[i].length / 7;
      const ref = await model.levels[i].params.get('ref')!.data();
      expect(Array.from(ref)).toEqual(Array.from(data[i].subarray(index! * per, (index! + 1) * per)));
    }
    model.dispose();
  });
});
