import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, runBin } from '../bin-helpers.js';
import { errorLines, tempFolder, TINY } from './fault-helpers.js';

/*
 * Faults: dataset paths that lead outside the dataset, folders that overlap, library option names
 * in messages. Every refusal comes before training, so nothing is read, trained on or copied.
 */
let root: string;
let visa: string;
let mvtec: string;
let secret: string;
let copies = 0;

beforeAll(async () => {
  root = await tempFolder('paths');
  visa = join(root, 'visa');
  mvtec = join(root, 'mvtec');
  await generateDataset({ root: visa, layout: 'visa', categories: ['cloudy'], trainCount: 4, testCount: 2, size: 64, seed: 2 });
  await generateDataset({ root: mvtec, categories: ['grid'], trainCount: 4, testCount: 4, size: 64, seed: 2 });
  await mkdir(join(root, 'outside'), { recursive: true });
  secret = join(root, 'outside', 'secret.png');
  await cp(join(mvtec, 'grid', 'train', 'good', '000.png'), secret);
});

/** A VisA copy whose first training row's image is `image`. */
async function visaWithRow(image: string): Promise<string> {
  const dir = join(root, `visa${copies++}`);
  await cp(visa, dir, { recursive: true });
  const csv = join(dir, 'split_csv', '1cls.csv');
  const lines = (await readFile(csv, 'utf8')).trimEnd().split('\n');
  const cells = lines[1].split(',');
  cells[3] = image;
  lines[1] = cells.join(',');
  await writeFile(csv, `${lines.join('\n')}\n`);
  return dir;
}

async function trainVisa(dir: string) {
  const out = join(root, `out${copies++}`);
  const r = await runBin(['train', '--data', dir, '--format', 'visa', ...TINY, '--epochs', '1', '--out', out]);
  return { r, out };
}

