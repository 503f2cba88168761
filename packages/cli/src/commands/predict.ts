import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { WorkerPool } from '@rlr/core/node';
import type { ImageBatch, Sample } from '@rlr/data';
import { batches, isImageName } from '@rlr/data/node';
import { writeFileAtomic } from '../atomic-write.js';
import { initBackend, parseBackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { classifyError, dataError, usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { formatTable } from '../format.js';
import { encodePng, overlay, rangeOf, type MapRange } from '../heatmap.js';
import type { Logger } from '../log.js';
import { validateMetricsReport, type MetricsReport } from '../metrics-report.js';
import { readManifest, runPath } from '../run-dir.js';
import { openScorer, type Scorer } from '../scorer.js';
import { parseWorkers, startWorkers } from '../workers.js';
import { parseCount } from '../settings.js';

/** One line of predictions.jsonl. */
export interface PredictionLine {
  path: string;
  score: number | null;
  /** 1 anomalous, 0 normal, null without a threshold or when the image failed. */
  label: 0 | 1 | null;
  threshold: number | null;
  heatmap: string | null;
  error?: string;
}

/** Image files named by `inputs` (files, or folders searched recursively), sorted, deduplicated. */
export async function collectImages(inputs: string[], cwd: string): Promise<string[]> {
  const out = new Set<string>();
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && isImageName(e.name)) out.add(p);
    }
  }
  for (const input of inputs) {
    const p = resolve(cwd, input);
    let st;
    try {
      st = await stat(p);
    } catch {
      throw dataError(`${p} does not exist`, 'pass image files or folders that exist');
    }
    if (st.isDirectory()) await walk(p);
    else out.add(p);
  }
  return [...out].sort();
}

/** The threshold: `--threshold`, else the pooled F1-max threshold of the run's latest eval report. */
async function findThreshold(flag: unknown, runDir: string, log: Logger): Promise<{ value: number | null; source: string }> {
  if (flag !== undefined) {
    const v = Number(flag);
    if (!Number.isFinite(v)) throw usageError(`--threshold: "${String(flag)}" is not a number`, 'pass a score, e.g. --threshold 1.5');
    return { value: v, source: '--threshold' };
  }
  const report = (await readManifest(runDir)).report ?? runPath(runDir, 'report');
  const file = join(report, 'metrics.json');
  if (!existsSync(file)) {
    log.warn(`no threshold: ${file} does not exist, so images get a score but no label (run \`rlr eval --model ${runDir}\` first, or pass --threshold)`);
    return { value: null, source: 'none' };
  }
  const doc = JSON.parse(await readFile(file, 'utf8')) as MetricsReport;
  const problems = validateMetricsReport(doc);
  const t = doc.pooled?.image?.threshold;
  if (problems.length > 0 || typeof t !== 'number') {
    log.warn(`ignoring ${file}: ${problems[0] ?? 'it has no pooled threshold'}; pass --threshold`);
    return { value: null, source: 'none' };
  }
  return { value: t, source: file };
}

function overlayName(path: string, used: Set<string>): string {
  const stem = basename(path, extname(path)).replace(/[^a-zA-Z0-9._-]+/g, '_');
  let name = `${stem}_overlay.png`;
  for (let k = 2; used.has(name); k++) name = `${stem}_${k}_overlay.png`;
  used.add(name);
  return name;
}

/** Score one decoded batch and write its lines (and overlays). */
async function handleBatch(scorer: Scorer, b: ImageBatch, ctx: { outDir: string; heatmaps: boolean; threshold: number | null; used: Set<string> }): Promise<PredictionLine[]> {
  const r = await scorer.score(b);
  const px = b.height * b.width;
  const lines: PredictionLine[] = [];
  for (const [i, s] of b.samples.entries()) {
    const score = r.scores[i];
    let heatmap: string | null = null;
    if (ctx.heatmaps) {
      const map = r.maps.subarray(i * px, (i + 1) * px);
      // With a threshold, one fixed scale for all images: below half the threshold stays clear,
      // 1.5x the threshold and above is full red. Without one, each image uses its own range.
      const range: MapRange = ctx.threshold !== null ? { min: 0.5 * ctx.threshold, max: 1.5 * ctx.threshold } : rangeOf(map);
      heatmap = join(ctx.outDir, overlayName(s.path, ctx.used));
      await writeFileAtomic(heatmap, await encodePng(overlay(b.images.subarray(i * px * 3, (i + 1) * px * 3), map, range), b.height, b.width));
    }
    lines.push({ path: s.path, score, label: ctx.threshold === null ? null : score >= ctx.threshold ? 1 : 0, threshold: ctx.threshold, heatmap });
  }
  return lines;
}

