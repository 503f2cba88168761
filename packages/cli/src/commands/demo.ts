import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateDataset } from '@rlr/data/node';
import { parseBackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { InterruptedError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { formatDuration, formatMetric } from '../format.js';
import { getPreset } from '../presets.js';
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

/** `rlr demo`: generate → train → eval → report, offline. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<ExitCodeValue> {
  const t0 = performance.now();
  const { log } = ctx;
  const out = resolve(ctx.cwd, (opts.out as string | undefined) ?? 'rlr-demo');
  const dataDir = join(out, 'data');
  const runDir = join(out, 'run');
  const reportDir = join(out, 'report');

  // The generator is deterministic: reuse the data when the same options made it.
  const manifestPath = join(dataDir, 'manifest.json');
  const want = { categories: [...DEMO_DATA.categories], seed: DEMO_DATA.seed, height: DEMO_DATA.size, width: DEMO_DATA.size };
  let reuse = false;
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as { seed: number; height: number; width: number; categories: { name: string; train: number }[] };
    reuse = m.seed === want.seed && m.height === want.height && m.width === want.width && m.categories.map((c) => c.name).join() === want.categories.join() && m.categories.every((c) => c.train === DEMO_DATA.trainCount);
  }
  if (!reuse) {
    log.info(`generating a synthetic dataset (${DEMO_DATA.categories.join(', ')}) in ${dataDir}`);
    const task = log.progress('generate data', 1, 'dataset');
    await generateDataset({ root: dataDir, categories: DEMO_DATA.categories, trainCount: DEMO_DATA.trainCount, testCount: DEMO_DATA.testCount, size: DEMO_DATA.size, seed: DEMO_DATA.seed, overwrite: true });
    task.tick();
    task.done();
  } else {
    log.info(`reusing the generated dataset in ${dataDir}`);
  }
  const generateS = (performance.now() - t0) / 1000;

  // A demo run always trains from scratch: drop the previous demo's run folder (only ours).
  if (existsSync(join(runDir, 'run.json'))) await rm(runDir, { recursive: true, force: true });
  const preset = getPreset('demo')!;
  if (opts.epochs !== undefined) preset.train.epochs = parseCount(opts.epochs, '--epochs');
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
    if (e instanceof InterruptedError) throw new InterruptedError('demo interrupted during training; nothing was evaluated', 'run rlr demo again (it reuses the generated data)');
    throw e;
  }
}
