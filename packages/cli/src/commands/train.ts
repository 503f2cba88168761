import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { EpochReport, RLRModel } from '@rlr/core';
import { fileStore } from '@rlr/core/node';
import { Detector, checkRecordedSplit, validationRecord, writeValidationRecord } from '@rlr/engine/node';
import { initBackend, parseBackendName, type BackendName } from '../backend.js';
import type { LoadedBackbone } from '../backbone.js';
import { loadTrainingBackbone } from '../training-backbone.js';
import type { CommandContext } from '../context.js';
import { describeDataset, loadDataset, trainSamples } from '../dataset.js';
import { InterruptedError, usageError } from '../errors.js';
import { formatDuration, formatTable } from '../format.js';
import { describeInput, modelGeometry } from '../input-geometry.js';
import { checkNewRunFolder, checkOutsideData, claimRunFolder, discardUnstartedRun, existingRunFiles, readHistory, readManifest, runPath, writeHistory, writeManifest, type EpochRecord, type RunManifest } from '../run-dir.js';
import { checkWritable } from '../paths.js';
import { applyTrainOptions, checkEpochs, fileAndFlagSettings, parseModelKind, resolveRunSettings, rlrConfig, runKind, type RunSettings } from '../run-settings.js';
import { trainKnnRun } from '../knn-train.js';
import type { TrainRunOptions } from '../train-run-options.js';
import type { SettingValues } from '../settings.js';
import { runVersions } from '../version.js';
import { parseDownloadTimeout } from '../weight-cache.js';
import { parseWorkers, startWorkers } from '../workers.js';
import { budgetClock } from '../budget-clock.js';
import { mkdir } from 'node:fs/promises';
import type { WorkerPool } from '@rlr/core/node';

/** Settings `--resume` may change; anything else must match the run being resumed. */
const RESUMABLE = new Set(['modelKind', 'out', 'epochs', 'maxMinutes', 'snapshotMinutes', 'backend', 'checkpointEvery', 'weights', 'data', 'normalDir', 'abnormalDir', 'maskDir', 'normalTestDir', 'allowMissingMasks', 'thresholdQuantile', 'sensitivity']);

/** What a finished (or stopped) training returns to its caller (`rlr train`, `rlr demo`). */
export interface TrainOutcome {
  runDir: string;
  manifest: RunManifest;
  history: EpochRecord[];
  backbone: LoadedBackbone;
  model: RLRModel;
  /** The trained detector (backbone, model, post-processor) as saved in `<run>/model`. */
  detector: Detector;
  backend: BackendName;
  seconds: { extract: number; train: number; total: number };
}

/**
 * Train a run: load the data, build the backbone, extract (or reuse) the features, train with
 * checkpoints, save the model. Throws {@link InterruptedError} after saving a checkpoint when
 * `signal` aborts.
 */
export async function trainRun(settings: RunSettings, o: TrainRunOptions): Promise<TrainOutcome> {
  const t0 = performance.now();
  const backend = await initBackend(o.backend);
  const pool = await startWorkers(backend, o.workers ?? 'auto', o.log);
  try {
    return await trainOn(backend, pool, settings, o, t0);
  } finally {
    await pool?.close();
  }
}

