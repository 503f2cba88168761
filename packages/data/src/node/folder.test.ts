import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireShared } from '@rlr/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/data-error.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { batches } from './batches.js';
import { loadFolder } from './folder.js';
import { generateDataset } from './generate-dataset.js';

const tmp = tempDir();
const gen = join(tmp, 'gen');
// A folder dataset made from one generated category: good/, bad/ (one defect type), masks/.
const base = join(gen, 'wood');
const layout = { root: base, normalDir: 'train/good', abnormalDir: 'test/crack', maskDir: 'ground_truth/crack' };

beforeAll(async () => {
  await generateDataset({ root: gen, categories: ['wood'], trainCount: 20, testCount: 12, size: 40, seed: 9, defectTypes: ['crack'] });
});

describe('loadFolder', () => {
  it('holds out a seeded fraction of the normals when there is no normal test folder', async () => {
    const a = await loadFolder({ ...layout, holdOut: 0.25, seed: 1 });
    expect(a.format).toBe('folder');
    expect(a.categories).toEqual(['wood']);
    expect(a.train).toHaveLength(15);
    const heldOut = a.test.filter((s) => s.label === 0).map((s) => s.path);
    expect(heldOut).toHaveLength(5);
    expect(a.train.some((s) => heldOut.includes(s.path))).toBe(false);
    expect((await loadFolder({ ...layout, holdOut: 0.25, seed: 1 })).test).toEqual(a.test);
    const other = (await loadFolder({ ...layout, holdOut: 0.25, seed: 2 })).test.filter((s) => s.label === 0).map((s) => s.path);
    expect(other).not.toEqual(heldOut);
    const anomalies = a.test.filter((s) => s.label === 1);
    expect(anomalies).toHaveLength(8);
    expect(anomalies.every((s) => s.defectType === 'crack' && s.maskPath === join(base, 'ground_truth', 'crack', `${s.path.slice(-7, -4)}_mask.png`))).toBe(true);
  });

  it('uses a normal test folder when given, and works without masks', async () => {
    const ds = await loadFolder({ root: base, normalDir: 'train/good', normalTestDir: 'test/good', abnormalDir: 'test/crack', category: 'planks' });
    expect(ds.train).toHaveLength(20);
    expect(ds.test.filter((s) => s.label === 0)).toHaveLength(4);
    expect(ds.test.every((s) => s.category === 'planks' && !s.maskPath)).toBe(true);
  });

  it('an anomalous image without a mask, a missing folder, a mask folder without anomalies', async () => {
    const dir = join(tmp, 'broken');
    cpSync(base, dir, { recursive: true });
    rmSync(join(dir, 'ground_truth', 'crack', '002_mask.png'));
    const e = await errorOf(loadFolder({ ...layout, root: dir }));
    expect(e.code).toBe('missing-mask');
    expect(e.message).toMatch(/crack.002\.png: anomalous image has no mask in .*looked for 002\.<ext> and 002_mask\.<ext>/);
    expect((await errorOf(loadFolder({ ...layout, normalDir: 'train/nope' }))).message).toMatch(/nope: the normal image folder \(normalDir\) does not exist/);
    expect((await errorOf(loadFolder({ root: base, normalDir: 'train/good', maskDir: 'ground_truth/crack' }))).code).toBe('invalid-option');
    expect((await errorOf(loadFolder({ ...layout, holdOut: 1 }))).message).toMatch(/holdOut: must be in \[0, 1\)/);
  });

  it('reports stray files and masks without images', async () => {
    const dir = join(tmp, 'stray');
    cpSync(base, dir, { recursive: true });
    writeFileSync(join(dir, 'train', 'good', 'desktop.ini'), '');
    rmSync(join(dir, 'test', 'crack', '003.png'));
    const ds = await loadFolder({ ...layout, root: dir });
    expect(ds.skipped).toEqual([
      { path: join(dir, 'train', 'good', 'desktop.ini'), reason: 'system file' },
      { path: join(dir, 'ground_truth', 'crack', '003_mask.png'), reason: 'mask without a matching image' },
    ]);
  });
});

const kolektor = requireShared('data/kolektorsdd');

describe.skipIf(!kolektor)('KolektorSDD as a folder dataset', () => {
  const options = { root: kolektor!, normalDir: 'good', abnormalDir: 'defect', maskDir: 'masks', seed: 0 };

  it('has 348 normal and 52 defective images, every defect with its mask', async () => {
    const ds = await loadFolder(options);
    expect(ds.categories).toEqual(['kolektorsdd']);
    expect(ds.skipped).toEqual([]);
    expect(ds.train).toHaveLength(278); // 348 - round(0.2 * 348)
    expect(ds.test.filter((s) => s.label === 0)).toHaveLength(70);
    const defects = ds.test.filter((s) => s.label === 1);
    expect(defects).toHaveLength(52);
    expect(defects.every((s) => s.maskPath?.endsWith('.png') && s.defectType === 'defect')).toBe(true);
  });

  it('decodes tall images to [640, 256] with every crack inside its mask crop', async () => {
    const ds = await loadFolder(options);
    const defects = ds.test.filter((s) => s.label === 1).slice(0, 12);
    let masked = 0;
    for await (const b of batches(defects, { batchSize: 4, resize: 256, crop: [640, 256] })) {
      expect([b.height, b.width]).toEqual([640, 256]);
      expect(b.images.length).toBe(b.samples.length * 640 * 256 * 3);
      // Gray images: the three channels are equal.
      expect(b.images[3 * 1000]).toBe(b.images[3 * 1000 + 2]);
      for (let k = 0; k < b.samples.length; k++) if (b.masks.subarray(k * 640 * 256, (k + 1) * 640 * 256).some((v) => v)) masked++;
    }
    expect(masked).toBe(12);
  });
});
