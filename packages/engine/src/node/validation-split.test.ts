import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sample } from '@rlr/data';
import { workPath } from './work-dir.js';
import { checkRecordedSplit, splitValidation, validationRecord, writeValidationRecord } from './validation-split.js';

const sample = (path: string, label: 0 | 1 = 0): Sample => ({ path, label, category: 'c' }) as Sample;

describe('validation split', () => {
  const train = Array.from({ length: 40 }, (_, i) => sample(`/d/train/${i}.png`));
  const test = [...Array.from({ length: 10 }, (_, i) => sample(`/d/test/good/${i}.png`)), sample('/d/test/bad/0.png', 1)];

  it('holds out a seeded fraction of the training normals, disjoint from what is trained on and from the test set', () => {
    const a = splitValidation(train, 0.1, 3407);
    expect(a.val).toHaveLength(4);
    expect(a.train).toHaveLength(36);
    const val = new Set(a.val.map((s) => s.path));
    expect(a.train.some((s) => val.has(s.path))).toBe(false);
    expect(test.some((s) => val.has(s.path))).toBe(false);
    expect(new Set([...a.train, ...a.val].map((s) => s.path)).size).toBe(40);
    // Same seed, same split; another seed, another one.
    expect(splitValidation(train, 0.1, 3407).val.map((s) => s.path)).toEqual(a.val.map((s) => s.path));
    expect(splitValidation(train, 0.1, 1).val.map((s) => s.path)).not.toEqual(a.val.map((s) => s.path));
    expect(splitValidation(train, 0.25, 3407).val).toHaveLength(10);
  });

  it('keeps at least one image on each side and says which flag to change otherwise', () => {
    expect(splitValidation(train.slice(0, 3), 0.1, 1).val).toHaveLength(1);
    expect(() => splitValidation(train.slice(0, 1), 0.5, 1)).toThrow(/--val-fraction 0.5 .* leaves none to train on/);
  });

  it('is recorded in the run folder and a different split on resume is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-val-'));
    try {
      const split = splitValidation(train, 0.1, 3407);
      const record = validationRecord(split, 0.1, 3407);
      await writeValidationRecord(dir, record);
      const stored = JSON.parse(await readFile(workPath(dir, 'validation'), 'utf8'));
      expect(stored).toEqual({ fraction: 0.1, seed: 3407, normals: 40, train: 36, images: split.val.map((s) => s.path) });
      await expect(checkRecordedSplit(dir, record)).resolves.toBeUndefined();
      const other = validationRecord(splitValidation(train, 0.1, 5), 0.1, 5);
      await expect(checkRecordedSplit(dir, other)).rejects.toThrow(/validation images recorded for this run differ/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
