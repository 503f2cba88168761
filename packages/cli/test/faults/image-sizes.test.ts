import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, loadMvtec } from '@rlr/data/node';
import { checkImageSizes, warnAboutTestCrops } from '@rlr/engine/node';
import type { Logger } from '../../src/log.js';
import { cappedWorkerCount } from '../../src/workers.js';
import { binBuilt, jsonLines, runBin } from '../bin-helpers.js';
import { tempFolder, TINY } from './fault-helpers.js';

/* Faults: images the geometry spoils (a 1x1 image, a crop that drops most of a wide image); --workers 999. */
let data: string;
let tiny: string;
let wide: string;

beforeAll(async () => {
  const root = await tempFolder('sizes');
  data = join(root, 'data');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 4, testCount: 2, size: 64, seed: 4 });
  tiny = join(data, 'grid', 'train', 'good', 'tiny.png');
  wide = join(data, 'grid', 'train', 'good', 'wide.png');
  const grey = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 120, g: 120, b: 120 } } }).png();
  await grey(1, 1).toFile(tiny);
  await grey(256, 64).toFile(wide); // a 64x64 crop of 64x256 keeps 25% of the pixels
});

describe('checkImageSizes', () => {
  it('finds the enlarged and the mostly cropped images, and nothing in a sound dataset', async () => {
    const ds = await loadMvtec(data);
    const f = await checkImageSizes(ds.train, { resize: 64, crop: [64, 64] });
    expect(f.checked).toBe(6);
    expect(f.upscaled).toMatchObject({ count: 1, path: tiny, height: 1, width: 1 });
    expect(f.cropped).toMatchObject({ count: 1, path: wide, kept: 0.25 });
    const sound = ds.train.filter((s) => s.path !== tiny && s.path !== wide);
    expect(await checkImageSizes(sound, { resize: 64, crop: [64, 64] })).toEqual({ checked: 4 });
  });

  it('reports any crop that drops pixels, with the worst image as the example; fit and stretch drop nothing', async () => {
    const ds = await loadMvtec(data);
    const sound = ds.train.filter((s) => s.path !== tiny);
    // 64x48 crop of the 64x64 images keeps 75%; of the 64x256 one, 18.75%.
    const f = await checkImageSizes(sound, { resize: 64, crop: [64, 48] });
    expect(f.cropped).toMatchObject({ count: 5, path: wide, kept: 0.1875 });
    expect((await checkImageSizes(sound, { resize: 64, crop: [64, 64], mode: 'fit' })).cropped).toBeUndefined();
    expect((await checkImageSizes(sound, { resize: 64, crop: [64, 64], mode: 'stretch' })).cropped).toBeUndefined();
  });

  it('rlr eval warns once about test images the centre crop cuts, naming the worst and the fix', async () => {
    const ds = await loadMvtec(data);
    const warned: string[] = [];
    const log = { warn: (m: string) => void warned.push(m) } as unknown as Logger;
    await warnAboutTestCrops(ds.train, { resize: 64, crop: [64, 64] }, log);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(new RegExp(`drops the borders of 1 of 6 test images \\(the worst, ${wide.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, 64x256 px, keeps 25% .*--resize-mode fit`));
    await warnAboutTestCrops(ds.train, { resize: 64, crop: [64, 64], mode: 'fit' }, log);
    expect(warned).toHaveLength(1);
  });
});

describe.skipIf(!binBuilt)('rlr train on a dataset with a 1x1 and a wide training image', () => {
  it('warns once per problem, naming an example file and the flags that fix it; still trains', async () => {
    const out = join(await tempFolder('sizes-run'), 'run');
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', out, '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const warnings = jsonLines(r.stdout).filter((e) => e.event === 'warning').map((e) => e.message as string);
    const enlarged = warnings.filter((w) => w.includes('enlarged'));
    const cropped = warnings.filter((w) => w.includes('centre crop'));
    expect(enlarged).toHaveLength(1);
    expect(enlarged[0]).toContain(`${tiny} is 1x1 px`);
    expect(enlarged[0]).toMatch(/fix: .*--image-size \(and --resize\)/);
    expect(cropped).toHaveLength(1);
    expect(cropped[0]).toContain(`${wide}, 64x256 px`);
    expect(cropped[0]).toMatch(/keeps only 25%.*fix: pass --image-size HxW .*--image-size 64x256/);
  });
});

describe('--workers above the core count', () => {
  it('is capped at the cores, with one warning naming the flag', () => {
    const warned: string[] = [];
    const log = { warn: (m: string) => void warned.push(m) };
    expect(cappedWorkerCount(999, 2, log)).toBe(2);
    expect(warned).toEqual(['--workers 999 is more than the 2 CPU core(s) of this machine: using 2 worker thread(s)']);
    expect(cappedWorkerCount(2, 2, log)).toBe(2);
    expect(cappedWorkerCount(1, 16, log)).toBe(1);
    expect(warned).toHaveLength(1);
  });
});
