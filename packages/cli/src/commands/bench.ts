import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { buildKnnModel, createRLR, extractorLevels, FeatureBank, specFromFeatureInfo, Trainer, type FeatureExtractor, type RLRModel } from '@rlr/core';
import { checkCoreset, DEFAULT_CORESET, parseModelKind, type ModelKind } from '../run-settings.js';
import type { WorkerPool } from '@rlr/core/node';
import { backboneRecipe } from '@rlr/backbones/node';
import { BACKENDS, initBackend, probeBackends, type BackendName, type BackendStatus } from '../backend.js';
import { loadBackbone } from '../backbone.js';
import { writeJsonAtomic } from '../atomic-write.js';
import type { CommandContext } from '../context.js';
import { InterruptedError, usageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatTable } from '../format.js';
import { getPreset, PRESETS, type Preset } from '../presets.js';
import { parseCount, parseImageSize } from '../settings.js';
import { parseWorkers, startWorkers, type WorkersOption } from '../workers.js';
import { timeOnnxInference } from '../bench-onnx.js';

/** One measured configuration (the published JSON schema of `rlr bench --json`). */
export interface BenchRow {
  backend: string;
  /** `rlr`, or `knn` (the nearest-neighbour baseline: train_step is the bank build). */
  model: ModelKind;
  /** knn: the coreset fraction, and the training images in its bank. */
  coreset?: number;
  bank_images?: number;
  preset: string;
  backbone: string;
  image_size: [number, number];
  batch: number;
  /** Worker threads each batch was split over (1: the main thread alone). */
  workers: number;
  /** Backbone forward pass (with the 3x3 smoothing), per image. */
  extract_ms_per_image: number;
  /** One RLR training step (forward, backward, Adam, all levels), per image of the batch; knn: building the bank (coreset), per bank image. */
  train_step_ms_per_image: number;
  /** Inference of a new image end to end: backbone, RLR reconstruction, scoring (map, blur, score). */
  infer_ms_per_image: number;
  /** `--onnx`: the same inference with the model exported to ONNX, in onnxruntime-node (CPU). */
  onnxruntime_infer_ms_per_image?: number;
  /** Peak resident memory of the process that measured this row. */
  peak_rss_mb: number;
}

