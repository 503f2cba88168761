import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, writeStoredZip, writeTorchPth, type PthOptions } from '@rlr/testing';
import { importOfficialCheckpoint } from '../src/checkpoint-import.js';
import type { OfficialTensor } from '../src/level-params.js';
import { modelToOfficialTensors, officialTensorsByLevel } from '../src/model-io.js';
import { createRLR, type RLRModel } from '../src/rlr-model.js';
import { serializeSafetensors } from '../src/safetensors.js';
import { readTorchCheckpoint } from '../src/torch-checkpoint.js';

// The `.pth` reader (stored zip + restricted unpickler) on archives written in PyTorch's layout by
// a test helper, and the errors of bad files. No fixtures needed.

const spec = {
  imageSize: [32, 32] as [number, number],
  levels: [
    { grid: [8, 8] as [number, number], channels: 6, reduction: 4 },
    { grid: [4, 4] as [number, number], channels: 10, reduction: 8 },
  ],
};
const config = { d: [16, 24], heads: 4, layers: 2, window: 3, seed: 5 };

let model: RLRModel;
let official: Map<string, OfficialTensor>;
const levels = () => officialTensorsByLevel(official);

const pth = (o: PthOptions = {}) => writeTorchPth(levels(), o);
const reconstruct = (m: RLRModel, features: tf.Tensor4D[]) => tf.tidy(() => m.reconstruct(features).map((r) => r.dataSync()));

