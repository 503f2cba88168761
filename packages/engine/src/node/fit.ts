/**
 * `Detector.fit`: hold out validation normals, extract (or reuse) the backbone features, train
 * RLR with checkpoints (or build the nearest-neighbour bank), and fit the post-processor on the
 * validation normals (never on test images). Serial or worker pool, in-memory or on-disk caches:
 * the caller only says what it wants.
 */
import {
  buildKnnModel,
  createRLR,
  hasTrainerCheckpoint,
  initReference,
  memoryStore,
  specFromFeatureInfo,
  Trainer,
  type BatchReport,
  type BlobStore,
  type EpochReport,
  type FeatureExtractor,
  type FeatureSource,
  type LrScheduleKind,
  type RefInit,
  type RLRConfig,
  type RLRModel,
  type TrainerOptions,
  type TrainResult,
} from '@rlr/core';
import type { WorkerPool } from '@rlr/core/node';
import type { AnomalyDataset, Sample } from '@rlr/data';
import { fileStore } from '@rlr/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { Detector as BaseDetector, postProcessorFor, type ImageGeometry } from '../detector.js';
import type { DetectorModel } from '../detector-model.js';
import { EngineError } from '../engine-error.js';
import { silentLog, type EngineLog } from '../engine-log.js';
import { PostProcessor, type QuantileOptions } from '../post-processor.js';
import { nodeIO } from './node-io.js';
import { trainingFeatures } from './training-features.js';
import { scoreTiledSample } from './tiled-scoring.js';
import { splitValidation, type ValidationSplit } from './validation-split.js';
import { workPath } from './work-dir.js';

/** Training settings of an RLR detector (defaults: the paper's). */
export interface FitTraining {
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  lrSchedule?: LrScheduleKind;
  warmupEpochs?: number;
  /** Stop after this many epochs without validation improvement (needs a validation split). */
  earlyStop?: number;
  /** Initialise the reference from the training features (`randn`: the paper's random init). */
  refInit?: RefInit;
  /** `best-val`: keep the epoch with the lowest validation loss; `last` (default): the final one. */
  keep?: 'last' | 'best-val';
}

/** Options of {@link fitDetector}. */
export interface FitOptions {
  /**
   * The frozen backbone: an extractor, or a function building one from the training images
   * (e.g. a random backbone calibrated on them). The detector owns (and disposes) it.
   */
  backbone: FeatureExtractor | ((train: Sample[]) => Promise<FeatureExtractor>);
  geometry: ImageGeometry;
  /** `rlr` (default) with its config, or the nearest-neighbour baseline with its coreset share. */
  model?: { kind: 'rlr'; config?: Partial<RLRConfig> } | { kind: 'knn'; coreset: number };
  train?: FitTraining;
  /**
   * Share of the normal training images held out for validation (loss, early stop, best epoch)
   * and for the post-processor's thresholds. Without it the thresholds come from the training
   * normals themselves (source `training-normals`, biased low: more false alarms).
   */
  valFraction?: number;
  /** A labelled validation set (normal and anomalous, masks optional): F1-max thresholds instead of a quantile. */
  validation?: Sample[];
  /** Quantile and sensitivity of the normals-only thresholds. */
  postProcessor?: QuantileOptions;
  /** Work folder for the feature caches, the checkpoint and validation.json; in memory without it. */
  dir?: string;
  /** Continue from the checkpoint in `dir` (RLR only). */
  resume?: boolean;
  /** Checkpoint every this many epochs (with `dir`; default 1). */
  checkpointEvery?: number;
  /** Worker threads for extraction and training steps (`createWorkerPool` of `@rlr/core/node`); serial without. */
  pool?: WorkerPool;
  log?: EngineLog;
  signal?: AbortSignal;
  /** Budget and snapshot settings passed to the Trainer. */
  trainer?: Partial<Pick<TrainerOptions, 'maxSeconds' | 'clock' | 'marks'>>;
  /** Called once the split and the backbone are known, before anything is extracted. */
  onPrepared?: (p: { split: ValidationSplit; extractor: FeatureExtractor }) => void | Promise<void>;
  /** After each epoch (RLR). */
  onEpoch?: (r: EpochReport) => void | Promise<void>;
  /**
   * At each budget mark (RLR): `save` saves the detector as it is at this epoch (the best
   * validation epoch's weights with `keep: best-val`, whose number is `keptEpoch`), without a
   * post-processor.
   */
  onMark?: (mark: number, r: EpochReport, save: (store: BlobStore, extra?: Record<string, unknown>) => Promise<void>, keptEpoch?: number) => void | Promise<void>;
  /** When training continues from a checkpoint. */
  onResume?: (at: { epoch: number; batch: number }) => void | Promise<void>;
}

