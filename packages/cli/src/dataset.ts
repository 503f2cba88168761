import type { AnomalyDataset, Sample } from '@rlr/data';
import { loadFolder, loadMvtec, loadVisa } from '@rlr/data/node';
import { dataError } from './errors.js';
import type { Logger } from './log.js';
import type { DataSettings } from './run-settings.js';

/** Read a dataset's file lists with the loader of its format; skipped files become one warning. */
export async function loadDataset(d: DataSettings, seed: number, log: Logger): Promise<AnomalyDataset> {
  let ds: AnomalyDataset;
  switch (d.format) {
    case 'mvtec':
      ds = await loadMvtec(d.root!, { categories: d.categories });
      break;
    case 'visa':
      ds = await loadVisa(d.root!, { categories: d.categories });
      break;
    case 'folder':
      ds = await loadFolder({
        root: d.root,
        normalDir: d.normalDir!,
        abnormalDir: d.abnormalDir,
        maskDir: d.maskDir,
        normalTestDir: d.normalTestDir,
        holdOut: d.testFraction,
        seed,
      });
      break;
  }
  const { skipped } = ds;
  if (skipped.length > 0) {
    const examples = skipped.slice(0, 3).map((s) => `${s.path} (${s.reason})`).join('; ');
    log.warn(`skipped ${skipped.length} file(s) that are not part of the dataset: ${examples}${skipped.length > 3 ? '; …' : ''}`, { skipped: skipped.length });
  }
  return ds;
}

/** Training samples, failing clearly when there are none. */
export function trainSamples(ds: AnomalyDataset): Sample[] {
  if (ds.train.length === 0) throw dataError(`${ds.root}: no normal training images found`, 'check --data/--format (and --categories)');
  return ds.train;
}

/** Test samples grouped by category, in category order. */
export function testByCategory(ds: AnomalyDataset): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>(ds.categories.map((c) => [c, []]));
  for (const s of ds.test) {
    const list = out.get(s.category) ?? [];
    list.push(s);
    out.set(s.category, list);
  }
  for (const [c, list] of out) if (list.length === 0) out.delete(c);
  return out;
}

/** A short description: `3 categories, 120 train, 60 test (40 anomalous)`. */
export function describeDataset(ds: AnomalyDataset): string {
  const anomalous = ds.test.filter((s) => s.label === 1).length;
  return `${ds.categories.length} categor${ds.categories.length === 1 ? 'y' : 'ies'} (${ds.categories.join(', ')}), ${ds.train.length} train, ${ds.test.length} test (${anomalous} anomalous)`;
}