interface BenchSpec {
  backend: BackendName;
  model: ModelKind;
  coreset: number;
  preset: Preset;
  iterations: number;
  warmup: number;
  weights?: string;
  workers: WorkersOption;
  /** Also time the exported ONNX model in onnxruntime. */
  onnx?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Time `fn` `warmup + iterations` times; the median of the timed runs in ms. */
async function timeIt(warmup: number, iterations: number, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Measure one backend × preset in this process. */
export async function measure(spec: BenchSpec, ctx: CommandContext): Promise<BenchRow> {
  const { preset } = spec;
  const backend = await initBackend(spec.backend);
  const [H, W] = preset.model.imageSize;
  const B = preset.train.batchSize;
  const images = tf.randomUniform([B, H, W, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const { extractor } = await loadBackbone(
    // Throughput does not depend on the weights: EfficientNets are measured with random ones.
    { name: preset.model.backbone, outIndices: preset.model.outIndices, weights: spec.weights ?? (preset.model.backbone.startsWith('tf_efficientnet') ? 'random' : undefined), seed: 0, offline: true, cwd: ctx.cwd },
    ctx.log,
    async () => images.clone(),
  );
  const pool = await startWorkers(backend, spec.workers, ctx.log);
  try {
    const row = spec.model === 'knn' ? await timeKnnSteps(spec, extractor, images, pool) : await timeSteps(spec, extractor, images, pool);
    return { ...row, backend, workers: pool?.size ?? 1 };
  } finally {
    await pool?.close();
    tf.dispose(images);
    extractor.dispose();
  }
}

/** Extraction, training step and inference times per image, in the main thread or split over `pool`. */
async function timeSteps(spec: BenchSpec, extractor: FeatureExtractor, images: tf.Tensor4D, pool: WorkerPool | undefined): Promise<Omit<BenchRow, 'backend' | 'workers'>> {
  const { preset } = spec;
  const [H, W] = preset.model.imageSize;
  const B = preset.train.batchSize;
  const data = { images: (await images.data()) as Float32Array, height: H, width: W };
  // Parallel: every worker holds an exact copy of the backbone and scores its part of the batch.
  const remote = pool ? await pool.createExtractor(await backboneRecipe(extractor)) : undefined;
  const extractMs = await timeIt(spec.warmup, spec.iterations, async () => {
    if (remote) {
      await remote.extract(data);
      return;
    }
    const maps = extractor.extract(images);
    await Promise.all(maps.map((m) => m.data()));
    tf.dispose(maps);
  });

  const levels = extractorLevels(extractor, [H, W]);
  const maps = extractor.extract(images);
  const model: RLRModel = createRLR(specFromFeatureInfo(extractor.featureInfo, [H, W]), {
    d: preset.model.hidden,
    heads: preset.model.heads,
    layers: preset.model.layers,
    ffnRatio: preset.model.ffnRatio,
    alpha: preset.model.alpha,
    jitterScale: preset.model.jitterScale,
    seed: preset.train.seed,
  });
  // A bank of (warmup + iterations) batches of real backbone features; one epoch = the timed steps.
  const bank = new FeatureBank(levels);
  for (let i = 0; i < spec.warmup + spec.iterations; i++) await bank.append(maps);
  tf.dispose(maps);
  const stepTimes: number[] = [];
  const trainer = new Trainer(model, { epochs: 1, batchSize: B, lr: preset.train.lr, seed: preset.train.seed, pool });
  trainer.options.onBatch = (r) => {
    if (r.batch > spec.warmup) stepTimes.push((1000 * B) / r.imagesPerSecond);
  };
  await trainer.fit(bank);
  trainer.dispose();

  const predictor = pool ? await pool.predictor(model) : undefined;
  const inferMs = await timeIt(spec.warmup, spec.iterations, async () => {
    if (predictor && remote) {
      await predictor.scoreImages(remote, data.images, H, W, { batchSize: B });
      return;
    }
    const f = extractor.extract(images);
    await model.predict(f, { batchSize: B });
    tf.dispose(f);
  });
  await predictor?.close();
  await remote?.dispose();
  const onnxMs = spec.onnx ? await timeOnnxInference(extractor, model, { ...data, batch: B }, { warmup: spec.warmup, iterations: spec.iterations, threads: pool?.size ?? 1, time: timeIt }) : undefined;
  model.dispose();
  return {
    model: 'rlr',
    preset: preset.name,
    backbone: preset.model.backbone,
    image_size: [H, W],
    batch: B,
    extract_ms_per_image: extractMs / B,
    train_step_ms_per_image: median(stepTimes) / B,
    infer_ms_per_image: inferMs / B,
    ...(onnxMs === undefined ? {} : { onnxruntime_infer_ms_per_image: onnxMs / B }),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/** Training images in the bank `rlr bench --model knn` builds and scores against. */
const KNN_BANK_IMAGES = 32;

/** Extraction, bank build (per bank image) and inference times of the knn baseline. */
async function timeKnnSteps(spec: BenchSpec, extractor: FeatureExtractor, images: tf.Tensor4D, pool: WorkerPool | undefined): Promise<Omit<BenchRow, 'backend' | 'workers'>> {
  const { preset } = spec;
  const [H, W] = preset.model.imageSize;
  const B = preset.train.batchSize;
  const data = { images: (await images.data()) as Float32Array, height: H, width: W };
  const remote = pool ? await pool.createExtractor(await backboneRecipe(extractor)) : undefined;
  const extractMaps = async (): Promise<tf.Tensor4D[]> => (remote ? (await remote.extract(data)).map((m) => tf.tensor4d(m.data, m.shape)) : extractor.extract(images));
  const extractMs = await timeIt(spec.warmup, spec.iterations, async () => {
    const maps = await extractMaps();
    await Promise.all(maps.map((m) => m.data()));
    tf.dispose(maps);
  });
  // A bank of distinct random images (the same image repeated would make every token a duplicate).
  const bank = new FeatureBank(extractorLevels(extractor, [H, W]));
  for (let k = 0; bank.size < KNN_BANK_IMAGES; k++) {
    const batch = tf.randomUniform([B, H, W, 3], 0, 1, 'float32', 100 + k) as tf.Tensor4D;
    const maps = extractor.extract(batch);
    await bank.append(maps);
    tf.dispose([batch, ...maps]);
  }
  const t = performance.now();
  const model = await buildKnnModel(specFromFeatureInfo(extractor.featureInfo, [H, W]), bank, { coreset: spec.coreset, seed: preset.train.seed });
  const buildMs = performance.now() - t;
  const inferMs = await timeIt(spec.warmup, spec.iterations, async () => {
    const f = await extractMaps();
    await model.predict(f);
    tf.dispose(f);
  });
  const onnxMs = spec.onnx ? await timeOnnxInference(extractor, model, { ...data, batch: B }, { warmup: spec.warmup, iterations: spec.iterations, threads: pool?.size ?? 1, time: timeIt }) : undefined;
  model.dispose();
  await remote?.dispose();
  return {
    model: 'knn',
    coreset: spec.coreset,
    bank_images: bank.size,
    preset: preset.name,
    backbone: preset.model.backbone,
    image_size: [H, W],
    batch: B,
    extract_ms_per_image: extractMs / B,
    train_step_ms_per_image: buildMs / bank.size,
    infer_ms_per_image: inferMs / B,
    ...(onnxMs === undefined ? {} : { onnxruntime_infer_ms_per_image: onnxMs / B }),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

/** Child processes of this `rlr bench` that are still running (ended if this process exits). */
const children = new Set<ChildProcess>();
let exitHook = false;

/**
 * Run one measurement in a child process so that each row's peak memory is its own. The child
 * ends when `signal` aborts (Ctrl-C / SIGTERM to `rlr bench`) and when this process exits for any
 * reason (a second Ctrl-C exits at once): no measurement keeps running on its own.
 */
function measureInChild(args: string[], signal: AbortSignal | undefined): Promise<BenchRow> {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  return new Promise((res, rej) => {
    if (signal?.aborted) {
      rej(interrupted());
      return;
    }
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'bench', ...args, '--child', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => {
      children.delete(child);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) {
        rej(interrupted());
        return;
      }
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        res(JSON.parse(line) as BenchRow);
      } catch (e) {
        rej(new Error(`bench child ${args.join(' ')} failed: ${(e as Error).message}`));
      }
    });
  });
}

function interrupted(): InterruptedError {
  return new InterruptedError('bench interrupted; its measurement process was stopped and nothing was written', 'rerun rlr bench');
}

/**
 * The backends `rlr bench` measures without `--backends`: the default one only (`tensorflow`
 * when installed, else `wasm`). The pure-JS `cpu` backend takes minutes per paper-preset step, so
 * it is measured only when asked for (`--backends cpu`).
 */
export function defaultBenchBackends(available: BackendStatus[]): BackendName[] {
  const first = available.find((b) => b.available && b.name !== 'cpu');
  return [first ? first.name : 'cpu'];
}

function presetFor(name: string, opts: Record<string, unknown>): Preset {
  const p = getPreset(name);
  if (!p) throw usageError(`--presets: unknown preset "${name}"`, `use any of ${Object.keys(PRESETS).join(', ')}`);
  if (opts.backbone) p.model.backbone = String(opts.backbone);
  if (opts.imageSize) p.model.imageSize = parseImageSize(String(opts.imageSize));
  if (opts.batchSize) p.train.batchSize = Math.max(1, parseCount(opts.batchSize, '--batch-size'));
  return p;
}

/** `rlr bench`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  const iterations = opts.iterations === undefined ? 2 : Math.max(1, parseCount(opts.iterations, '--iterations'));
  const warmup = opts.warmup === undefined ? 1 : parseCount(opts.warmup, '--warmup');
  const presets = String(opts.presets ?? 'fast,paper').split(',').map((s) => s.trim()).filter(Boolean);
  presets.forEach((p) => presetFor(p, opts));
  const workers = parseWorkers(opts.workers);
  const model = parseModelKind(opts.model);
  if (opts.coreset !== undefined && model !== 'knn') throw usageError('--coreset applies only to the nearest-neighbour model', 'add --model knn, or drop --coreset');
  const coreset = opts.coreset === undefined ? DEFAULT_CORESET : checkCoreset(Number(opts.coreset));
  if (opts.child) {
    // A measurement has nothing to save: stop at the first signal (the parent sends one when it is interrupted).
    ctx.signal?.addEventListener('abort', () => process.exit(ExitCode.interrupted), { once: true });
    const backend = String(opts.backends) as BackendName;
    const row = await measure({ backend, model, coreset, preset: presetFor(presets[0], opts), iterations, warmup, weights: opts.weights as string | undefined, workers, onnx: Boolean(opts.onnx) }, ctx);
    ctx.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  let backends: BackendName[];
  if (opts.backends) {
    backends = String(opts.backends).split(',').map((s) => s.trim()) as BackendName[];
    for (const b of backends) if (!(BACKENDS as readonly string[]).includes(b)) throw usageError(`--backends: unknown backend "${b}"`, `use any of ${BACKENDS.join(', ')}`);
  } else {
    backends = defaultBenchBackends(await probeBackends());
  }
  const rows: BenchRow[] = [];
  const passOn = (flag: string, v: unknown) => (v === undefined ? [] : [flag, String(v)]);
  for (const backend of backends) {
    for (const preset of presets) {
      ctx.log.info(`measuring ${model === 'knn' ? `knn (coreset ${coreset}) with ${preset}'s backbone` : preset} on ${backend} …`);
      const args = ['--backends', backend, '--presets', preset, '--iterations', String(iterations), '--warmup', String(warmup), ...passOn('--backbone', opts.backbone), ...passOn('--image-size', opts.imageSize), ...passOn('--batch-size', opts.batchSize), ...passOn('--weights', opts.weights), '--workers', String(workers), '--model', model, ...(model === 'knn' ? ['--coreset', String(coreset)] : []), ...(opts.onnx ? ['--onnx'] : [])];
      const row = await measureInChild(args, ctx.signal);
      rows.push(row);
      ctx.log.event('bench', { ...row });
    }
  }
  if (opts.json) await writeJsonAtomic(resolve(ctx.cwd, String(opts.json)), rows);
  const onnx = Boolean(opts.onnx);
  const text = formatTable(
    ['backend', 'workers', 'model', 'preset', 'backbone', 'size', 'batch', 'extract ms/img', model === 'knn' ? 'bank build ms/img' : 'train ms/img', 'infer ms/img', ...(onnx ? ['onnxruntime infer ms/img'] : []), 'peak RSS MB'],
    rows.map((r) => [r.backend, r.workers, r.model, r.preset, r.backbone, r.image_size.join('x'), r.batch, r.extract_ms_per_image.toFixed(1), r.train_step_ms_per_image.toFixed(1), r.infer_ms_per_image.toFixed(1), ...(onnx ? [r.onnxruntime_infer_ms_per_image?.toFixed(1) ?? '-'] : []), r.peak_rss_mb.toFixed(0)]),
  );
  ctx.log.result(`${text}${opts.json ? `\n\nwritten to ${resolve(ctx.cwd, String(opts.json))}` : ''}`, { rows });
  void cmd;
}