/** What {@link fitDetector} returns. */
export interface FitResult {
  detector: BaseDetector;
  split: ValidationSplit;
  /** The trainer's outcome (RLR); undefined for knn (whose `seconds.train` is the bank build). */
  training?: TrainResult;
  /** The epoch kept (RLR). */
  keptEpoch?: number;
  seconds: { extract: number; train: number };
}

/** At most this many training normals score the post-processor when there is no hold-out. */
const TRAINING_NORMALS_FOR_THRESHOLDS = 256;

function normalsOf(dataset: AnomalyDataset | Sample[]): Sample[] {
  const list = Array.isArray(dataset) ? dataset : dataset.train;
  const normals = list.filter((s) => s.label === 0);
  if (normals.length === 0) throw new EngineError('data', 'Detector.fit: the dataset has no normal training images', 'check --data (mvtec: <root>/<category>/train/good) or --normal-dir');
  return normals;
}

/** A store for one of the work folder's parts (memory without a folder). */
function storeFor(dir: string | undefined, part: 'features' | 'valFeatures' | 'checkpoint'): BlobStore {
  return dir ? fileStore(workPath(dir, part)) : memoryStore(part);
}

/** `count` items of `items` spread evenly (all when fewer). */
function spread<T>(items: readonly T[], count: number): T[] {
  const step = Math.max(1, Math.floor(items.length / count));
  return items.filter((_, i) => i % step === 0).slice(0, count);
}

/** Score `count` images of `source` spread evenly (all when fewer), `batch` at a time. */
async function scoreSource(model: DetectorModel, source: FeatureSource, count: number, batch = 8): Promise<{ scores: Float32Array; maps: Float32Array }> {
  const indices = spread(Array.from({ length: source.size }, (_, i) => i), count);
  const scores: number[] = [];
  const maps: Float32Array[] = [];
  for (let at = 0; at < indices.length; at += batch) {
    const part = indices.slice(at, at + batch);
    const data = await source.read(part);
    const features = data.map((d, l) => tf.tensor4d(d, [part.length, source.levels[l].grid[0], source.levels[l].grid[1], source.levels[l].channels]));
    try {
      const p = await model.predict(features, { batchSize: part.length });
      scores.push(...p.scores);
      maps.push(p.maps);
    } finally {
      tf.dispose(features);
    }
  }
  const all = new Float32Array(maps.reduce((n, m) => n + m.length, 0));
  let off = 0;
  for (const m of maps) {
    all.set(m, off);
    off += m.length;
  }
  return { scores: Float32Array.from(scores), maps: all };
}

/**
 * The post-processor of a trained model: from a labelled validation set when given, else from the
 * held-out normals' features, else from (a spread of at most 256 of) the training normals' features.
 */
