import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { WorkerPool } from '@rlr/core/node';
import { initBackend, parseBackendName, type BackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { describeDataset, loadDataset } from '../dataset.js';
import { evaluateRun } from '../evaluate.js';
import { formatDuration, formatMetric, formatTable } from '../format.js';
import type { Logger } from '../log.js';
import type { MetricsReport } from '../metrics-report.js';
import { readHistory, readManifest, runPath, writeManifest } from '../run-dir.js';
import { dataSettings, fileAndFlagSettings, type DataSettings } from '../run-settings.js';
import { openScorer } from '../scorer.js';
import { parseDownloadTimeout } from '../weight-cache.js';
import { parseCount } from '../settings.js';
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

/** Options shared by `rlr eval` and `rlr demo`. */
export interface EvalRunOptions {
  runDir: string;
  outDir: string;
  /** Dataset to evaluate on; default: the run's own. */
  data?: DataSettings;
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
}

/** Evaluate a run folder and write the reports; returns the metrics and file paths. */
export async function evalRun(o: EvalRunOptions) {
  const pool = await startWorkers(o.backend, o.workers ?? 'auto', o.log);
  try {
    return await evalWith(o, pool);
  } finally {
    await pool?.close();
  }
}

async function evalWith(o: EvalRunOptions, pool: WorkerPool | undefined) {
  const scorer = await openScorer(o.runDir, { weights: o.weights, offline: o.offline, cacheDir: o.cacheDir, cwd: o.cwd, log: o.log, pool, downloadTimeoutMs: o.downloadTimeoutMs, signal: o.signal });
  try {
    const data = o.data ?? scorer.manifest.data;
    const ds = await loadDataset(data, scorer.manifest.train.seed, o.log);
    o.log.info(`evaluating on ${describeDataset(ds)}`);
    const notes: string[] = [];
    if (!scorer.backbone.pretrained) {
      notes.push(`The backbone (${scorer.manifest.model.backbone}) has no pretrained weights: it was randomly initialised and its BatchNorm statistics calibrated on training images. Results are lower than with ImageNet weights.`);
    }
    if (scorer.manifest.status !== 'done') notes.push(`The run's training status is "${scorer.manifest.status}" (${scorer.manifest.epochsDone} of ${scorer.manifest.train.epochs} epochs).`);
    const result = await evaluateRun(scorer, ds, o.outDir, {
      batchSize: o.batchSize ?? 8,
      gallery: o.gallery ?? 4,
      saveHeatmaps: o.saveHeatmaps ?? false,
      log: o.log,
      signal: o.signal,
      notes,
      history: await readHistory(o.runDir),
      modelInfo: { run: o.runDir },
      title: o.title,
    });
    // Remember where the report went: predict takes its threshold from the latest one.
    await writeManifest(o.runDir, { ...(await readManifest(o.runDir)), report: o.outDir });
    return result;
  } finally {
    await scorer.dispose();
  }
}

/** `rlr eval`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  const runDir = resolve(ctx.cwd, String(opts.model));
  const given = await fileAndFlagSettings(cmd, ctx.cwd);
  const hasData = given.format !== undefined || given.data !== undefined || given.normalDir !== undefined;
  const backend = await initBackend(parseBackendName(given.backend));
  ctx.log.info(`backend: ${backend}`);
  const outDir = given.out ?? runPath(runDir, 'report');
  const result = await evalRun({
    runDir,
    outDir,
    data: hasData ? dataSettings(given, 'eval') : undefined,
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
  });
  const m = result.metrics;
  const text = [
    '',
    metricsTable(m),
    '',
    `evaluated ${m.pooled.counts.normal + m.pooled.counts.anomalous} images in ${formatDuration(m.timing.total_s)} (${m.timing.ms_per_image.toFixed(0)} ms/image)`,
    `metrics: ${result.files.metrics}`,
    `report:  ${result.files.html}`,
  ].join('\n');
  ctx.log.result(text, { metrics: result.files.metrics, report_md: result.files.markdown, report_html: result.files.html, mean: m.mean, pooled: m.pooled });
}
