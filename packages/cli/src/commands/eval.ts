import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { WorkerPool } from '@rlr/core/node';
import { initBackend, parseBackendName, type BackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { describeDataset, loadDataset } from '../dataset.js';
import { evaluateRun } from '../evaluate.js';
import { formatDuration, formatMetric, formatTable } from '../format.js';
import { usageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MetricsReport } from '../metrics-report.js';
import { PAPER_COLUMNS, paperNotes, paperRowCells, type PaperComparison } from '../paper-results.js';
import { checkOutsideData, readHistory, readManifest, runPath, writeManifest } from '../run-dir.js';
import { dataSettings, fileAndFlagSettings, runKind, type DataSettings } from '../run-settings.js';
import { writeComparison, type ComparedRun } from '../compare-report.js';
import { checkWritable } from '../paths.js';
import { ONNX_BACKEND, openRunScorer } from '../onnx-scorer.js';
import { runGeometry } from '../scorer.js';
import { scoringGeometry } from '../input-geometry.js';
import { parseDownloadTimeout } from '../weight-cache.js';
import { parseCount, type SettingValues } from '../settings.js';
import { parseWorkers, startWorkers, type WorkersOption } from '../workers.js';

/** The per-category summary table printed after an evaluation. */
export function metricsTable(m: MetricsReport): string {
  const rows = Object.entries(m.categories).map(([name, c]) => [
    name,
    c.counts.normal,
    c.counts.anomalous,
    formatMetric(c.image.auroc),
    formatMetric(c.image.ap),
    formatMetric(c.image.f1_max),
    formatMetric(c.pixel?.auroc),
    formatMetric(c.pixel?.aupro),
  ]);
  rows.push(['mean', '', '', formatMetric(m.mean.image.auroc), formatMetric(m.mean.image.ap), formatMetric(m.mean.image.f1_max), formatMetric(m.mean.pixel?.auroc), formatMetric(m.mean.pixel?.aupro)]);
  return formatTable(['category', 'normal', 'anomalous', 'I-AUROC', 'I-AP', 'I-F1max', 'P-AUROC', 'AU-PRO'], rows);
}

/** The paper comparison printed after an evaluation on MVTec AD or VisA (AUROC in percent). */
export function paperTable(p: PaperComparison): string {
  const rows = [...p.rows, p.mean].map((r) => [r.category, ...paperRowCells(r)]);
  return [
    `compared with the paper (${p.source}; ${p.protocol}; Δ = ours − paper):`,
    formatTable(['category', ...PAPER_COLUMNS], rows),
    ...paperNotes(p),
  ].join('\n');
}

/** Options shared by `rlr eval` and `rlr demo`. */
export interface EvalRunOptions {
  runDir: string;
  outDir: string;
  /** Dataset to evaluate on; default: the run's own. */
  data?: DataSettings;
  /** Seed of the dataset's hold-out split (folder format); default: the run's own. */
  seed?: number;
  /** `--allow-missing-masks` given to eval: applies to the run's own dataset too. */
  allowMissingMasks?: boolean;
  batchSize?: number;
  gallery?: number;
  saveHeatmaps?: boolean;
  weights?: string;
  offline: boolean;
  cacheDir?: string;
  /** Connect and idle timeout of a weights download (ms; `--download-timeout`). */
  downloadTimeoutMs?: number;
  cwd: string;
  log: Logger;
  signal?: AbortSignal;
  title?: string;
  /** The backend in use (from `initBackend`): the workers run the same one. */
  backend: BackendName;
  /** Worker threads for extraction and scoring (`--workers`; default auto). */
  workers?: WorkersOption;
  /** `--backend onnxruntime` (with `--onnx <file>`): score with the exported model instead of tfjs. */
  scoring?: { backend?: string; onnx?: string };
  /** `--resize-mode`, `--tile`, `--tile-stride`, `--tile-scale` given to eval (default: the run's). */
  inputFlags?: Record<string, unknown>;
}

/** Evaluate a run folder and write the reports; returns the metrics and file paths. */
export async function evalRun(o: EvalRunOptions) {
  const pool = o.scoring?.backend === ONNX_BACKEND ? undefined : await startWorkers(o.backend, o.workers ?? 'auto', o.log);
  try {
    return await evalWith(o, pool);
  } finally {
    await pool?.close();
  }
}

async function evalWith(o: EvalRunOptions, pool: WorkerPool | undefined) {
  if (!o.data && !(await readManifest(o.runDir)).data) {
    throw usageError(`${o.runDir} holds imported weights and no dataset to evaluate on`, 'pass the test data: rlr eval --model <run> --data <root> --format mvtec|visa (or --config <file>)');
  }
  const geometry = scoringGeometry(runGeometry(await readManifest(o.runDir)), o.inputFlags ?? {}, o.cwd, o.log);
  const scorer = await openRunScorer(o.runDir, o.scoring ?? {}, o.cwd, { geometry, weights: o.weights, offline: o.offline, cacheDir: o.cacheDir, cwd: o.cwd, log: o.log, pool, downloadTimeoutMs: o.downloadTimeoutMs, signal: o.signal });
  try {
    const chosen = (o.data ?? scorer.manifest.data)!;
    const data = o.allowMissingMasks === undefined ? chosen : { ...chosen, allowMissingMasks: o.allowMissingMasks };
    await checkOutsideData(o.outDir, data);
    const ds = await loadDataset(data, o.seed ?? scorer.manifest.train.seed, o.log);
    o.log.info(`evaluating on ${describeDataset(ds)}`);
    const notes: string[] = [];
    if (!scorer.backbone.pretrained) {
      notes.push(`The backbone (${scorer.manifest.model.backbone}) has no pretrained weights: it was randomly initialised and its BatchNorm statistics calibrated on training images. Results are lower than with ImageNet weights.`);
    }
    if (scorer.manifest.imported) notes.push(`The model's weights were imported from ${scorer.manifest.imported.name} (${scorer.manifest.imported.format}) with rlr import, not trained by rlr.`);
    if (scorer.manifest.status !== 'done') notes.push(`The run's training status is "${scorer.manifest.status}" (${scorer.manifest.epochsDone} of ${scorer.manifest.train.epochs} epochs).`);
    const result = await evaluateRun(scorer, ds, o.outDir, {
      batchSize: o.batchSize ?? 8,
      gallery: o.gallery ?? 4,
      saveHeatmaps: o.saveHeatmaps ?? false,
      log: o.log,
      signal: o.signal,
      notes,
      history: await readHistory(o.runDir),
      modelInfo: {
        run: o.runDir,
        // The thresholds predict labels with (fitted on validation normals), beside the report's oracle ones.
        ...(scorer.detector.postProcessor ? { post_processor: { source: scorer.detector.postProcessor.state.source, image_threshold: scorer.detector.postProcessor.imageThreshold, pixel_threshold: scorer.detector.postProcessor.pixelThreshold } } : {}),
      },
      title: o.title,
    });
    // Remember where the report went: predict's --threshold-mode category reads its (oracle) thresholds.
    await writeManifest(o.runDir, { ...(await readManifest(o.runDir)), report: o.outDir });
    return result;
  } finally {
    await scorer.dispose();
  }
}

/** The run folders of `--model` (given once or repeated). */
function modelDirs(value: unknown, cwd: string): string[] {
  const list = Array.isArray(value) ? value.map(String) : [String(value)];
  return list.map((d) => resolve(cwd, d));
}

/** Column names for runs: the folder names, numbered where two are equal. */
function uniqueNames(dirs: string[]): string[] {
  const seen = new Map<string, number>();
  return dirs.map((d) => {
    const base = basename(d) || 'run';
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base}-${k}`;
  });
}

/** Seconds a run spent training: the epochs of an RLR run, the bank build of a knn one. */
async function trainingSeconds(runDir: string): Promise<number | null> {
  const history = await readHistory(runDir);
  if (history.length > 0) return history.reduce((s, h) => s + h.seconds, 0);
  try {
    const cfg = JSON.parse(await readFile(join(runPath(runDir, 'model'), 'config.json'), 'utf8')) as { build?: { seconds?: number } };
    return typeof cfg.build?.seconds === 'number' ? cfg.build.seconds : null;
  } catch {
    return null;
  }
}

/** The {@link evalRun} options that come from the command line alike for one run and for a comparison. */
function evalFlagOptions(given: SettingValues, opts: Record<string, unknown>, ctx: CommandContext, backend: BackendName) {
  return {
    allowMissingMasks: given.allowMissingMasks,
    batchSize: given.batchSize,
    gallery: opts.gallery === undefined ? undefined : parseCount(opts.gallery, '--gallery'),
    saveHeatmaps: Boolean(opts.saveHeatmaps),
    weights: given.weights,
    offline: Boolean(opts.offline),
    cacheDir: opts.cacheDir as string | undefined,
    downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout),
    cwd: ctx.cwd,
    log: ctx.log,
    signal: ctx.signal,
    backend,
    workers: parseWorkers(opts.workers),
    scoring: { backend: given.backend, onnx: opts.onnx as string | undefined },
    inputFlags: { resizeMode: given.resizeMode, tile: given.tile, tileStride: given.tileStride, tileScale: given.tileScale },
  } satisfies Partial<EvalRunOptions>;
}

/** `rlr eval`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  const runDirs = modelDirs(opts.model, ctx.cwd);
  if (runDirs.length > 1) return compare(runDirs, opts, ctx, cmd);
  const runDir = runDirs[0];
  const given = await fileAndFlagSettings(cmd, ctx.cwd);
  const hasData = given.format !== undefined || given.data !== undefined || given.normalDir !== undefined;
  const backend = await initBackend(given.backend === ONNX_BACKEND ? 'auto' : parseBackendName(given.backend));
  ctx.log.info(`backend: ${given.backend === ONNX_BACKEND ? ONNX_BACKEND : backend}`);
  const outDir = given.out ?? runPath(runDir, 'report');
  await checkWritable(outDir, given.out ? '--out' : '--model');
  const result = await evalRun({
    runDir,
    outDir,
    data: hasData ? dataSettings(given, 'eval') : undefined,
    ...evalFlagOptions(given, opts, ctx, backend),
  });
  const m = result.metrics;
  const text = [
    '',
    metricsTable(m),
    '',
    ...(m.paper ? [paperTable(m.paper), ''] : []),
    `evaluated ${m.pooled.counts.normal + m.pooled.counts.anomalous} images in ${formatDuration(m.timing.total_s)} (${m.timing.ms_per_image.toFixed(0)} ms/image)`,
    `metrics: ${result.files.metrics}`,
    `report:  ${result.files.html}`,
  ].join('\n');
  ctx.log.result(text, { metrics: result.files.metrics, report_md: result.files.markdown, report_html: result.files.html, mean: m.mean, pooled: m.pooled, ...(m.paper ? { paper: m.paper } : {}) });
}

/**
 * `rlr eval --model <a> --model <b> …`: every run evaluated on the same test images (the first
 * run's data and hold-out seed unless --data … is given), each run's full report in
 * `<out>/<name>/`, and the side-by-side summary in `<out>` (default `<first run>/compare`).
 */
async function compare(runDirs: string[], opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  if (opts.onnx !== undefined) throw usageError('--onnx names one exported model, but several --model runs are compared', 'drop --onnx: with --backend onnxruntime each run is scored with its own <run-dir>/model.onnx');
  const given = await fileAndFlagSettings(cmd, ctx.cwd);
  const hasData = given.format !== undefined || given.data !== undefined || given.normalDir !== undefined;
  const manifests = await Promise.all(runDirs.map((d) => readManifest(d)));
  const data = hasData ? dataSettings(given, 'eval') : manifests[0].data;
  const seed = manifests[0].train.seed;
  const notes: string[] = [];
  manifests.forEach((m, i) => {
    if (i > 0 && (JSON.stringify(m.data) !== JSON.stringify(manifests[0].data) || m.train.seed !== seed)) {
      const msg = `${runDirs[i]} was trained with other data settings or another seed than ${runDirs[0]}: some of its training images may be among the test images here`;
      ctx.log.warn(msg);
      notes.push(msg);
    }
  });
  const backend = await initBackend(given.backend === ONNX_BACKEND ? 'auto' : parseBackendName(given.backend));
  ctx.log.info(`backend: ${given.backend === ONNX_BACKEND ? ONNX_BACKEND : backend}`);
  const outDir = given.out ?? join(runDirs[0], 'compare');
  const names = uniqueNames(runDirs);
  const runs: ComparedRun[] = [];
  for (const [i, runDir] of runDirs.entries()) {
    ctx.log.info(`evaluating ${runDir} (${runKind(manifests[i])})`);
    const report = join(outDir, names[i]);
    const result = await evalRun({
      runDir,
      outDir: report,
      data,
      seed,
      ...evalFlagOptions(given, opts, ctx, backend),
    });
    runs.push({ name: names[i], run: runDir, kind: runKind(manifests[i]), report, metrics: result.metrics, trainSeconds: await trainingSeconds(runDir) });
  }
  const categories = Object.keys(runs[0].metrics.categories);
  const files = await writeComparison(outDir, runs, `Comparison: ${names.join(' vs ')} on ${categories.join(', ')}`, notes);
  const rows = runs.map((r) => [
    r.name,
    r.kind,
    formatMetric(r.metrics.mean.image.auroc),
    formatMetric(r.metrics.mean.pixel?.auroc),
    formatMetric(r.metrics.mean.pixel?.aupro),
    r.metrics.timing.ms_per_image.toFixed(0),
  ]);
  const text = ['', formatTable(['run', 'model', 'I-AUROC', 'P-AUROC', 'AU-PRO', 'ms/img'], rows), '', `metrics: ${files.metrics}`, `report:  ${files.html}`].join('\n');
  ctx.log.result(text, {
    metrics: files.metrics,
    report_md: files.markdown,
    report_html: files.html,
    runs: runs.map((r) => ({ name: r.name, run: r.run, kind: r.kind, report: r.report, mean: r.metrics.mean, pooled: r.metrics.pooled })),
  });
}