describe.skipIf(!binBuilt)('VisA split-file rows that leave the dataset root', () => {
  it.each([
    ['the literal ../../../../outside/secret.png', () => '../../../../outside/secret.png'],
    ['a ../ path that reaches a real file', (dir: string) => relative(dir, secret)],
    ['an absolute path', () => secret],
  ])('%s: exit 3 naming the split file and line, nothing written', async (_name, row) => {
    const dir = join(root, `visa${copies}`);
    const data = await visaWithRow(row(dir));
    expect(data).toBe(dir);
    const { r, out } = await trainVisa(data);
    const { error, fix } = errorLines(r, 3);
    expect(error).toContain(`${join(data, 'split_csv', '1cls.csv')} line 2`);
    expect(error).toMatch(/outside the dataset root|absolute path/);
    expect(fix).toMatch(/relative to the root|inside the dataset root/);
    expect(existsSync(out)).toBe(false);
  });

  it('a row naming a symbolic link to a file outside: exit 3', async () => {
    const data = await visaWithRow('cloudy/link.png');
    await symlink(secret, join(data, 'cloudy', 'link.png'));
    const { r, out } = await trainVisa(data);
    const { error } = errorLines(r, 3);
    expect(error).toContain(join(data, 'cloudy', 'link.png'));
    expect(error).toMatch(/symbolic link to .*secret\.png, outside the dataset root/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!binBuilt)('MVTec and folder datasets: links out of the root', () => {
  it('MVTec: a training image linked to a file outside the root: exit 3 naming the link', async () => {
    const data = join(root, 'mvtec-link');
    await cp(mvtec, data, { recursive: true });
    const link = join(data, 'grid', 'train', 'good', 'zz.png');
    await symlink(secret, link);
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--out', join(root, 'out-mvtec-link')]);
    expect(errorLines(r, 3).error).toContain(`${link}: resolves through a symbolic link`);
  });

  it('folder: a --normal-dir image linked outside --normal-dir: exit 3', async () => {
    const good = join(root, 'folder-link', 'good');
    await cp(join(mvtec, 'grid', 'train', 'good'), good, { recursive: true });
    await symlink(secret, join(good, 'zz.png'));
    const r = await runBin(['train', '--normal-dir', good, ...TINY, '--out', join(root, 'out-folder-link')]);
    expect(errorLines(r, 3).error).toMatch(/outside the normal image folder \(--normal-dir\)/);
  });
});

describe.skipIf(!binBuilt)('folder datasets whose folders overlap', () => {
  const good = () => join(mvtec, 'grid', 'train', 'good');
  it.each([
    ['--normal-dir X --abnormal-dir X', () => ['--normal-dir', good(), '--abnormal-dir', good()], /--normal-dir .* and --abnormal-dir .* are the same folder/],
    ['--normal-test-dir X (the same as --normal-dir)', () => ['--normal-dir', good(), '--normal-test-dir', good()], /--normal-dir .* and --normal-test-dir .* are the same folder/],
    ['--abnormal-dir inside --normal-dir', () => ['--normal-dir', join(mvtec, 'grid', 'test'), '--abnormal-dir', join(mvtec, 'grid', 'test', 'good')], /--abnormal-dir .* is inside --normal-dir/],
    ['--mask-dir inside --normal-dir', () => ['--normal-dir', join(mvtec, 'grid'), '--abnormal-dir', join(mvtec, 'elsewhere'), '--mask-dir', join(mvtec, 'grid', 'ground_truth')], /--mask-dir .* is inside --normal-dir/],
  ])('%s: exit 2 naming both flags', async (_name, flags, message) => {
    const out = join(root, `out-overlap${copies++}`);
    const r = await runBin(['train', ...flags(), ...TINY, '--out', out]);
    const { error, fix } = errorLines(r, 2);
    expect(error).toMatch(message);
    expect(fix).toMatch(/separate folders/);
    expect(`${error}\n${fix}`).not.toMatch(/normalDir|abnormalDir|maskDir/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!binBuilt)('fixes name CLI flags, not library options', () => {
  it('--test-fraction 2: exit 2 naming --test-fraction, not holdOut', async () => {
    const r = await runBin(['train', '--normal-dir', join(mvtec, 'grid', 'train', 'good'), ...TINY, '--test-fraction', '2', '--out', join(root, 'out-tf')]);
    const { error, fix } = errorLines(r, 2);
    expect(error).toContain('--test-fraction 2');
    expect(fix).toMatch(/--test-fraction 0\.2/);
    expect(r.stderr).not.toMatch(/holdOut/);
  });

  it('a missing mask: exit 3 with the --allow-missing-masks fix for train and eval, and the flag then evaluates', async () => {
    const data = join(root, 'mvtec-nomask');
    await cp(mvtec, data, { recursive: true });
    const out = join(root, 'out-nomask');
    const trained = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', out, '--quiet']);
    expect(trained.code, trained.stderr.slice(-1500)).toBe(0);
    const gt = join(data, 'grid', 'ground_truth');
    const { readdir } = await import('node:fs/promises');
    const type = (await readdir(gt))[0];
    await rm(join(gt, type, (await readdir(join(gt, type)))[0]));
    const train = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', join(root, 'out-nomask2')]);
    const t = errorLines(train, 3);
    expect(t.error).toMatch(/anomalous test image has no mask/);
    expect(t.fix).toContain('--allow-missing-masks');
    expect(train.stderr).not.toMatch(/requireMasks/);
    const refused = await runBin(['eval', '--model', out, '--workers', '1']);
    expect(errorLines(refused, 3).fix).toContain('--allow-missing-masks');
    const evaluated = await runBin(['eval', '--model', out, '--workers', '1', '--gallery', '1', '--allow-missing-masks', '--quiet']);
    expect(evaluated.code, evaluated.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(out, 'report', 'metrics.json'), 'utf8'));
    expect(metrics.categories.grid.counts.anomalous).toBeGreaterThan(0);
  });
});