describe('readTorchCheckpoint / importOfficialCheckpoint of a .pth', () => {
  let features: tf.Tensor4D[];
  let expected: Float32Array[];

  beforeAll(async () => {
    await useBackend('cpu');
    model = createRLR(spec, config);
    official = await modelToOfficialTensors(model);
    features = spec.levels.map((l, i) => tf.randomNormal([2, l.grid[0], l.grid[1], l.channels], 0, 1, 'float32', 10 + i) as tf.Tensor4D);
    expected = reconstruct(model, features) as Float32Array[];
  });

  it.each([
    ['the released trainer dict, one storage per tensor', {}],
    ['a bare list of state dicts, views into one storage per level', { layout: 'list', shareStorage: true }],
  ] as const)('%s: every tensor comes back bit for bit and the model reconstructs identically', (_, o) => {
    const read = readTorchCheckpoint(pth(o), 'rlr.pth');
    expect([...read.keys()].sort()).toEqual([...official.keys()].sort());
    for (const [name, t] of official) {
      expect(read.get(name)!.shape, name).toEqual(t.shape);
      expect(read.get(name)!.data, name).toEqual(t.data);
    }
    const imported = importOfficialCheckpoint(pth(o), { spec, heads: 4, window: 3 }, 'rlr.pth');
    const got = reconstruct(imported, features);
    got.forEach((r, i) => expect(r).toEqual(expected[i]));
    imported.dispose();
  });

  it('reads float16 storages (to float32, within half precision)', () => {
    const read = readTorchCheckpoint(pth({ dtype: 'float16' }), 'half.pth');
    const w = official.get('level1.projection.weight')!.data;
    const h = read.get('level1.projection.weight')!.data;
    for (let i = 0; i < w.length; i++) expect(Math.abs(h[i] - w[i])).toBeLessThanOrEqual(Math.abs(w[i]) * 1e-3 + 1e-7);
  });

  it('reads a single state dict as one level', () => {
    const one = new Map([...official].filter(([k]) => k.startsWith('level0.')).map(([k, v]) => [k.slice(7), v]));
    const read = readTorchCheckpoint(writeTorchPth([one], { layout: 'dict' }), 'one.pth');
    expect(read.size).toBe(one.size);
    expect(read.get('level0.ref_mca')!.data).toEqual(one.get('ref_mca')!.data);
  });

  it('a safetensors file with the same tensors imports to the same model', () => {
    const st = serializeSafetensors(new Map([...official].map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
    const imported = importOfficialCheckpoint(st, { spec, heads: 4, window: 3 }, 'rlr.safetensors');
    reconstruct(imported, features).forEach((r, i) => expect(r).toEqual(expected[i]));
    imported.dispose();
  });

  describe('bad files name the problem', () => {
    const withLevels = (edit: (lv: Map<string, OfficialTensor>[]) => void) => {
      const lv = levels();
      edit(lv);
      return writeTorchPth(lv);
    };
    const load = (bytes: Uint8Array) => () => importOfficialCheckpoint(bytes, { spec, heads: 4, window: 3 }, 'bad.pth');

    it('a wrong shape: the tensor, its shape and the expected one', () => {
      const bytes = withLevels((lv) => lv[1].set('encoder.encode_layers.1.ffn.fc1.bias', { shape: [5], data: new Float32Array(5) }));
      expect(load(bytes)).toThrow('bad.pth: tensor "level1.encoder.encode_layers.1.ffn.fc1.bias" has shape [5], expected [96]');
    });

    it('a missing tensor: its name and expected shape', () => {
      const bytes = withLevels((lv) => lv[0].delete('encoder.encode_layers.0.nsa.in_proj_weight'));
      expect(load(bytes)).toThrow('bad.pth: tensor "level0.encoder.encode_layers.0.nsa.in_proj_weight" is missing (expected shape [48,16])');
    });

    it('a wrong name: the tensors that are not RLR parameters', () => {
      const bytes = withLevels((lv) => {
        const t = lv[0].get('encoder.norm.weight')!;
        lv[0].delete('encoder.norm.weight');
        lv[0].set('encoder.final_norm.weight', t);
      });
      expect(load(bytes)).toThrow('tensor "level0.encoder.norm.weight" is missing (expected shape [16])');
      const extra = withLevels((lv) => lv[0].set('encoder.extra.weight', { shape: [2], data: new Float32Array(2) }));
      expect(load(extra)).toThrow('bad.pth: 1 tensor(s) are not parameters of an RLR level with 2 layers: "level0.encoder.extra.weight" [2]');
      expect(() => importOfficialCheckpoint(extra, { spec, heads: 4, window: 3, ignoreUnknown: true }, 'bad.pth').dispose()).not.toThrow();
    });

    it('a level missing, or channels that do not match the backbone', () => {
      const oneLevel = writeTorchPth([levels()[0]]);
      expect(load(oneLevel)).toThrow('bad.pth: level 1 is missing (no "level1.*" tensors; expected e.g. "level1.projection.weight" [10, d] and "level1.ref_mca" [1, 16, 10])');
      const wide = { ...spec, levels: [spec.levels[0], { ...spec.levels[1], channels: 12 }] };
      expect(() => importOfficialCheckpoint(pth(), { spec: wide, heads: 4, window: 3 }, 'bad.pth')).toThrow(
        'bad.pth: tensor "level1.projection.weight" has shape [10,24], expected [12, 24]: backbone level 1 has 12 channels',
      );
      const big = { ...spec, imageSize: [64, 64] as [number, number], levels: [{ ...spec.levels[0], grid: [16, 16] as [number, number] }, spec.levels[1]] };
      expect(() => importOfficialCheckpoint(pth(), { spec: big, heads: 4, window: 3 }, 'bad.pth')).toThrow(/tensor "level0.ref_mca" has shape \[1,64,6\], expected \[1, 256, 6\]/);
    });

    it('archives that are not torch.save zips, or are damaged', () => {
      const good = pth();
      expect(() => readTorchCheckpoint(good.subarray(0, good.length - 30), 't.pth')).toThrow(/t\.pth: not a readable PyTorch zip archive/);
      expect(() => readTorchCheckpoint(pth({ claimCompressed: true }), 'z.pth')).toThrow(/is compressed \(method 8\)/);
      // A legacy (pre-1.6) checkpoint starts with a pickle, not a zip header.
      expect(() => readTorchCheckpoint(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]), 'old.pth')).toThrow(/legacy format/);
      const noPickle = writeStoredZip([['archive/version', new TextEncoder().encode('3\n')]]);
      expect(() => readTorchCheckpoint(noPickle, 'n.pth')).toThrow(/has no data\.pkl/);
      // A pickle opcode outside the subset (INST, 'i'): refused, never interpreted.
      const evil = writeStoredZip([['archive/data.pkl', Uint8Array.from([0x80, 0x02, 0x69, ...new TextEncoder().encode('os\nsystem\n'), 0x2e])]]);
      expect(() => readTorchCheckpoint(evil, 'e.pth')).toThrow(/e\.pth \(archive\/data\.pkl\): pickle opcode 0x69 at byte 2 is outside the tensor-only subset/);
      const empty = writeStoredZip([['archive/data.pkl', Uint8Array.from([0x80, 0x02, 0x7d, 0x2e])]]);
      expect(() => readTorchCheckpoint(empty, 'm.pth')).toThrow(/m\.pth: holds no RLR state dict/);
    });
  });
});
