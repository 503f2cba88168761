import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintChange, fingerprintImages } from './image-fingerprints.js';

describe('image fingerprints (feature cache keys)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rlr-fingerprints-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a file rewritten with other bytes of the same size and the same mtime is a change; untouched files are not', async () => {
    const [a, b] = [join(dir, 'a.png'), join(dir, 'b.png')];
    await writeFile(a, Buffer.alloc(100, 1));
    await writeFile(b, Buffer.alloc(50, 2));
    // A whole-second time: utimes takes Dates (ms) and some file systems round sub-ms parts.
    const when = new Date(1_700_000_000_000);
    await utimes(a, when, when);
    const before = await fingerprintImages([a, b]);
    expect(before.map((f) => f.size)).toEqual([100, 50]);
    expect(fingerprintChange(before, await fingerprintImages([a, b]))).toBeUndefined();
    await writeFile(a, Buffer.alloc(100, 3)); // same size…
    await utimes(a, when, when); // …and the same modification time
    const after = await fingerprintImages([a, b]);
    expect(after[0].mtimeMs).toBe(before[0].mtimeMs);
    expect(fingerprintChange(before, after)).toBe(`1 of 2 training images changed since it was made (e.g. ${a})`);
  });

  it('other lists, and caches written before fingerprints, never match', async () => {
    const one = await fingerprintImages([join(dir, 'b.png')]);
    expect(fingerprintChange(undefined, one)).toMatch(/without content fingerprints/);
    expect(fingerprintChange([...one, ...one], one)).toMatch(/holds 2 images, this run has 1/);
  });
});
