import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { claimDemoFolder } from '../../src/commands/demo.js';
import { listFiles, OWNER_FILE, readOwner, recordFiles, removeFiles, writeOwner } from '../../src/owned-folder.js';
import { discardUnstartedRun, existingRunFiles } from '../../src/run-dir.js';
import { binBuilt, runBin } from '../bin-helpers.js';
import { errorLines, snapshot, tempFolder, TINY } from './fault-helpers.js';

/*
 * Faults: output folders that hold the user's files. rlr must refuse them before writing, and
 * remove only what it wrote itself.
 */
let root: string;
let data: string;
/** A real run folder trained once (the user's, in these tests). */
let trained: string;

beforeAll(async () => {
  root = await tempFolder('runs');
  data = join(root, 'data');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 4, testCount: 2, size: 64, seed: 1 });
  if (!binBuilt) return;
  trained = join(root, 'trained');
  const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', trained, '--quiet']);
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
});

/** A folder that looks like a run to a careless eye but is the user's: no run.json. */
async function userFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'model'), { recursive: true });
  await mkdir(join(dir, 'features'), { recursive: true });
  await writeFile(join(dir, 'history.json'), '[{"note": "my own history"}]\n');
  await writeFile(join(dir, 'model', 'config.json'), '{"mine": true}\n');
  await writeFile(join(dir, 'model', 'weights.safetensors'), 'my weights');
  await writeFile(join(dir, 'features', 'features.json'), '{"mine": true}\n');
  return dir;
}

describe.skipIf(!binBuilt)('rlr demo --out a folder of the user', () => {
  it('refuses P holding a trained run with notes and P/data/wood with files: exit 2, nothing changed', async () => {
    const p = join(root, 'P');
    await cp(trained, join(p, 'run'), { recursive: true });
    await writeFile(join(p, 'run', 'notes.md'), 'my notes on this run\n');
    await mkdir(join(p, 'data', 'wood'), { recursive: true });
    await writeFile(join(p, 'data', 'wood', 'mine.png'), 'my picture');
    const before = await snapshot(p);
    const r = await runBin(['demo', '--out', p, '--workers', '1']);
    const { error, fix } = errorLines(r, 2);
    expect(error).toContain(`--out ${p} already holds files that rlr demo did not write`);
    expect(fix).toMatch(/rlr demo --out /);
    expect(await snapshot(p)).toEqual(before);
  });
});

describe('demo folders: only what an earlier demo wrote is replaced', () => {
  it('accepts a new or empty folder and marks it; a folder of an earlier demo with only its files', async () => {
    const fresh = join(root, 'demo-fresh');
    expect((await claimDemoFolder(fresh)).kind).toBe('demo');
    expect((await readOwner(fresh))?.kind).toBe('demo');
    // An earlier demo: its files recorded in the marker.
    await mkdir(join(fresh, 'run'), { recursive: true });
    await writeFile(join(fresh, 'run', 'run.json'), '{}');
    await writeFile(join(fresh, 'report.md'), '# report');
    const record = { tool: 'rlr' as const, kind: 'demo' as const, version: 1 as const, created: 'x', files: await recordFiles(fresh, await listFiles(fresh)) };
    await writeOwner(fresh, record);
    expect((await claimDemoFolder(fresh)).files).toHaveLength(2);
  });

  it('refuses a demo folder with a file the demo did not write, or one changed since, naming it', async () => {
    const dir = join(root, 'demo-mixed');
    await mkdir(join(dir, 'data', 'wood'), { recursive: true });
    await writeFile(join(dir, 'data', 'wood', '000.png'), 'generated');
    await writeOwner(dir, { tool: 'rlr', kind: 'demo', version: 1, created: 'x', files: await recordFiles(dir, await listFiles(dir)) });
    await writeFile(join(dir, 'data', 'wood', 'mine.png'), 'the user put this here');
    await expect(claimDemoFolder(dir)).rejects.toThrow(`${join(dir, 'data', 'wood', 'mine.png')} was not written by rlr`);
    await removeFiles(dir, ['data/wood/mine.png']);
    await utimes(join(dir, 'data', 'wood', '000.png'), new Date(), new Date(2001, 1, 1));
    await expect(claimDemoFolder(dir)).rejects.toThrow(/000\.png changed since rlr wrote it/);
  });

  it('removeFiles deletes only the listed files and the folders they leave empty', async () => {
    const dir = join(root, 'remove');
    await mkdir(join(dir, 'run', 'model'), { recursive: true });
    await mkdir(join(dir, 'run', 'checkpoint'), { recursive: true });
    await writeFile(join(dir, 'run', 'model', 'w.bin'), 'ours');
    await writeFile(join(dir, 'run', 'checkpoint', 'c.bin'), 'ours');
    await writeFile(join(dir, 'run', 'notes.md'), 'theirs');
    await removeFiles(dir, ['run/model/w.bin', 'run/checkpoint/c.bin', '../escape']);
    expect(await listFiles(dir)).toEqual(['run/notes.md']);
    expect(existsSync(join(dir, 'run', 'model'))).toBe(false);
  });
});

