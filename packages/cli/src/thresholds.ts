/**
 * The anomaly-score threshold `rlr predict` labels images with: `--threshold`; else, in pooled mode
 * (the default), the image threshold of the model's post-processor (`model/postprocessor.json`,
 * fitted by `rlr train` on held-out validation normals, never on test images). Only
 * `--threshold-mode category`, and models without a post-processor (imported weights), use the
 * F1-max thresholds of the run's latest `rlr eval` report (metrics.json): those are computed on
 * the **test** set, an oracle figure, and predict says so. In category mode each image gets the
 * threshold of its category, from `--category` or the dataset layout.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { PostProcessor } from '@rlr/engine';
import { usageError } from './errors.js';
import type { Logger } from './log.js';
import { validateMetricsReport, type MetricsReport } from './metrics-report.js';

/** How `rlr predict` picks a threshold from the eval report. */
export type ThresholdMode = 'pooled' | 'category';

export const THRESHOLD_MODES: readonly ThresholdMode[] = ['pooled', 'category'];

/** The threshold one image is labelled with. */
export interface ImageThreshold {
  value: number | null;
  /** The category whose threshold it is; null for the pooled one, `--threshold` or none. */
  category: string | null;
}

/** Picks each image's threshold; built by {@link thresholdPicker}. */
export interface ThresholdPicker {
  mode: ThresholdMode;
  /** Where the thresholds come from: `--threshold`, a postprocessor.json or metrics.json path, or `none`. */
  source: string;
  /** The pooled (or `--threshold`) value: every image's threshold in pooled mode, the fallback in category mode. */
  pooled: number | null;
  /** Per-category thresholds of the report (category mode). */
  categories: Record<string, number>;
  /** The threshold of the image at `path`. */
  pick(path: string): ImageThreshold;
}

/** What the picker is built from. */
export interface ThresholdOptions {
  /** `--threshold` as typed. */
  flag?: unknown;
  /** `--threshold-mode` as typed (default pooled; `--category` implies category). */
  mode?: unknown;
  /** `--category` as typed: every image belongs to it. */
  category?: unknown;
  /** The eval report folder (run.json's `report`, else `<run>/report`). */
  reportDir: string;
  /** Dataset roots whose first level is the category (mvtec and visa layouts). */
  datasetRoots: string[];
  runDir: string;
  log: Logger;
  /** The model's post-processor and its file (null: the model folder has none). */
  postProcessor?: { file: string; value: PostProcessor } | null;
}

/**
 * The category of an image from the dataset layout: the first folder below a dataset root
 * (`<root>/<category>/test/<type>/x.png`, VisA's `<root>/<object>/Data/…`), else the nearest
 * enclosing folder named like one of `categories`, else the only category when there is one.
 */
export function categoryFromPath(path: string, categories: ReadonlySet<string>, datasetRoots: readonly string[]): string | undefined {
  for (const root of datasetRoots) {
    const rel = relative(root, path);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
      const first = rel.split(sep)[0];
      if (categories.has(first)) return first;
    }
  }
  for (let dir = dirname(path); ; ) {
    if (categories.has(basename(dir))) return basename(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return categories.size === 1 ? [...categories][0] : undefined;
}

/** A valid metrics.json of `reportDir`, or null (with a warning saying why). */
async function readReport(reportDir: string, runDir: string, log: Logger): Promise<{ file: string; doc: MetricsReport } | null> {
  const file = join(reportDir, 'metrics.json');
  if (!existsSync(file)) {
    log.warn(`no threshold: ${file} does not exist, so images get a score but no label (run \`rlr eval --model ${runDir}\` first, or pass --threshold)`);
    return null;
  }
  let doc: MetricsReport;
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as MetricsReport;
  } catch (e) {
    log.warn(`ignoring ${file}: it is not JSON (${(e as Error).message}); pass --threshold`);
    return null;
  }
  const problems = validateMetricsReport(doc);
  if (problems.length > 0 || typeof doc.pooled?.image?.threshold !== 'number') {
    log.warn(`ignoring ${file}: ${problems[0] ?? 'it has no pooled threshold'}; pass --threshold`);
    return null;
  }
  return { file, doc };
}

function parseMode(mode: unknown, category: unknown): ThresholdMode {
  if (mode === undefined) return category === undefined ? 'pooled' : 'category';
  if (!(THRESHOLD_MODES as readonly unknown[]).includes(mode)) {
    throw usageError(`--threshold-mode: "${String(mode)}" is not a mode`, `use ${THRESHOLD_MODES.join(' or ')}`);
  }
  if (mode === 'pooled' && category !== undefined) {
    throw usageError('--category picks a per-category threshold, but --threshold-mode is pooled', 'drop --category, or use --threshold-mode category');
  }
  return mode as ThresholdMode;
}

/**
 * Build the threshold picker of `rlr predict`. In category mode an image whose category is not
 * known (no `--category`, a path outside the dataset layout, a category the report lacks) gets the
 * pooled threshold; `pick` reports that with `category: null`.
 * @throws usage errors for a bad `--threshold`, `--threshold-mode`, `--category`, or a combination
 *   that cannot be honoured
 */
export async function thresholdPicker(o: ThresholdOptions): Promise<ThresholdPicker> {
  const mode = parseMode(o.mode, o.category);
  if (o.flag !== undefined) {
    const v = Number(o.flag);
    if (!Number.isFinite(v)) throw usageError(`--threshold: "${String(o.flag)}" is not a number`, 'pass a score, e.g. --threshold 1.5');
    if (mode === 'category') throw usageError('--threshold sets one threshold for every image, so there is nothing to pick per category', 'drop --threshold to use the per-category thresholds of the eval report, or drop --threshold-mode category / --category');
    return { mode, source: '--threshold', pooled: v, categories: {}, pick: () => ({ value: v, category: null }) };
  }
  if (mode === 'pooled' && o.postProcessor) {
    const v = o.postProcessor.value.imageThreshold;
    return { mode, source: o.postProcessor.file, pooled: v, categories: {}, pick: () => ({ value: v, category: null }) };
  }
  const report = await readReport(o.reportDir, o.runDir, o.log);
  if (report) {
    o.log.warn(
      `${mode === 'category' ? 'per-category thresholds' : 'threshold'} from ${report.file}: F1-max on the test set of the last rlr eval (an oracle figure, not a threshold fitted without the test images)${mode === 'pooled' ? `; the model folder has no ${'postprocessor.json'} (thresholds fitted on validation normals by rlr train --val-fraction): pass --threshold for labels that do not depend on the test set` : ''}`,
    );
  }
  if (!report) return { mode, source: 'none', pooled: null, categories: {}, pick: () => ({ value: null, category: null }) };
  const pooled = report.doc.pooled.image.threshold;
  if (mode === 'pooled') return { mode, source: report.file, pooled, categories: {}, pick: () => ({ value: pooled, category: null }) };

  const categories = Object.fromEntries(Object.entries(report.doc.categories).map(([name, c]) => [name, c.image.threshold]));
  const names = new Set(Object.keys(categories));
  let fixed: string | undefined;
  if (o.category !== undefined) {
    fixed = String(o.category);
    if (!names.has(fixed)) throw usageError(`--category ${fixed}: ${report.file} has no threshold for it`, `use one of ${[...names].join(', ')}, or leave --category out to take each image's category from its folder`);
  }
  return {
    mode,
    source: report.file,
    pooled,
    categories,
    pick(path) {
      const category = fixed ?? categoryFromPath(path, names, o.datasetRoots);
      return category === undefined ? { value: pooled, category: null } : { value: categories[category], category };
    },
  };
}
