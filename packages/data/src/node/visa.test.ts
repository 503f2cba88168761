import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/data-error.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { batches } from './batches.js';
import { generateDataset, type SyntheticManifest } from './generate-dataset.js';
import { loadVisa } from './visa.js';

const tmp = tempDir();
const pristine = join(tmp, 'visa');
const csv = (root: string) => join(root, 'split_csv', '1cls.csv');
let manifest: SyntheticManifest;
let copies = 0;

beforeAll(async () => {
  manifest = await generateDataset({ root: pristine, layout: 'visa', categories: ['cloudy', 'bracket'], trainCount: 4, testCount: 6, size: 48, seed: 5 });
});

/** A copy whose split file has `edit` applied to its lines (header first). */
function withCsv(edit: (lines: string[]) => string[]): string {
  const dir = join(tmp, `copy${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  const lines = readFileSync(csv(dir), 'utf8').trimEnd().split('\n');
  writeFileSync(csv(dir), `${edit(lines).join('\n')}\n`);
  return dir;
}

describe('loadVisa on a generated VisA-layout dataset', () => {
  it('reads the 1-class split: counts, labels, masks, upper-case .JPG', async () => {
    const ds = await loadVisa(pristine);
    expect(ds.format).toBe('visa');
    expect(ds.categories).toEqual(['bracket', 'cloudy']);
    for (const c of manifest.categories) {
      const test = ds.test.filter((s) => s.category === c.name);
      expect(ds.train.filter((s) => s.category === c.name)).toHaveLength(4);
      expect(test.filter((s) => s.label === 0)).toHaveLength(c.test.good);
      expect(test.filter((s) => s.label === 1)).toHaveLength(6 - c.test.good);
    }
    for (const s of [...ds.train, ...ds.test]) {
      expect(s.path.startsWith(join(pristine, s.category, 'Data', 'Images'))).toBe(true);
      expect(s.path.endsWith('.JPG')).toBe(true);
      expect(s.defectType).toBe(s.label ? 'anomaly' : 'good');
      expect(Boolean(s.maskPath)).toBe(s.label === 1);
    }
  });

  it('decodes its JPEG images and PNG masks into batches', async () => {
    const ds = await loadVisa(pristine, { categories: ['bracket'] });
    let withMask = 0;
    for await (const b of batches(ds.test, { batchSize: 3, resize: 32, crop: 32 })) {
      b.hasMask.forEach((has, k) => {
        if (!has) return;
        withMask++;
        expect(b.masks.subarray(k * 1024, (k + 1) * 1024).some((v) => v === 1)).toBe(true);
      });
    }
    expect(withMask).toBe(4);
  });

  it('filters objects and names an unknown one', async () => {
    expect((await loadVisa(pristine, { categories: ['cloudy'] })).train.every((s) => s.category === 'cloudy')).toBe(true);
    expect((await errorOf(loadVisa(pristine, { categories: ['candle'] }))).message).toMatch(/category "candle" is not in the dataset.*Available categories: bracket, cloudy/);
  });
});

describe('loadVisa on bad input', () => {
  it('a missing split file', async () => {
    const e = await errorOf(loadVisa(join(tmp, 'nowhere')));
    expect(e.code).toBe('not-found');
    expect(e.message).toMatch(/1cls\.csv: the VisA split file does not exist/);
  });

  it('a missing column', async () => {
    const dir = withCsv((lines) => lines.map((l) => l.split(',').slice(0, 4).join(',')));
    expect((await errorOf(loadVisa(dir))).message).toMatch(/1cls\.csv: lacks the column\(s\) mask/);
  });

  it('an anomalous row without a mask, naming the image and the line', async () => {
    const dir = withCsv((lines) => lines.map((l) => (l.includes(',anomaly,') && !l.includes('DONE') ? l.replace(/,[^,]*$/, ',') : l)));
    const e = await errorOf(loadVisa(dir));
    expect(e.code).toBe('missing-mask');
    expect(e.message).toMatch(/Anomaly.000\.JPG: anomalous test image has no mask \(.*1cls\.csv line \d+ has an empty mask column\)/);
    // requireMasks: false keeps them for image-level evaluation.
    const ds = await loadVisa(dir, { requireMasks: false });
    const anomalies = ds.test.filter((s) => s.label === 1);
    expect(anomalies.length).toBeGreaterThan(0);
    expect(anomalies.every((s) => s.maskPath === undefined)).toBe(true);
  });

  it('a referenced file that does not exist', async () => {
    const dir = withCsv((l) => l);
    const gone = join(dir, 'cloudy', 'Data', 'Images', 'Normal', '0001.JPG');
    rmSync(gone);
    const e = await errorOf(loadVisa(dir));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain(`${gone}: (from ${csv(dir)} line 3) does not exist`);
  });

  it('a bad label or split, and anomalies in the training split', async () => {
    expect((await errorOf(loadVisa(withCsv((l) => l.map((x, i) => (i === 1 ? x.replace(',normal,', ',ok,') : x)))))).message).toMatch(/line 2: label is "ok"/);
    expect((await errorOf(loadVisa(withCsv((l) => l.map((x, i) => (i === 1 ? x.replace(',train,', ',val,') : x)))))).message).toMatch(/line 2: split is "val"/);
    const e = await errorOf(loadVisa(withCsv((l) => l.map((x) => (x.includes(',test,anomaly,') ? x.replace(',test,', ',train,') : x)))));
    expect(e.message).toMatch(/an anomalous image is in the training split/);
  });
});
