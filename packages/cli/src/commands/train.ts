import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createRLR, hasTrainerCheckpoint, initReference, specFromFeatureInfo, Trainer, type BatchReport, type EpochReport, type RLRModel } from '@rlr/core';
import { fileStore } from '@rlr/core/node';
import { initBackend, parseBackendName, type BackendName } from '../backend.js';
import { saveRunBackbone, type LoadedBackbone } from '../backbone.js';
import { loadTrainingBackbone } from '../training-backbone.js';
import type { CommandContext } from '../context.js';
import { describeDataset, loadDataset, trainSamples } from '../dataset.js';
import { InterruptedError, modelError, usageError } from '../errors.js';
import { trainingFeatures } from '../features.js';
import { formatDuration, formatTable } from '../format.js';
import { saveModelDir } from '../model-io.js';
import { describeInput, modelGeometry, preprocessingRecord } from '../input-geometry.js';
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
import { checkRecordedSplit, splitValidation, validationRecord, writeValidationRecord } from '../validation-split.js';
import { mkdir } from 'node:fs/promises';
import type { WorkerPool } from '@rlr/core/node';

/** Settings `--resume` may change; anything else must match the run being resumed. */
const RESUMABLE = new Set(['modelKind', 'out', 'epochs', 'maxMinutes', 'snapshotMinutes', 'backend', 'checkpointEvery', 'weights', 'data', 'normalDir', 'abnormalDir', 'maskDir', 'normalTestDir', 'allowMissingMasks']);

/** What a finished (or stopped) training returns to its caller (`rlr train`, `rlr demo`). */
export interface TrainOutcome {
  runDir: string;
  manifest: RunManifest;
  history: EpochRecord[];
  backbone: LoadedBackbone;
  model: RLRModel;
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
  const normals = trainSamples(ds);
  log.info(`data: ${describeDataset(ds)}`);
  if (settings.model.tile || settings.model.resizeMode) log.info(`input: ${describeInput(modelGeometry(settings.model))}`);
  // Validation images come from the normal training images only (never from the test set).
  const fraction = settings.train.valFraction;
  const split = fraction === undefined ? { train: normals, val: [] } : splitValidation(normals, fraction, settings.train.seed);
  const train = split.train;
  if (split.val.length) log.info(`validation: ${split.val.length} of ${normals.length} normal training images held out (--val-fraction ${fraction}, seed ${settings.train.seed})`);
  const g = modelGeometry(settings.model);
  const backbone = await loadTrainingBackbone(settings, o, train);

  const now = new Date().toISOString();
  const previous = o.resume ? await readManifest(o.runDir) : undefined;
  if (!o.resume) await claimRunFolder(o.runDir);
  const manifest: RunManifest = {
    version: 1,
    ...settings,
    status: 'training',
    created: previous?.created ?? now,
    updated: now,
    epochsDone: previous?.epochsDone ?? 0,
    backend,
    backboneWeights: backbone.weightsDescription,
    pretrained: backbone.pretrained,
    versions: runVersions(),
  };
  await writeManifest(o.runDir, manifest);
  if (fraction !== undefined) {
    const record = validationRecord(split, fraction, settings.train.seed);
    if (o.resume) await checkRecordedSplit(o.runDir, record);
    await writeValidationRecord(o.runDir, record);
  }

  // Built before extraction so that settings that do not fit the grids fail at once.
  const spec = specFromFeatureInfo(backbone.extractor.featureInfo, settings.model.imageSize);
  let model: RLRModel;
  try {
    model = createRLR(spec, rlrConfig(settings));
  } catch (e) {
    throw usageError(
      `the model settings do not fit the ${spec.levels.map((l) => l.grid.join('x')).join(' and ')} feature grids: ${(e as Error).message}`,
      'use a larger --image-size, other --out-indices, or other --hidden/--heads/--window',
    );
  }
  const features = await trainingFeatures(train, backbone.extractor, g, fileStore(runPath(o.runDir, 'features')), {
    batchSize: Math.max(settings.train.batchSize, 8),
    log,
    signal: o.signal,
    pool,
  });

  const valFeatures = split.val.length
    ? await trainingFeatures(split.val, backbone.extractor, g, fileStore(runPath(o.runDir, 'valFeatures')), { batchSize: Math.max(settings.train.batchSize, 8), log, signal: o.signal, pool })
    : undefined;

