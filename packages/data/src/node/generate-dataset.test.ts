import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { SYNTHETIC_CATEGORIES } from '../synthetic/categories.js';
import { generateDataset } from './generate-dataset.js';

const tmp = tempDir();

/** Every file under `dir` with its bytes, by relative path. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('generateDataset', () => {
  const options = { categories: ['weave', 'bracket'], trainCount: 3, testCount: 8, size: 48, seed: 11 };

  it('writes byte-identical files for the same seed, different ones for another', async () => {
    const a = files((await generateDataset({ ...options, root: join(tmp, 'a') }), join(tmp, 'a')));
    const b = files((await generateDataset({ ...options, root: join(tmp, 'b') }), join(tmp, 'b')));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
    const c = files((await generateDataset({ ...options, seed: 12, root: join(tmp, 'c') }), join(tmp, 'c')));
    expect(c.get(join('weave', 'train', 'good', '000.png'))!.equals(a.get(join('weave', 'train', 'good', '000.png'))!)).toBe(false);
    expect([...a.keys()].some((k) => k.endsWith('.tmp'))).toBe(false);
  });

  it('writes the MVTec layout, 0/255 masks and a manifest', async () => {
    const root = join(tmp, 'm');
    const manifest = await generateDataset({ ...options, root });
    expect(JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(manifest).toMatchObject({ layout: 'mvtec', seed: 11, height: 48, width: 48 });
    expect(manifest.categories).toEqual([
      { name: 'weave', kind: 'texture', train: 3, test: { good: 3, scratch: 1, spot: 1, hole: 1, crack: 1, missing_piece: 1 } },
      { name: 'bracket', kind: 'object', train: 3, test: { good: 3, scratch: 1, spot: 1, hole: 1, crack: 1, missing_piece: 1 } },
    ]);
    const maskPath = join(root, 'bracket', 'ground_truth', 'hole', '000_mask.png');
    expect(await sharp(maskPath).metadata()).toMatchObject({ width: 48, height: 48, channels: 1 });
    expect(new Set(await sharp(maskPath).toColourspace('b-w').raw().toBuffer())).toEqual(new Set([0, 255]));
    const image = await sharp(join(root, 'bracket', 'test', 'good', '002.png')).metadata();
    expect([image.width, image.height, image.channels]).toEqual([48, 48, 3]);
  });

  it('refuses to overwrite an existing category unless asked', async () => {
    const root = join(tmp, 'o');
    await generateDataset({ ...options, root });
    await expect(generateDataset({ ...options, root })).rejects.toThrow(/weave: already exists.*overwrite: true/);
    await expect(generateDataset({ ...options, root, overwrite: true })).resolves.toMatchObject({ seed: 11 });
  });

  it('exports the available categories', () => {
    expect(SYNTHETIC_CATEGORIES).toEqual(['weave', 'grid', 'cloudy', 'wood', 'disc', 'bracket']);
  });
});