async function fitPostProcessor(detector: BaseDetector, o: FitOptions, val: FeatureSource | undefined, train: FeatureSource, split: ValidationSplit, log: EngineLog): Promise<PostProcessor | null> {
  const count = val ? val.size : TRAINING_NORMALS_FOR_THRESHOLDS;
  if (o.geometry.tile && o.validation?.length) {
    log.info('no thresholds from a labelled validation set for a tiled run yet: pass --threshold to rlr predict');
    return null;
  }
  if (o.geometry.tile) {
    // The feature caches hold tiles, while an image's score comes from its stitched map: each
    // image is read again, scored tile by tile and stitched, as predict scores it.
    const samples = val ? split.val : spread(split.train, TRAINING_NORMALS_FOR_THRESHOLDS);
    const scores: number[] = [];
    const maxima: number[] = []; // per image: the pixel threshold needs only each map's maximum
    for (const s of samples) {
      if (o.signal?.aborted) throw new EngineError('interrupted', 'interrupted while fitting the thresholds', 'rerun the same command (the feature cache is reused)');
      const r = await scoreTiledSample(s, o.geometry.tile, (b) => detector.scoreBatch(b));
      scores.push(r.score);
      let m = -Infinity;
      for (const v of r.map) if (v > m) m = v;
      maxima.push(m);
    }
    // Maps of one pixel each (their maxima): stitched maps may differ in size between images.
    const pp = PostProcessor.fromNormals(scores, Float32Array.from(maxima), { ...o.postProcessor, source: val ? 'validation-normals' : 'training-normals' });
    detector.postProcessor = pp;
    log.info(`thresholds: image ${pp.imageThreshold.toPrecision(4)}, pixel ${pp.pixelThreshold.toPrecision(4)} from the stitched maps of ${samples.length} ${val ? 'held-out validation' : 'training'} normals`);
    return pp;
  }
  if (o.validation?.length) {
    const pp = await detector.calibrate(o.validation, o.postProcessor);
    log.info(`thresholds: image ${pp.imageThreshold.toPrecision(4)}, pixel ${pp.pixelThreshold.toPrecision(4)} from ${o.validation.length} labelled validation images (${pp.state.source})`);
    return pp;
  }
  const source = val ?? train;
  if (o.geometry.mode === 'fit') {
    // Letterboxed images: the cached features do not say where the padding is, so the images are
    // decoded again and scored as predict scores them, the padding left out.
    const samples = spread(val ? split.val : split.train, count);
    const pp = await detector.calibrate(samples, { ...o.postProcessor, source: val ? 'validation-normals' : 'training-normals' });
    log.info(`thresholds: image ${pp.imageThreshold.toPrecision(4)}, pixel ${pp.pixelThreshold.toPrecision(4)} from ${samples.length} ${val ? 'held-out validation' : 'training'} normals, letterbox padding excluded`);
    return pp;
  }
  const { scores, maps } = await scoreSource(detector.model, source, count);
  const pp = postProcessorFor(new Uint8Array(scores.length), scores, maps, undefined, { ...o.postProcessor, source: val ? 'validation-normals' : 'training-normals' });
  detector.postProcessor = pp;
  if (val) log.info(`thresholds: image ${pp.imageThreshold.toPrecision(4)}, pixel ${pp.pixelThreshold.toPrecision(4)} from ${scores.length} held-out validation normals (quantile ${pp.state.quantile})`);
  else log.info(`thresholds from ${scores.length} training normals (no --val-fraction hold-out): the model scores its own training images low, so the threshold is biased low (more false alarms); train with --val-fraction 0.1 for thresholds from held-out normals`);
  return pp;
}