/** `rlr predict`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command, args: string[]): Promise<ExitCodeValue> {
  const runDir = resolve(ctx.cwd, String(opts.model));
  const outDir = resolve(ctx.cwd, (opts.out as string | undefined) ?? 'predictions');
  const batchSize = opts.batchSize === undefined ? 8 : Math.max(1, parseCount(opts.batchSize, '--batch-size'));
  const files = await collectImages(args, ctx.cwd);
  if (files.length === 0) throw dataError(`no images found in ${args.join(', ')}`, 'pass image files (png, jpg, bmp, tif, webp) or folders holding them');
  const backend = await initBackend(parseBackendName(opts.backend as string | undefined));
  ctx.log.info(`backend: ${backend}; ${files.length} image(s)`);
  const workers = parseWorkers(opts.workers);
  const pool = await startWorkers(backend, workers, ctx.log);
  try {
    return await predictWith(runDir, outDir, batchSize, files, opts, ctx, pool);
  } finally {
    await pool?.close();
  }
}

/** {@link run} once the backend and the workers (if any) are up. */
async function predictWith(runDir: string, outDir: string, batchSize: number, files: string[], opts: Record<string, unknown>, ctx: CommandContext, pool: WorkerPool | undefined): Promise<ExitCodeValue> {
  const scorer = await openScorer(runDir, { weights: opts.weights as string | undefined, offline: Boolean(opts.offline), cacheDir: opts.cacheDir as string | undefined, cwd: ctx.cwd, log: ctx.log, pool });
  const lines: PredictionLine[] = [];
  let threshold: { value: number | null; source: string } = { value: null, source: 'none' };
  try {
    threshold = await findThreshold(opts.threshold, runDir, ctx.log);
    const { resize, crop } = scorer.geometry;
    const samples: Sample[] = files.map((path) => ({ path, category: 'predict', label: 0, defectType: 'unknown' }));
    const hctx = { outDir, heatmaps: opts.heatmaps !== false, threshold: threshold.value, used: new Set<string>() };
    const task = ctx.log.progress('predict', samples.length, 'img');
    for (let start = 0; start < samples.length; start += batchSize) {
      const chunk = samples.slice(start, start + batchSize);
      let got: PredictionLine[];
      try {
        got = [];
        for await (const b of batches(chunk, { batchSize, resize, crop, prefetch: 0 })) got.push(...(await handleBatch(scorer, b, hctx)));
      } catch {
        // Find the unreadable image(s) of this batch one by one; the rest are still scored.
        got = [];
        for (const s of chunk) {
          try {
            for await (const b of batches([s], { batchSize: 1, resize, crop })) got.push(...(await handleBatch(scorer, b, hctx)));
          } catch (e) {
            const { message } = classifyError(e);
            ctx.log.warn(`cannot read ${s.path}: ${message}`);
            got.push({ path: s.path, score: null, label: null, threshold: threshold.value, heatmap: null, error: message });
          }
        }
      }
      for (const l of got) ctx.log.event('prediction', { ...l });
      lines.push(...got);
      task.tick(chunk.length);
    }
    task.done();
  } finally {
    await scorer.dispose();
  }
  const jsonl = join(outDir, 'predictions.jsonl');
  await writeFileAtomic(jsonl, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const failed = lines.filter((l) => l.error !== undefined);
  const anomalous = lines.filter((l) => l.label === 1).length;
  const shown = lines.slice(0, 40);
  const text = [
    formatTable(
      ['image', 'score', 'label'],
      shown.map((l) => [l.path, l.score === null ? '-' : l.score.toPrecision(4), l.error ? 'unreadable' : l.label === null ? '?' : l.label ? 'ANOMALOUS' : 'normal']),
    ),
    lines.length > shown.length ? `… and ${lines.length - shown.length} more in ${jsonl}` : '',
    threshold.value === null ? 'threshold: none (scores only)' : `threshold: ${threshold.value.toPrecision(4)} (${threshold.source})`,
    `${lines.length} image(s): ${anomalous} anomalous, ${lines.length - anomalous - failed.length} normal or unlabelled, ${failed.length} unreadable`,
    `predictions: ${jsonl}`,
  ]
    .filter(Boolean)
    .join('\n');
  ctx.log.result(text, { predictions: jsonl, images: lines.length, anomalous, failed: failed.length, threshold: threshold.value, threshold_source: threshold.source });
  if (failed.length > 0) {
    ctx.log.error(`error: ${failed.length} image(s) could not be read (listed in ${jsonl} with "error")\n  fix: replace or remove the unreadable files`);
    return ExitCode.data;
  }
  return ExitCode.ok;
}
