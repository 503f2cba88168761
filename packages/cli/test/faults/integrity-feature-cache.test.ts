/**
 * Faults: training images replaced in place between runs. The feature cache used to be keyed on
 * paths only, so a rerun trained on the features of the old images ("using cached features of
 * 16 images"). Now each image is keyed on its size, mtime and sha256: replaced files are
 * extracted again, even when the new file has the same size and modification time.
 */
import { readdir, readFile, rm, stat, utimes, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binBuilt, jsonLines, runBin } from '../bin-helpers.js';
import { tinyDataset, trainTiny } from './integrity-helpers.js';

let root: string;
let data: string;
let other: string;
const good = (d: string) => join(d, 'grid', 'train', 'good');

/** Re-encode a PNG without compression: same-sized images then give same-sized files. */
async function storedPng(from: string, to: string): Promise<void> {
  await writeFile(to, await sharp(await readFile(from)).png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer());
}

const resume = (run: string, epochs: number) => runBin(['train', '--out', run, '--resume', '--epochs', String(epochs), '--workers', '1', '--json']);
const messages = (stdout: string) => jsonLines(stdout).map((e) => String(e.message ?? ''));

describe.skipIf(!binBuilt)('integrity faults: the feature cache follows file contents', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-integrity-features-'));
    data = await tinyDataset(root, 1);
    other = await tinyDataset(join(root, 'other'), 7);
    for (const f of await readdir(good(data))) await storedPng(join(good(data), f), join(good(data), f));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('unchanged images reuse the cache; images replaced in place (same size and mtime) are extracted again', async () => {
    const run = join(root, 'run');
    await trainTiny(data, run, ['--epochs', '1']);
    const cfg = JSON.parse(await readFile(join(run, 'features', 'features.json'), 'utf8'));
    // The 8 normal images less the validation split (held out by the demo preset's --val-fraction 0.1).
    const n: number = JSON.parse(await readFile(join(run, 'validation.json'), 'utf8')).train;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(8);
    expect(cfg.meta.files).toHaveLength(n);
    expect(cfg.meta.files[0]).toMatchObject({ size: expect.any(Number), mtimeMs: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const same = await resume(run, 2);
    expect(same.code, same.stderr).toBe(0);
    expect(messages(same.stdout)).toContain(`using cached features of ${n} images from ${join(run, 'features')}`);

    // Replace every training image with another one of the same size, keeping its mtime.
    const names = (await readdir(good(data))).sort();
    for (const [i, f] of names.entries()) {
      const target = join(good(data), f);
      const { atime, mtime, size } = await stat(target);
      await storedPng(join(good(other), (await readdir(good(other))).sort()[i]), target);
      expect((await stat(target)).size).toBe(size);
      await utimes(target, atime, mtime);
    }
    const changed = await resume(run, 3);
    expect(changed.code, changed.stderr).toBe(0);
    const said = messages(changed.stdout);
    expect(said.some((m) => m.startsWith('using cached features'))).toBe(false);
    expect(said.some((m) => new RegExp(`does not match this run \\(${n} of ${n} training images changed since it was made \\(e\\.g\\. .*\\.png\\)\\): extracting again`).test(m))).toBe(true);
    expect(jsonLines(changed.stdout).some((e) => e.event === 'features' && e.images === n)).toBe(true);
    const after = JSON.parse(await readFile(join(run, 'features', 'features.json'), 'utf8'));
    expect(after.meta.files.map((f: { sha256: string }) => f.sha256)).not.toEqual(cfg.meta.files.map((f: { sha256: string }) => f.sha256));
  });
});