/** Train (or build) a detector on the normal training images of `dataset`; see the module comment. */
export async function fitDetector(dataset: AnomalyDataset | Sample[], o: FitOptions): Promise<FitResult> {
  const log = o.log ?? silentLog;
  const normals = normalsOf(dataset);
  const t = { batchSize: 4, lr: 1e-4, seed: 3407, lrSchedule: 'constant' as LrScheduleKind, warmupEpochs: 0, ...o.train, epochs: o.train?.epochs ?? 200 };
  // Validation images come from the normal training images only (never from the test set).
  const fraction = o.valFraction;
  const split = fraction === undefined ? { train: normals, val: [] } : splitValidation(normals, fraction, t.seed);
  if (split.val.length) log.info(`validation: ${split.val.length} of ${normals.length} normal training images held out (--val-fraction ${fraction}, seed ${t.seed})`);
  const g = o.geometry;
  const extractor = typeof o.backbone === 'function' ? await o.backbone(split.train) : o.backbone;
  let model: DetectorModel | undefined;
  try {
    await o.onPrepared?.({ split, extractor });
    // Built before extraction so that settings that do not fit the grids fail at once.
    const spec = specFromFeatureInfo(extractor.featureInfo, g.crop);
    const kind = o.model ?? { kind: 'rlr' as const };
    if (kind.kind === 'rlr') {
      try {
        model = createRLR(spec, { ...kind.config, seed: kind.config?.seed ?? t.seed });
      } catch (e) {
        throw new EngineError(
          'usage',
          `the model settings do not fit the ${spec.levels.map((l) => l.grid.join('x')).join(' and ')} feature grids: ${(e as Error).message}`,
          'use a larger --image-size, other --out-indices, or other --hidden/--heads/--window',
        );
      }
    }
    const batchSize = Math.max(t.batchSize, 8);
    const features = await trainingFeatures(split.train, extractor, g, storeFor(o.dir, 'features'), { batchSize, log, signal: o.signal, pool: o.pool });
    const valFeatures = split.val.length ? await trainingFeatures(split.val, extractor, g, storeFor(o.dir, 'valFeatures'), { batchSize, log, signal: o.signal, pool: o.pool }) : undefined;
    const extractS = features.seconds + (valFeatures?.seconds ?? 0);
    if (kind.kind === 'knn') {
      const t0 = performance.now();
      model = await buildBank(spec, features.source, kind.coreset, t.seed, log, o.signal);
      const buildS = (performance.now() - t0) / 1000;
      const detector = new BaseDetector({ extractor, model, geometry: g, io: nodeIO });
      // A bank holds its own training tokens, so it scores its training images near zero: only
      // held-out (or labelled) validation images give it thresholds.
      if (valFeatures || o.validation?.length) await fitPostProcessor(detector, o, valFeatures?.source, features.source, split, log);
      else log.info('no thresholds: a nearest-neighbour bank scores its own training images near zero, so it needs held-out normals (--val-fraction) for them');
      return { detector, split, seconds: { extract: extractS, train: buildS } };
    }
    const rlr = model as RLRModel;
    const { training, keptEpoch, seconds } = await train(rlr, extractor, features.source, valFeatures?.source, split, t, o, log);
    const detector = new BaseDetector({ extractor, model: rlr, geometry: g, io: nodeIO });
    if (!training.stopped || training.stopReason === 'budget') await fitPostProcessor(detector, o, valFeatures?.source, features.source, split, log);
    return { detector, split, training, keptEpoch, seconds: { extract: extractS, train: seconds } };
  } catch (e) {
    model?.dispose();
    extractor.dispose();
    throw e;
  }
}

/** The memory bank of the nearest-neighbour baseline, with a progress bar. */
async function buildBank(spec: ReturnType<typeof specFromFeatureInfo>, source: FeatureSource, coreset: number, seed: number, log: EngineLog, signal?: AbortSignal): Promise<DetectorModel> {
  const tokens = source.size * spec.levels.reduce((n, l) => n + l.grid[0] * l.grid[1], 0);
  const task = log.progress(`memory bank (coreset ${coreset})`, Math.max(1, Math.round(tokens * coreset)), 'token');
  const done = spec.levels.map(() => 0);
  try {
    const model = await buildKnnModel(spec, source, { coreset, seed }, {
      signal,
      onProgress: (level, chosen) => {
        task.tick(chosen - done[level]);
        done[level] = chosen;
      },
    });
    return model;
  } catch (e) {
    if (signal?.aborted) throw new EngineError('interrupted', 'interrupted while building the memory bank (nothing to resume)', 'rerun the same rlr train command (the feature cache is reused)');
    throw e;
  } finally {
    task.done();
  }
}

