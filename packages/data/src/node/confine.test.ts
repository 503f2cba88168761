import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/data-error.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { Confinement, isWithin } from './confine.js';
import { generateDataset } from './generate-dataset.js';
import { loadFolder } from './folder.js';
import { loadMvtec } from './mvtec.js';
import { loadVisa } from './visa.js';

const tmp = tempDir();
const visa = join(tmp, 'visa');
const mvtec = join(tmp, 'mvtec');
/** A folder outside every dataset root, holding a readable "secret" image. */
const outside = join(tmp, 'outside');
let copies = 0;

beforeAll(async () => {
  await generateDataset({ root: visa, layout: 'visa', categories: ['cloudy'], trainCount: 3, testCount: 3, size: 32, seed: 3 });
  await generateDataset({ root: mvtec, categories: ['grid'], trainCount: 3, testCount: 3, size: 32, seed: 3 });
  mkdirSync(outside, { recursive: true });
  cpSync(join(mvtec, 'grid', 'train', 'good', '000.png'), join(outside, 'secret.png'));
});

function copyOf(src: string): string {
  const dir = join(tmp, `copy${copies++}`);
  cpSync(src, dir, { recursive: true });
  return dir;
}

/** A VisA copy whose first training row's image is `image`. */
function visaWithRow(image: string): string {
  const dir = copyOf(visa);
  const csv = join(dir, 'split_csv', '1cls.csv');
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const k = lines.findIndex((l) => l.includes(',train,'));
  const cells = lines[k].split(',');
  cells[3] = image;
  lines[k] = cells.join(',');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  return dir;
}

describe('isWithin', () => {
  it('is true for the folder and below it, false for siblings with a common prefix and parents', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b/c.png', '/a/b')).toBe(true);
    expect(isWithin('/a/bc/x.png', '/a/b')).toBe(false);
    expect(isWithin('/a', '/a/b')).toBe(false);
    expect(isWithin('/a/..b/x', '/a')).toBe(true); // a folder called "..b" is inside
  });
});

describe('Confinement.join', () => {
  it('refuses absolute paths and .. escapes by their text', async () => {
    const c = await Confinement.of(visa);
    expect(c.join('cloudy/x.JPG', 'here')).toBe(join(visa, 'cloudy', 'x.JPG'));
    expect(() => c.join('/etc/secret.png', 'row 2')).toThrow(/absolute path/);
    expect(() => c.join('C:\\secret.png', 'row 2')).toThrow(/absolute path/);
    expect(() => c.join('cloudy/../../secret.png', 'row 2')).toThrow(/outside the dataset root/);
  });
});

describe('loaders read nothing outside their root', () => {
  it('VisA: a ../ row is refused naming the split-file line, before the file is read', async () => {
    const root = visaWithRow('../../../../outside/secret.png');
    const e = await errorOf(loadVisa(root));
    expect(e.code).toBe('outside-root');
    expect(e.problem).toMatch(/1cls\.csv line 2\) lies outside the dataset root/);
  });

  it('VisA: an absolute row is refused, even for an existing image', async () => {
    const e = await errorOf(loadVisa(visaWithRow(join(outside, 'secret.png'))));
    expect([e.code, e.subject]).toEqual(['outside-root', join(outside, 'secret.png')]);
    expect(e.problem).toMatch(/absolute path/);
  });

  it('VisA: a row naming a link to a file outside is refused', async () => {
    const root = visaWithRow('cloudy/link.png');
    symlinkSync(join(outside, 'secret.png'), join(root, 'cloudy', 'link.png'));
    const e = await errorOf(loadVisa(root));
    expect(e.code).toBe('outside-root');
    expect(e.problem).toMatch(/line 2\) resolves through a symbolic link to .*outside[\\/]secret\.png/);
  });

  it('VisA: links that stay inside the root, and a root that is itself a link, are fine', async () => {
    const root = visaWithRow('cloudy/inner.JPG');
    const csv = readFileSync(join(root, 'split_csv', '1cls.csv'), 'utf8');
    const target = /cloudy\/Data\/Images\/Normal\/\d+\.JPG/.exec(csv)![0];
    symlinkSync(join(root, target), join(root, 'cloudy', 'inner.JPG'));
    const linkedRoot = join(tmp, `linked-root-${copies++}`);
    symlinkSync(root, linkedRoot);
    const ds = await loadVisa(linkedRoot);
    expect(ds.train.some((s) => s.path === join(linkedRoot, 'cloudy', 'inner.JPG'))).toBe(true);
  });

  it('MVTec: an image linked to a file outside, or a folder linked outside, is refused', async () => {
    const file = copyOf(mvtec);
    symlinkSync(join(outside, 'secret.png'), join(file, 'grid', 'train', 'good', 'zz.png'));
    const e1 = await errorOf(loadMvtec(file));
    expect([e1.code, e1.subject]).toEqual(['outside-root', join(file, 'grid', 'train', 'good', 'zz.png')]);

    const folder = copyOf(mvtec);
    symlinkSync(outside, join(folder, 'grid', 'test', 'stolen'));
    const e2 = await errorOf(loadMvtec(folder, { requireMasks: false }));
    expect([e2.code, e2.subject]).toEqual(['outside-root', join(folder, 'grid', 'test', 'stolen')]);
  });

  it('folder: each folder is confined to itself', async () => {
    const root = copyOf(mvtec);
    const good = join(root, 'grid', 'train', 'good');
    symlinkSync(join(outside, 'secret.png'), join(good, 'zz.png'));
    const e = await errorOf(loadFolder({ normalDir: good }));
    expect(e.code).toBe('outside-root');
    expect(e.problem).toMatch(/outside the normal image folder \(normalDir\)/);
  });
});

describe('loadFolder refuses folders that overlap', () => {
  it('the same folder twice (also through a link), or one inside another', async () => {
    const good = join(mvtec, 'grid', 'train', 'good');
    const same = await errorOf(loadFolder({ normalDir: good, abnormalDir: good }));
    expect([same.code, same.subject]).toEqual(['invalid-option', 'normalDir and abnormalDir']);
    expect(same.problem).toMatch(/are the same folder/);

    const link = join(tmp, `good-link-${copies++}`);
    symlinkSync(good, link);
    expect((await errorOf(loadFolder({ normalDir: good, normalTestDir: link }))).problem).toMatch(/same folder/);

    const nested = await errorOf(loadFolder({ normalDir: join(mvtec, 'grid'), abnormalDir: join(mvtec, 'grid', 'test', 'bent') }));
    expect(nested.problem).toMatch(/abnormalDir .* is inside normalDir/);
    const masks = await errorOf(loadFolder({ normalDir: good, abnormalDir: join(mvtec, 'grid', 'test'), maskDir: join(mvtec, 'grid', 'test', 'x') }));
    expect(masks.subject).toBe('abnormalDir and maskDir');
  });
});
