import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateDataset } from '@rlr/data/node';
import { parseBackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { InterruptedError, isInterrupted, usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { formatDuration, formatMetric } from '../format.js';
import { getPreset } from '../presets.js';
import { folderEntries, firstForeignFile, listFiles, OWNER_FILE, readOwner, recordFiles, removeFiles, writeOwner, type OwnerRecord } from '../owned-folder.js';
import { checkWritable } from '../paths.js';
import { checkEpochs } from '../run-settings.js';
import { parseCount, parseSetting } from '../settings.js';
import { parseWorkers } from '../workers.js';
import { evalRun, metricsTable } from './eval.js';
import { trainRun } from './train.js';

/** The generated dataset of the demo: small, multi-category, deterministic. */
export const DEMO_DATA = {
  categories: ['cloudy', 'bracket', 'wood'],
  trainCount: 30,
  testCount: 24,
  size: 128,
  seed: 7,
} as const;

/** Mean image AUROC the demo must reach. */
export const DEMO_MIN_AUROC = 0.9;

/**
 * Check that the demo may write into `out`, and mark it as a demo folder: `out` must be new,
 * empty, or the folder of an earlier `rlr demo` (its marker lists the files it wrote) holding
 * nothing else and nothing changed. Anything of the user's there stops the demo before it writes.
 * @returns the marker (its file list: what an earlier demo wrote, which this one may replace)
 */
export async function claimDemoFolder(out: string): Promise<OwnerRecord> {
  const at = await folderEntries(out);
  if (at.kind === 'file') throw usageError(`--out ${out} is a file, not a folder`, 'pass a folder for the demo, e.g. rlr demo --out ./rlr-demo');
  let owner: OwnerRecord | null = null;
  if (at.kind === 'folder' && at.entries.length > 0) {
    owner = await readOwner(out);
    if (owner?.kind !== 'demo') {
      const shown = at.entries.slice(0, 3).join(', ');
      throw usageError(
        `--out ${out} already holds files that rlr demo did not write (it holds ${shown}${at.entries.length > 3 ? ', …' : ''}, and no ${OWNER_FILE} of a demo)`,
        `pass a new or empty folder, e.g. rlr demo --out ${join(out, '..', 'rlr-demo-new')}; nothing in ${out} was changed`,
      );
    }
    const foreign = await firstForeignFile(out, owner.files ?? []);
    if (foreign) {
      throw usageError(
        `${foreign.path} ${foreign.why}${foreign.count > 1 ? ` (and ${foreign.count - 1} more file(s) in ${out})` : ''}: rlr demo replaces only the files it wrote`,
        `move your files out of ${out}, or pass another --out; nothing in ${out} was changed`,
      );
    }
  }
  const record: OwnerRecord = owner ?? { tool: 'rlr', kind: 'demo', version: 1, created: new Date().toISOString(), files: [] };
  await writeOwner(out, record);
  return record;
}

/** Record every file now in the demo folder as the demo's (all of them are: {@link claimDemoFolder} checked). */
async function recordDemoFiles(out: string, record: OwnerRecord): Promise<void> {
  await writeOwner(out, { ...record, files: await recordFiles(out, await listFiles(out)) });
}

/** `rlr demo`: generate → train → eval → report, offline. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<ExitCodeValue> {
  const out = resolve(ctx.cwd, (opts.out as string | undefined) ?? 'rlr-demo');
  const epochs = opts.epochs === undefined ? undefined : parseCount(opts.epochs, '--epochs');
  if (epochs !== undefined) checkEpochs(epochs);
  await checkWritable(out, '--out');
  const record = await claimDemoFolder(out);
  try {
    return await demo(out, record, epochs, opts, ctx);
  } finally {
    // Also after a failure or Ctrl-C: what this demo wrote is the next demo's to replace.
    await recordDemoFiles(out, record).catch((e: unknown) => ctx.log.warn(`could not record the demo's files in ${join(out, OWNER_FILE)} (${(e as Error).message}); a later rlr demo --out ${out} may refuse the folder`));
  }
}

async function demo(out: string, record: OwnerRecord, epochs: number | undefined, opts: Record<string, unknown>, ctx: CommandContext): Promise<ExitCodeValue> {
  const t0 = performance.now();
  const { log } = ctx;
  const dataDir = join(out, 'data');
  const runDir = join(out, 'run');
  const reportDir = join(out, 'report');

  // The generator is deterministic: reuse the data when the same options made it.
  const manifestPath = join(dataDir, 'manifest.json');
  const want = { categories: [...DEMO_DATA.categories], seed: DEMO_DATA.seed, height: DEMO_DATA.size, width: DEMO_DATA.size };
  let reuse = false;
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8')) as { seed: number; height: number; width: number; categories: { name: string; train: number }[] };
      reuse = m.seed === want.seed && m.height === want.height && m.width === want.width && m.categories.map((c) => c.name).join() === want.categories.join() && m.categories.every((c) => c.train === DEMO_DATA.trainCount);
    } catch {
      reuse = false; // unreadable: generate again (the file is the demo's own)
    }
  }
  if (!reuse) {
    log.info(`generating a synthetic dataset (${DEMO_DATA.categories.join(', ')}) in ${dataDir}`);
    const task = log.progress('generate data', 1, 'dataset');
    // Only the demo's own files are there (claimDemoFolder checked), so its category folders may go.
    await generateDataset({ root: dataDir, categories: DEMO_DATA.categories, trainCount: DEMO_DATA.trainCount, testCount: DEMO_DATA.testCount, size: DEMO_DATA.size, seed: DEMO_DATA.seed, overwrite: true });
    task.tick();
    task.done();
  } else {
    log.info(`reusing the generated dataset in ${dataDir}`);
  }
  const generateS = (performance.now() - t0) / 1000;

  // A demo run always trains from scratch: remove the files the previous demo wrote there.
  await removeFiles(out, (record.files ?? []).map((f) => f[0]).filter((f) => f.startsWith('run/')));
  const preset = getPreset('demo')!;
  if (epochs !== undefined) preset.train.epochs = epochs;
  const weights = opts.weights as string | undefined;
  const workers = parseWorkers(opts.workers);
  const outcome = await demoTraining(() => trainRun(
    { preset: 'demo', data: { root: dataDir, format: 'mvtec' }, model: preset.model, train: preset.train, weights: weights === undefined ? undefined : (parseSetting('weights', weights, '--weights', ctx.cwd) as string) },
    {
      runDir,
      resume: false,
      backend: parseBackendName(opts.backend as string | undefined),
      offline: true,
      cacheDir: opts.cacheDir as string | undefined,
      checkpointEvery: 0,
      cwd: ctx.cwd,
      log,
      signal: ctx.signal,
      allowRandomFallback: true,
      workers,
    },
  ));
  outcome.model.dispose();
  outcome.backbone.extractor.dispose();

  const result = await evalRun({ runDir, outDir: reportDir, offline: true, cacheDir: opts.cacheDir as string | undefined, cwd: ctx.cwd, log, signal: ctx.signal, title: 'RLR demo: synthetic multi-category dataset', backend: outcome.backend, workers });
  const m = result.metrics;
  const totalS = (performance.now() - t0) / 1000;
  const auroc = m.mean.image.auroc;
  const pass = auroc >= DEMO_MIN_AUROC;
  const text = [
    '',
    metricsTable(m),
    '',
    `backbone: ${outcome.manifest.model.backbone}, ${outcome.backbone.pretrained ? `pretrained (${outcome.backbone.weightsDescription})` : outcome.backbone.weightsDescription}`,
    `time: ${formatDuration(totalS)} (data ${formatDuration(generateS)}, features ${formatDuration(outcome.seconds.extract)}, training ${formatDuration(outcome.seconds.train)}, evaluation ${formatDuration(m.timing.total_s)}) on ${outcome.backend}`,
    `mean image AUROC ${formatMetric(auroc)} ${pass ? '(≥ 0.9: pass)' : `(below ${DEMO_MIN_AUROC}: FAIL)`}`,
    '',
    `report: ${result.files.html}`,
  ].join('\n');
  log.result(text, {
    report_html: result.files.html,
    report_md: result.files.markdown,
    metrics: result.files.metrics,
    mean_image_auroc: auroc,
    pass,
    pretrained: outcome.backbone.pretrained,
    backend: outcome.backend,
    seconds: { total: totalS, generate: generateS, extract: outcome.seconds.extract, train: outcome.seconds.train, evaluate: m.timing.total_s },
  });
  return pass ? ExitCode.ok : ExitCode.quality;
}

/** The demo always starts afresh, so an interrupted demo points at `rlr demo`, not at `--resume`. */
async function demoTraining<T>(train: () => Promise<T>): Promise<T> {
  try {
    return await train();
  } catch (e) {
    if (isInterrupted(e)) throw new InterruptedError('demo interrupted during training; nothing was evaluated', 'run rlr demo again (it reuses the generated data)');
    throw e;
  }
}
