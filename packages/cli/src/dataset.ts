import type { AnomalyDataset, Sample } from '@rlr/data';
import { loadFolder, loadMvtec, loadVisa } from '@rlr/data/node';
import { asDataError, dataError, usageError } from './errors.js';
import type { Logger } from './log.js';
import type { DataSettings } from './run-settings.js';

/** Read a dataset's file lists with the loader of its format; skipped files become one warning. */
export async function loadDataset(d: DataSettings, seed: number, log: Logger): Promise<AnomalyDataset> {
  let ds: AnomalyDataset;
  try {
    ds = await readDataset(d, seed);
  } catch (e) {
    throw asCliDataError(e);
  }
  const { skipped } = ds;
  if (skipped.length > 0) {
    const examples = skipped.slice(0, 3).map((s) => `${s.path} (${s.reason})`).join('; ');
    log.warn(`skipped ${skipped.length} file(s) that are not part of the dataset: ${examples}${skipped.length > 3 ? '; …' : ''}`, { skipped: skipped.length });
  }
  return ds;
}

/** Library option names in @rlr/data's messages, and the `rlr` flags that set them. */
const FLAG_FOR_OPTION: [RegExp, string][] = [
  [/\b(?:load|loading) with requireMasks: false\b/g, 'pass --allow-missing-masks'],
  [/\brequireMasks: false\b/g, '--allow-missing-masks'],
  [/\bholdOut\b/g, '--test-fraction'],
  [/\bnormalTestDir\b/g, '--normal-test-dir'],
  [/\babnormalDir\b/g, '--abnormal-dir'],
  [/\bnormalDir\b/g, '--normal-dir'],
  [/\bmaskDir\b/g, '--mask-dir'],
  [/\bwith the categories option\b/g, 'with --categories'],
  [/\bthe categories option\b/g, '--categories'],
];

/** `text` with @rlr/data's option names replaced by the `rlr` flags. */
export function withFlagNames(text: string): string {
  return FLAG_FOR_OPTION.reduce((t, [re, flag]) => t.replace(re, flag), text);
}

/**
 * A loader's DataError as the CLI shows it: the fix in flag names (`--allow-missing-masks`, not
 * `requireMasks: false`); a bad option is a usage error. Anything else passes through.
 */
export function asCliDataError(e: unknown): unknown {
  const data = asDataError(e);
  if (!data) return e;
  const message = `${withFlagNames(data.subject)}: ${withFlagNames(data.problem)}`;
  const fix = withFlagNames(data.fix);
  return data.code === 'invalid-option' ? usageError(message, fix) : dataError(message, fix, e);
}

async function readDataset(d: DataSettings, seed: number): Promise<AnomalyDataset> {
  const requireMasks = !d.allowMissingMasks;
  switch (d.format) {
    case 'mvtec':
      return loadMvtec(d.root!, { categories: d.categories, requireMasks });
    case 'visa':
      return loadVisa(d.root!, { categories: d.categories, requireMasks });
    case 'folder':
      return loadFolder({
        root: d.root,
        normalDir: d.normalDir!,
        abnormalDir: d.abnormalDir,
        maskDir: d.maskDir,
        normalTestDir: d.normalTestDir,
        holdOut: d.testFraction,
        seed,
      });
  }
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