/** {@link trainRun} once the backend and the workers (if any) are up. */
async function trainOn(backend: BackendName, pool: WorkerPool | undefined, settings: RunSettings, o: TrainRunOptions, t0: number): Promise<TrainOutcome> {
  const { log } = o;
  const ds = await loadDataset(settings.data, settings.train.seed, log);
  log.info(`data: ${describeDataset(ds)}`);
  if (settings.model.tile || settings.model.resizeMode) log.info(`input: ${describeInput(modelGeometry(settings.model))}`);
  const g = modelGeometry(settings.model);
  const t = settings.train;
  const fraction = t.valFraction;
  const previous = o.resume ? await readManifest(o.runDir) : undefined;
  let backbone: LoadedBackbone | undefined;
  let manifest: RunManifest | undefined;
  let history: EpochRecord[] = [];
  const clock = budgetClock();
  if (t.maxMinutes !== undefined || t.snapshotMinutes?.length) log.info(`budget clock: ${clock.kind === 'wall' ? 'wall time' : `process CPU time / ${clock.kind.slice(4)} cores`}`);
  // The engine holds out the validation normals (never test images), builds the backbone,
    // extracts or reuses the features, trains with checkpoints and fits the post-processor; this
    // command keeps the run folder's bookkeeping (run.json, history.json, validation.json).
  const fit = await Detector.fitWithReport(trainSamples(ds), {
      backbone: async (train) => {
        backbone = await loadTrainingBackbone(settings, o, train);
        return backbone.extractor;
      },
      geometry: g,
      model: { kind: 'rlr', config: rlrConfig(settings) },
      train: { epochs: t.epochs, batchSize: t.batchSize, lr: t.lr, seed: t.seed, lrSchedule: t.lrSchedule ?? 'constant', warmupEpochs: t.warmupEpochs ?? 0, earlyStop: t.earlyStop, refInit: t.refInit, keep: t.keep },
      valFraction: fraction,
      postProcessor: { quantile: t.thresholdQuantile, sensitivity: t.sensitivity },
      dir: o.runDir,
      resume: o.resume,
      checkpointEvery: o.checkpointEvery,
      pool,
      log,
      signal: o.signal,
      trainer: { maxSeconds: t.maxMinutes === undefined ? undefined : t.maxMinutes * 60, clock: clock.now, marks: (t.snapshotMinutes ?? []).map((m) => m * 60) },
      onPrepared: async ({ split }) => {
        const now = new Date().toISOString();
        if (!o.resume) await claimRunFolder(o.runDir);
        manifest = {
          version: 1,
          ...settings,
          status: 'training',
          created: previous?.created ?? now,
          updated: now,
          epochsDone: previous?.epochsDone ?? 0,
          backend,
          backboneWeights: backbone!.weightsDescription,
          pretrained: backbone!.pretrained,
          versions: runVersions(),
        };
        await writeManifest(o.runDir, manifest);
        if (fraction !== undefined) {
          const record = validationRecord(split, fraction, t.seed);
          if (o.resume) await checkRecordedSplit(o.runDir, record);
          await writeValidationRecord(o.runDir, record);
        }
      },
      onResume: async (at) => {
        history = (await readHistory(o.runDir)).filter((h) => h.epoch <= at.epoch);
      },
      onEpoch: async (r: EpochReport) => {
        history.push({
          epoch: r.epoch,
          loss: r.loss,
          seconds: r.seconds,
          lr: r.lr,
          ...(r.val ? { valLoss: r.val.loss, valScores: r.val.scores, bestVal: r.bestVal } : {}),
          clockSeconds: r.clockSeconds,
        });
        await writeHistory(o.runDir, history);
        manifest!.epochsDone = r.epoch;
        await writeManifest(o.runDir, manifest!);
        log.event('epoch', {
          epoch: r.epoch,
          epochs: r.epochs,
          loss: r.loss,
          losses: r.losses,
          seconds: r.seconds,
          images_per_s: r.imagesPerSecond,
          checkpoint: r.checkpointed,
          lr: r.lr,
          clock_s: r.clockSeconds,
          ...(r.val ? { val_loss: r.val.loss, val_losses: r.val.losses, val_scores: r.val.scores, val_s: r.val.seconds, best_val: r.bestVal } : {}),
        });
      },
      onMark: async (mark, r, save, kept) => {
        const minutes = mark / 60;
        const dir = join(runPath(o.runDir, 'snapshots'), `${minutes}min`);
        await mkdir(dir, { recursive: true });
        await save(fileStore(runPath(dir, 'model')), { preset: settings.preset });
        await writeManifest(dir, {
          ...manifest!,
          status: 'done',
          epochsDone: r.epoch,
          snapshot: { minutes, clock: clock.kind, clockSeconds: r.clockSeconds ?? 0, epoch: r.epoch, keptEpoch: kept ?? r.epoch },
        });
        log.info(`snapshot at the ${minutes}-minute mark (epoch ${r.epoch}${kept !== undefined ? `, best validation epoch ${kept}` : ''}) saved in ${dir}`);
        log.event('snapshot', { minutes, epoch: r.epoch, kept_epoch: kept ?? r.epoch, clock_s: r.clockSeconds, run: dir });
      },
    });
  const { detector, training } = fit;
  const result = training!;
  manifest = manifest!;
  manifest.epochsDone = result.epochsCompleted;
  manifest.stopReason = result.stopReason;
  if (result.best) manifest.bestVal = result.best;
  if (result.stopReason === 'budget') {
    log.info(`training budget of ${t.maxMinutes} minute(s) used up after ${result.epochsCompleted} complete epoch(s); checkpoint saved`);
    log.event('budget', { epoch: result.epochsCompleted, minutes: t.maxMinutes, clock: clock.kind });
  } else if (result.stopReason === 'early-stop') {
    log.info(`early stop after epoch ${result.epochsCompleted}: no validation improvement for ${t.earlyStop} epoch(s) since epoch ${result.best?.epoch}`);
    log.event('early_stop', { epoch: result.epochsCompleted, best_epoch: result.best?.epoch, patience: t.earlyStop });
  }
  if (result.stopped && result.stopReason !== 'budget') {
    manifest.status = 'interrupted';
    await writeManifest(o.runDir, manifest);
    log.event('interrupted', { epoch: result.epochsCompleted, run: o.runDir });
    detector.dispose();
    throw new InterruptedError(`training stopped after ${result.epochsCompleted} epoch(s); checkpoint saved in ${runPath(o.runDir, 'checkpoint')}`, `continue with: rlr train --out ${o.runDir} --resume`);
  }
  manifest.keptEpoch = fit.keptEpoch;
  // The backbone and the post-processor first: a model folder with a config.json is complete.
  await detector.save(runPath(o.runDir, 'model'), { preset: settings.preset });
  manifest.status = 'done';
  await writeManifest(o.runDir, manifest);
  return {
    runDir: o.runDir,
    manifest,
    history,
    backbone: backbone!,
    model: detector.model as RLRModel,
    detector,
    backend,
    seconds: { extract: fit.seconds.extract, train: fit.seconds.train, total: (performance.now() - t0) / 1000 },
  };
}