/** The RLR training loop with checkpoints, resume, budget marks and the kept epoch. */
async function train(
  model: RLRModel,
  extractor: FeatureExtractor,
  source: FeatureSource,
  val: FeatureSource | undefined,
  split: ValidationSplit,
  t: Required<Pick<FitTraining, 'epochs' | 'batchSize' | 'lr' | 'seed' | 'lrSchedule' | 'warmupEpochs'>> & FitTraining,
  o: FitOptions,
  log: EngineLog,
): Promise<{ training: TrainResult; keptEpoch: number; seconds: number }> {
  const checkpointStore = o.dir ? storeFor(o.dir, 'checkpoint') : undefined;
  const trainer = new Trainer(model, {
    lr: t.lr,
    epochs: t.epochs,
    batchSize: t.batchSize,
    seed: t.seed,
    lrSchedule: t.lrSchedule,
    warmupEpochs: t.warmupEpochs,
    validation: val,
    earlyStopPatience: val ? t.earlyStop : undefined,
    ...o.trainer,
    checkpointEvery: o.checkpointEvery ?? 1,
    store: checkpointStore,
    signal: o.signal,
    pool: o.pool,
  });
  let resumed = false;
  if (o.resume && checkpointStore) {
    if (await hasTrainerCheckpoint(checkpointStore)) {
      resumed = true;
      let at;
      try {
        at = await trainer.resume(undefined, { onWarning: (m) => log.warn(m) });
      } catch (e) {
        trainer.dispose();
        const dir = workPath(o.dir!, 'checkpoint');
        throw new EngineError('model', `cannot resume from ${dir}: ${(e as Error).message.split('\n').join('; ')}`, `delete ${dir} and rerun the same rlr train command with --resume to train from the start`, { cause: e });
      }
      log.info(`resuming from the checkpoint at epoch ${at.epoch}${at.batch ? `, batch ${at.batch}` : ''}`);
      log.event('resume', { epoch: at.epoch, batch: at.batch });
      await o.onResume?.(at);
    } else {
      log.info('no checkpoint yet: training from the start');
    }
  }
  if (!resumed && (t.refInit ?? 'randn') !== 'randn') {
    const image = await initReference(model, source, t.refInit!, t.seed);
    const picked = o.geometry.tile ? `training tile ${image!}` : split.train[image!].path;
    log.info(`reference initialised from ${t.refInit === 'mean' ? 'the mean training feature map' : `the features of ${picked}`} (--ref-init ${t.refInit})`);
  }
  const batchesPerEpoch = Math.ceil(source.size / t.batchSize);
  const remaining = Math.max(0, t.epochs - trainer.epochsCompleted) * batchesPerEpoch;
  const task = log.progress('train', remaining, 'step');
  const t0 = performance.now();
  let valLoss: number | undefined;
  trainer.options.onBatch = (r: BatchReport) => {
    const loss = r.losses.reduce((a, b) => a + b, 0) / r.losses.length;
    task.tick(1, { epoch: `${r.epoch}/${r.epochs}`, loss, ...(valLoss === undefined ? {} : { val: valLoss }) });
  };
  trainer.options.onEpoch = async (r: EpochReport) => {
    valLoss = r.val?.loss;
    await o.onEpoch?.(r);
  };
  if (o.onMark) {
    const onMark = o.onMark;
    trainer.options.onMark = async (mark, r) => {
      const best = t.keep === 'best-val' ? trainer.bestValidation : undefined;
      const save = async (store: BlobStore, extra: Record<string, unknown> = {}) => {
        const snapshot = () => new BaseDetector({ extractor, model, geometry: o.geometry }).save(store, extra);
        await (best ? trainer.withBest(snapshot) : snapshot());
      };
      await onMark(mark, r, save, best?.epoch);
    };
  }
  let training: TrainResult;
  try {
    training = await trainer.fit(source);
    const seconds = (performance.now() - t0) / 1000;
    let keptEpoch = training.epochsCompleted;
    if (!training.stopped || training.stopReason === 'budget') {
      if (t.keep === 'best-val' && trainer.restoreBest()) {
        keptEpoch = training.best!.epoch;
        log.info(`keeping the best validation epoch ${training.best!.epoch} (validation loss ${training.best!.loss.toPrecision(4)}; --keep best-val)`);
      }
    }
    return { training, keptEpoch, seconds };
  } finally {
    task.done();
    trainer.dispose();
  }
}
