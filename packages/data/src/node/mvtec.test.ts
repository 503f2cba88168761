import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/data-error.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { batches } from './batches.js';
import { generateDataset, type SyntheticManifest } from './generate-dataset.js';
import { readMask } from './image-transform.js';
import { loadMvtec } from './mvtec.js';
import { validateDataset } from './validate.js';

const tmp = tempDir();
const pristine = join(tmp, 'pristine');
let manifest: SyntheticManifest;
let copies = 0;

beforeAll(async () => {
  manifest = await generateDataset({ root: pristine, categories: ['grid', 'disc', 'wood'], trainCount: 5, testCount: 7, size: 64, seed: 3 });
});

/** A private copy of the generated dataset for a test that damages it. */
function copy(): string {
  const dir = join(tmp, `copy${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

describe('loadMvtec on a generated MVTec-layout dataset', () => {
  it('finds every category, image, label and mask', async () => {
    const ds = await loadMvtec(pristine);
    expect(ds.format).toBe('mvtec');
    expect(ds.categories).toEqual(['disc', 'grid', 'wood']);
    for (const c of manifest.categories) {
      const train = ds.train.filter((s) => s.category === c.name);
      const test = ds.test.filter((s) => s.category === c.name);
      expect(train).toHaveLength(c.train);
      expect(train.every((s) => s.label === 0 && s.defectType === 'good' && !s.maskPath)).toBe(true);
      for (const [type, n] of Object.entries(c.test)) {
        const ofType = test.filter((s) => s.defectType === type);
        expect(ofType).toHaveLength(n);
        for (const s of ofType) {
          expect(s.label).toBe(type === 'good' ? 0 : 1);
          if (type === 'good') expect(s.maskPath).toBeUndefined();
          else expect(s.maskPath).toBe(join(pristine, c.name, 'ground_truth', type, `${s.path.slice(-7, -4)}_mask.png`));
        }
      }
    }
    // The generator's own manifest.json belongs to the dataset: neither a category nor a stray file.
    expect(ds.skipped).toEqual([]);
  });

  it("recognises only the generator's own manifest.json, and only at the root", async () => {
    const dir = copy();
    writeFileSync(join(dir, 'grid', 'train', 'manifest.json'), JSON.stringify(manifest)); // inside a category
    writeFileSync(join(dir, 'notes.json'), '{}');
    const ds = await loadMvtec(dir);
    expect(ds.skipped).toEqual([
      { path: join(dir, 'notes.json'), reason: 'file at the dataset root (not a category folder)' },
      { path: join(dir, 'grid', 'train', 'manifest.json'), reason: 'file outside train/good/' },
    ]);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ generator: 'someone else' })); // not ours
    expect((await loadMvtec(dir)).skipped.map((s) => s.path)).toContain(join(dir, 'manifest.json'));
  });

  it('filters categories and names the missing one with what is available', async () => {
    const ds = await loadMvtec(pristine, { categories: ['wood', 'disc'] });
    expect(ds.categories).toEqual(['disc', 'wood']);
    expect(new Set(ds.train.map((s) => s.category))).toEqual(new Set(['disc', 'wood']));
    const e = await errorOf(loadMvtec(pristine, { categories: ['bottle'] }));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain(join(pristine, 'bottle'));
    expect(e.message).toContain('Available categories: disc, grid, wood');
  });

  it('produces batches whose masks are the masks on disk, transformed like the images', async () => {
    const ds = await loadMvtec(pristine, { categories: ['disc'] });
    let anomalous = 0;
    for await (const b of batches(ds.test, { batchSize: 4, resize: 48, crop: [40, 32] })) {
      expect([b.height, b.width]).toEqual([40, 32]);
      for (const [k, s] of b.samples.entries()) {
        const mask = b.masks.subarray(k * 40 * 32, (k + 1) * 40 * 32);
        expect(b.hasMask[k]).toBe(s.label === 1);
        if (s.maskPath) {
          anomalous++;
          const expected = await readMask(s.maskPath, { resize: 48, crop: [40, 32] });
          expect([...mask]).toEqual([...expected.data]);
        } else {
          expect(mask.every((v) => v === 0)).toBe(true);
        }
      }
    }
    expect(anomalous).toBe(5);
  });
});

describe('loadMvtec on bad input', () => {
  it('a missing root', async () => {
    const e = await errorOf(loadMvtec(join(tmp, 'nowhere')));
    expect(e.code).toBe('not-found');
    expect(e.message).toMatch(/nowhere: the dataset root does not exist.*category folders/);
  });

  it('a root without categories', async () => {
    const dir = join(tmp, 'empty-root');
    mkdirSync(join(dir, 'docs'), { recursive: true });
    const e = await errorOf(loadMvtec(dir));
    expect(e.code).toBe('empty');
    expect(e.message).toContain('holds no category folders');
  });

  it('an empty train/good', async () => {
    const dir = copy();
    rmSync(join(dir, 'grid', 'train', 'good'), { recursive: true });
    mkdirSync(join(dir, 'grid', 'train', 'good'));
    writeFileSync(join(dir, 'grid', 'train', 'good', '.DS_Store'), '');
    const e = await errorOf(loadMvtec(dir));
    expect(e.code).toBe('empty');
    expect(e.message).toContain(join(dir, 'grid', 'train', 'good'));
    expect(e.message).toMatch(/category grid has no training images/);
  });

  it('an anomalous test image without its mask', async () => {
    const dir = copy();
    rmSync(join(dir, 'disc', 'ground_truth', 'hole', '000_mask.png'));
    const e = await errorOf(loadMvtec(dir));
    expect(e.code).toBe('missing-mask');
    expect(e.message).toContain(join(dir, 'disc', 'test', 'hole', '000.png'));
    expect(e.message).toContain(join(dir, 'disc', 'ground_truth', 'hole', '000_mask.png'));
    // Image-level evaluation is possible on request: the sample is kept without a mask.
    const ds = await loadMvtec(dir, { requireMasks: false });
    expect(ds.test.find((s) => s.path.endsWith(join('disc', 'test', 'hole', '000.png')))?.maskPath).toBeUndefined();
  });

  it('stray files are skipped and reported, each with its reason', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'wood', 'train', 'good', '.DS_Store'), '');
    writeFileSync(join(dir, 'wood', 'train', 'good', 'Thumbs.db'), '');
    writeFileSync(join(dir, 'wood', 'test', 'spot', '._000.png'), '');
    writeFileSync(join(dir, 'license.txt'), 'CC BY-NC-SA');
    mkdirSync(join(dir, 'wood', 'test', 'spot', '@eaDir'));
    const ds = await loadMvtec(dir);
    const reasons = Object.fromEntries(ds.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]));
    expect(reasons).toMatchObject({
      [join('wood', 'train', 'good', '.DS_Store')]: 'hidden file',
      [join('wood', 'train', 'good', 'Thumbs.db')]: 'system file',
      [join('wood', 'test', 'spot', '._000.png')]: 'hidden file',
      [join('wood', 'test', 'spot', '@eaDir')]: 'system file (folder)',
      'license.txt': 'file at the dataset root (not a category folder)',
    });
    expect(ds.train).toHaveLength(15); // nothing else changed
  });

  it('an unsupported file type in an image folder', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'grid', 'test', 'crack', 'notes.txt'), 'found on line 3');
    const e = await errorOf(loadMvtec(dir));
    expect(e.code).toBe('unsupported-format');
    expect(e.message).toContain(join(dir, 'grid', 'test', 'crack', 'notes.txt'));
    expect(e.message).toMatch(/Convert it to PNG, or move it out/);
  });

  it('an image directly in test/', async () => {
    const dir = copy();
    renameSync(join(dir, 'grid', 'test', 'good', '000.png'), join(dir, 'grid', 'test', '000.png'));
    const e = await errorOf(loadMvtec(dir));
    expect(e.code).toBe('invalid-layout');
    expect(e.message).toMatch(/test.000\.png: is directly in test\//);
  });

  it('a mask of the wrong size and a corrupt image: found by batches and all at once by validateDataset', async () => {
    const dir = copy();
    const mask = join(dir, 'disc', 'ground_truth', 'spot', '000_mask.png');
    writeFileSync(mask, await sharp(new Uint8Array(32 * 32), { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer());
    const broken = join(dir, 'disc', 'train', 'good', '001.png');
    writeFileSync(broken, (await sharp(broken).toBuffer()).subarray(0, 200));
    const ds = await loadMvtec(dir, { categories: ['disc'] }); // structure is fine: nothing decoded yet
    const report = await validateDataset(ds);
    expect(report.errors.map((e) => [e.code, e.subject])).toEqual([
      ['size-mismatch', mask],
      ['corrupt', broken],
    ]);
    expect(report.checked).toBe(ds.train.length + ds.test.length + 5); // 5 anomalous images with masks
    await expect(
      (async () => {
        for await (const _ of batches(ds.train, { batchSize: 2, crop: 64 }));
      })(),
    ).rejects.toThrow(/001\.png: could not be decoded/);
    await expect(
      (async () => {
        for await (const _ of batches(ds.test, { batchSize: 2, crop: 64 }));
      })(),
    ).rejects.toThrow(/000_mask\.png: mask is 32x32 \(h x w\) but its image .*000\.png is 64x64/);
  });
});