describe.skipIf(!binBuilt)('rlr train --out a folder that is not a run folder', () => {
  it('refuses a folder with history.json, model/ and features/ but no run.json: exit 2, nothing overwritten', async () => {
    const f = await userFolder('F');
    const before = await snapshot(f);
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', f]);
    const { error, fix } = errorLines(r, 2);
    expect(error).toContain(`--out ${f} already holds files and is not a run folder`);
    expect(fix).toMatch(/pass another --out/);
    expect(await snapshot(f)).toEqual(before);
  });

  it('the same folder with a dataset that fails to load: refused first, nothing deleted', async () => {
    const f = await userFolder('F-bad-data');
    const before = await snapshot(f);
    const r = await runBin(['train', '--data', join(root, 'no-such-data'), '--format', 'mvtec', ...TINY, '--out', f]);
    expect(r.code).not.toBe(0);
    expect(await snapshot(f)).toEqual(before);
  });

  it('a folder rlr created for a failed run, where the user then put a history.json: a failing rerun keeps it', async () => {
    const f = join(root, 'F-marked');
    await writeOwner(f, { tool: 'rlr', kind: 'run', version: 1, created: 'x' });
    await writeFile(join(f, 'history.json'), '[{"note": "mine"}]\n');
    const r = await runBin(['train', '--data', join(root, 'no-such-data'), '--format', 'mvtec', ...TINY, '--out', f]);
    errorLines(r, 3);
    expect(await readFile(join(f, 'history.json'), 'utf8')).toBe('[{"note": "mine"}]\n');
    expect(existsSync(join(f, 'run.json'))).toBe(false);
  });

  it('a dataset that fails to load leaves no folder behind for a new --out', async () => {
    const out = join(root, 'never');
    const r = await runBin(['train', '--data', join(root, 'no-such-data'), '--format', 'mvtec', ...TINY, '--out', out]);
    errorLines(r, 3);
    expect(existsSync(out)).toBe(false);
  });
});

describe('discardUnstartedRun', () => {
  it('removes the run.json and history.json the run wrote, never ones that were there before', async () => {
    const dir = join(root, 'discard');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'history.json'), 'the user’s');
    const existed = existingRunFiles(dir);
    await writeFile(join(dir, 'run.json'), '{}'); // written by the run
    expect(await discardUnstartedRun(dir, existed)).toBe(true);
    expect(existsSync(join(dir, 'run.json'))).toBe(false);
    expect(await readFile(join(dir, 'history.json'), 'utf8')).toBe('the user’s');
    expect(existsSync(join(dir, OWNER_FILE))).toBe(false);
  });
});

describe.skipIf(!binBuilt)('--out inside the dataset, --epochs that train nothing', () => {
  it('refuses an --out inside --data (mvtec) or inside --normal-dir (folder), and eval --out inside the data: exit 2', async () => {
    const before = await snapshot(data);
    const inMvtec = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--out', join(data, 'grid', 'run')]);
    expect(errorLines(inMvtec, 2).error).toContain(`is inside the dataset (--data ${data})`);
    const good = join(data, 'grid', 'train', 'good');
    const inFolder = await runBin(['train', '--normal-dir', good, ...TINY, '--out', join(good, 'run')]);
    const { error, fix } = errorLines(inFolder, 2);
    expect(error).toContain(`(--normal-dir ${good})`);
    expect(fix).toMatch(/pass a --out outside/);
    const report = await runBin(['eval', '--model', trained, '--out', join(data, 'report'), '--workers', '1']);
    expect(errorLines(report, 2).error).toContain('is inside the dataset');
    expect(await snapshot(data)).toEqual(before);
  });

  it.each([['0'], ['-1'], ['1.5']])('--epochs %s: exit 2 naming --epochs, nothing saved', async (epochs) => {
    const out = join(root, `epochs${epochs}`);
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', epochs, '--out', out]);
    const { error, fix } = errorLines(r, 2);
    expect(error).toContain('--epochs');
    expect(fix).toMatch(/--epochs 1|--epochs 10/);
    expect(existsSync(out)).toBe(false);
  });
});