  const t = settings.train;
  const clock = budgetClock();
  const checkpointStore = fileStore(runPath(o.runDir, 'checkpoint'));
  const trainer = new Trainer(model, {
    lr: t.lr,
    epochs: t.epochs,
    batchSize: t.batchSize,
    seed: t.seed,
    lrSchedule: t.lrSchedule ?? 'constant',
    warmupEpochs: t.warmupEpochs ?? 0,
    validation: valFeatures?.source,
    earlyStopPatience: valFeatures ? t.earlyStop : undefined,
    maxSeconds: t.maxMinutes === undefined ? undefined : t.maxMinutes * 60,
    clock: clock.now,
    marks: (t.snapshotMinutes ?? []).map((m) => m * 60),
    checkpointEvery: o.checkpointEvery,
    store: checkpointStore,
    signal: o.signal,
    pool,
  });
  if (t.maxMinutes !== undefined || t.snapshotMinutes?.length) log.info(`budget clock: ${clock.kind === 'wall' ? 'wall time' : `process CPU time / ${clock.kind.slice(4)} cores`}`);
  let history: EpochRecord[] = [];
  let resumed = false;
  if (o.resume) {
    if (await hasTrainerCheckpoint(checkpointStore)) {
      resumed = true;
      let at;
      try {
        at = await trainer.resume(undefined, { onWarning: (m) => log.warn(m) });
      } catch (e) {
        const dir = runPath(o.runDir, 'checkpoint');
        throw modelError(`cannot resume from ${dir}: ${(e as Error).message.split('\n').join('; ')}`, `delete ${dir} and rerun the same rlr train command with --resume to train from the start`, e);
      }
      history = (await readHistory(o.runDir)).filter((h) => h.epoch <= at.epoch);
      log.info(`resuming from the checkpoint at epoch ${at.epoch}${at.batch ? `, batch ${at.batch}` : ''}`);
      log.event('resume', { epoch: at.epoch, batch: at.batch });
    } else {
      log.info('no checkpoint yet: training from the start');
    }
  }

  if (!resumed && (t.refInit ?? 'randn') !== 'randn') {
    const image = await initReference(model, features.source, t.refInit!, t.seed);
    const picked = g.tile ? `training tile ${image!}` : train[image!].path;
    log.info(`reference initialised from ${t.refInit === 'mean' ? 'the mean training feature map' : `the features of ${picked}`} (--ref-init ${t.refInit})`);
  }

  const batchesPerEpoch = Math.ceil(features.source.size / settings.train.batchSize);
  const remaining = Math.max(0, settings.train.epochs - trainer.epochsCompleted) * batchesPerEpoch;
  const task = log.progress('train', remaining, 'step');
  const tTrain = performance.now();
  let valLoss: number | undefined;
  trainer.options.onBatch = (r: BatchReport) => {
    const loss = r.losses.reduce((a, b) => a + b, 0) / r.losses.length;
    task.tick(1, { epoch: `${r.epoch}/${r.epochs}`, loss, ...(valLoss === undefined ? {} : { val: valLoss }) });
  };
  trainer.options.onEpoch = async (r: EpochReport) => {
    valLoss = r.val?.loss;
    history.push({
      epoch: r.epoch,
      loss: r.loss,
      seconds: r.seconds,
      lr: r.lr,
      ...(r.val ? { valLoss: r.val.loss, valScores: r.val.scores, bestVal: r.bestVal } : {}),
      clockSeconds: r.clockSeconds,
    });
    await writeHistory(o.runDir, history);
    manifest.epochsDone = r.epoch;
    await writeManifest(o.runDir, manifest);
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
  };
  const saveTo = async (dir: string) => {
    await saveRunBackbone(runPath(dir, 'model'), backbone.extractor);
    await saveModelDir(model, runPath(dir, 'model'), {
      backbone: backbone.extractor.toConfig(),
      preprocessing: preprocessingRecord(g),
      preset: settings.preset,
    });
  };
  trainer.options.onMark = async (mark: number, r: EpochReport) => {
    const minutes = mark / 60;
    const dir = join(runPath(o.runDir, 'snapshots'), `${minutes}min`);
    await mkdir(dir, { recursive: true });
    const best = t.keep === 'best-val' ? trainer.bestValidation : undefined;
    const save = () => saveTo(dir);
    await (best ? trainer.withBest(save) : save());
    await writeManifest(dir, {
      ...manifest,
      status: 'done',
      epochsDone: r.epoch,
      snapshot: { minutes, clock: clock.kind, clockSeconds: r.clockSeconds ?? 0, epoch: r.epoch, keptEpoch: best?.epoch ?? r.epoch },
    });
    log.info(`snapshot at the ${minutes}-minute mark (epoch ${r.epoch}${best ? `, best validation epoch ${best.epoch}` : ''}) saved in ${dir}`);
    log.event('snapshot', { minutes, epoch: r.epoch, kept_epoch: best?.epoch ?? r.epoch, clock_s: r.clockSeconds, run: dir });
  };
  let result;
  try {
    result = await trainer.fit(features.source);
  } finally {
    task.done();
    trainer.dispose();
  }
  const trainS = (performance.now() - tTrain) / 1000;
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
    model.dispose();
    backbone.extractor.dispose();
    throw new InterruptedError(`training stopped after ${result.epochsCompleted} epoch(s); checkpoint saved in ${runPath(o.runDir, 'checkpoint')}`, `continue with: rlr train --out ${o.runDir} --resume`);
  }
  if (t.keep === 'best-val' && trainer.restoreBest()) {
    manifest.keptEpoch = result.best!.epoch;
    log.info(`keeping the best validation epoch ${result.best!.epoch} (validation loss ${result.best!.loss.toPrecision(4)}; --keep best-val)`);
  } else manifest.keptEpoch = result.epochsCompleted;
  // The backbone first (inside saveTo): a model folder with a config.json is complete.
  await saveTo(o.runDir);
  manifest.status = 'done';
  await writeManifest(o.runDir, manifest);
  return {
    runDir: o.runDir,
    manifest,
    history,
    backbone,
    model,
    backend,
    seconds: { extract: features.seconds, train: trainS, total: (performance.now() - t0) / 1000 },
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
  applyTrainOptions(train, { maxMinutes: given.maxMinutes, snapshotMinutes: given.snapshotMinutes });
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