function defaultRunDir(cwd: string, preset: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return resolve(cwd, 'runs', `${preset}-${stamp}`);
}

/** Settings of a resumed run: the stored ones, with only the resumable ones taken from the command line. */
function resumedSettings(m: RunManifest, given: SettingValues): RunSettings {
  if (!m.data) throw usageError('this run folder holds imported weights (rlr import), not a training run to resume', 'train a new run with another --out');
  const changed = Object.keys(given).filter((k) => !RESUMABLE.has(k));
  if (changed.length > 0) {
    throw usageError(`--resume keeps the run's settings; cannot change ${changed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, 'drop those options, or start a new run with another --out');
  }
  const data = { ...m.data };
  for (const k of ['normalDir', 'abnormalDir', 'maskDir', 'normalTestDir'] as const) if (given[k]) data[k] = given[k];
  if (given.data) data.root = given.data;
  if (given.allowMissingMasks !== undefined) data.allowMissingMasks = given.allowMissingMasks;
  if (given.epochs !== undefined) checkEpochs(given.epochs);
  const train = { ...m.train, epochs: given.epochs ?? m.train.epochs };
  applyTrainOptions(train, { maxMinutes: given.maxMinutes, snapshotMinutes: given.snapshotMinutes, thresholdQuantile: given.thresholdQuantile, sensitivity: given.sensitivity });
  return {
    preset: m.preset,
    data,
    model: m.model,
    train,
    weights: given.weights ?? m.weights,
  };
}

/** `rlr train`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  const given = await fileAndFlagSettings(cmd, ctx.cwd);
  const resume = Boolean(opts.resume);
  const kind = parseModelKind(opts.model ?? given.modelKind);
  let settings: RunSettings;
  let runDir: string;
  if (resume) {
    if (!given.out) throw usageError('--resume needs --out <run-dir> (the run to continue)', 'e.g. rlr train --out runs/mvtec --resume');
    runDir = given.out;
    const previous = await readManifest(runDir, '--out');
    if (runKind(previous) === 'knn' || kind === 'knn') {
      throw usageError(`--resume: a nearest-neighbour (--model knn) run has no epochs to continue`, 'rebuild it with the same command into another --out (a copied features/ folder is reused)');
    }
    settings = resumedSettings(previous, given);
  } else {
    settings = resolveRunSettings(given, 'paper', kind);
    runDir = given.out ?? defaultRunDir(ctx.cwd, settings.preset);
    await checkWritable(runDir, '--out');
    await checkNewRunFolder(runDir);
  }
  await checkOutsideData(runDir, settings.data);
  const existed = existingRunFiles(runDir);
  ctx.log.info(`run folder: ${runDir}`);
  if (runKind(settings) === 'knn') return runKnn(settings, runDir, existed, opts, ctx, given.backend);
  let outcome: TrainOutcome;
  try {
    outcome = await trainRun(settings, {
      runDir,
      resume,
      backend: parseBackendName(given.backend),
      offline: Boolean(opts.offline),
      cacheDir: opts.cacheDir as string | undefined,
      downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout),
      checkpointEvery: given.checkpointEvery ?? 1,
      cwd: ctx.cwd,
      log: ctx.log,
      signal: ctx.signal,
      workers: parseWorkers(opts.workers),
    });
  } catch (e) {
    // A new run that failed before its first checkpoint leaves nothing to resume: remove its
    // run.json so the same command can simply be run again (the feature cache is kept for it).
    if (!resume) await discardUnstartedRun(runDir, existed);
    throw e;
  }
  const last = outcome.history.at(-1);
  const text = [
    '',
    formatTable(
      ['run', 'value'],
      [
        ['preset', settings.preset],
        ['backbone', `${settings.model.backbone} (${outcome.backbone.pretrained ? 'pretrained' : 'random init'})`],
        ['backend', outcome.backend],
        ['epochs', String(outcome.manifest.epochsDone)],
        ['final loss', last ? last.loss.toPrecision(4) : '-'],
        ['feature extraction', formatDuration(outcome.seconds.extract)],
        ['training', formatDuration(outcome.seconds.train)],
        ['total', formatDuration(outcome.seconds.total)],
      ],
    ),
    '',
    `model saved in ${runPath(runDir, 'model')}`,
    `next: rlr eval --model ${runDir}`,
  ].join('\n');
  ctx.log.result(text, {
    run: runDir,
    model: runPath(runDir, 'model'),
    epochs: outcome.manifest.epochsDone,
    final_loss: last?.loss ?? null,
    backend: outcome.backend,
    seconds: outcome.seconds,
  });
  outcome.model.dispose();
  outcome.backbone.extractor.dispose();
}

/** `rlr train --model knn`: build the memory bank and print its summary. */
async function runKnn(settings: RunSettings, runDir: string, existed: ReturnType<typeof existingRunFiles>, opts: Record<string, unknown>, ctx: CommandContext, backend: string | undefined): Promise<void> {
  let outcome;
  try {
    outcome = await trainKnnRun(settings, {
      runDir,
      resume: false,
      backend: parseBackendName(backend),
      offline: Boolean(opts.offline),
      cacheDir: opts.cacheDir as string | undefined,
      checkpointEvery: 1,
      cwd: ctx.cwd,
      log: ctx.log,
      signal: ctx.signal,
      workers: parseWorkers(opts.workers),
    });
  } catch (e) {
    await discardUnstartedRun(runDir, existed);
    throw e;
  }
  const bank = outcome.model.bankSizes;
  const text = [
    '',
    formatTable(
      ['run', 'value'],
      [
        ['model', `knn (nearest-neighbour baseline), coreset ${settings.knn?.coreset}`],
        ['backbone', `${settings.model.backbone} (${outcome.backbone.pretrained ? 'pretrained' : 'random init'})`],
        ['backend', outcome.backend],
        ['bank tokens', bank.join(' + ')],
        ['feature extraction', formatDuration(outcome.seconds.extract)],
        ['bank build', formatDuration(outcome.seconds.build)],
        ['total', formatDuration(outcome.seconds.total)],
      ],
    ),
    '',
    `model saved in ${runPath(runDir, 'model')}`,
    `next: rlr eval --model ${runDir}`,
  ].join('\n');
  ctx.log.result(text, { run: runDir, model: runPath(runDir, 'model'), kind: 'knn', coreset: settings.knn?.coreset, bank_tokens: bank, backend: outcome.backend, seconds: outcome.seconds });
  outcome.model.dispose();
  outcome.backbone.extractor.dispose();
}
