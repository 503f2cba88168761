/**
 * A trained run folder as a `@rlr/serve` {@link Predictor}: what `rlr serve` and `rlr worker` score
 * with. It decodes uploads exactly like `rlr predict` decodes files (the run's resize and crop),
 * scores them in one batch on this thread, and labels them with the threshold `rlr predict` would
 * use (pooled mode): `--threshold`, else the model's post-processor (`postprocessor.json`).
 */
import { writeRgbFloat, type ImageBatch, type RawPixels, type Sample, type TransformGeometry } from '@rlr/data';
import { readImagePixels } from '@rlr/data/node';
import { PostProcessor } from '@rlr/engine';
import type { PredictOutcome, Predictor } from '@rlr/serve';
import { initBackend, parseBackendName } from './backend.js';
import type { CommandContext } from './context.js';
import { classifyError, usageError } from './errors.js';
import type { Logger } from './log.js';
import { ONNX_BACKEND, openRunScorer } from './onnx-scorer.js';
import type { OpenOptions } from './scorer.js';
import { runThresholds } from './run-thresholds.js';
import { parseDownloadTimeout } from './weight-cache.js';

/** Options of {@link openRunPredictor}: how to rebuild the backbone, and `--threshold`. */
export interface RunPredictorOptions extends Omit<OpenOptions, 'pool'> {
  /** `--threshold` as typed (default: the pooled threshold of the run's eval report). */
  threshold?: unknown;
  /** `--backend` and `--onnx` as typed: `onnxruntime` scores with the run's exported model.onnx. */
  flags?: { backend?: unknown; onnx?: unknown };
  log: Logger;
}

/**
 * Open `runDir` for serving and warm it up (one batch of a blank image), so `ready()` means the
 * first request pays no compilation.
 * @throws the CLI's model errors (exit code 4) naming the file at fault, before anything is served
 */
export async function openRunPredictor(runDir: string, o: RunPredictorOptions): Promise<Predictor> {
  // As rlr predict: --threshold, else the model's post-processor (fitted on validation normals),
  // else (imported weights) the run's latest eval report.
  const { manifest, picker: thresholds, postProcessor } = await runThresholds(runDir, { flag: o.threshold, log: o.log });
  const threshold = thresholds.pooled;
  // normalizedScore is 0.5 at the threshold: the post-processor's own scale when it gave the
  // threshold, else [0, 2·threshold] mapped onto [0, 1].
  const scale = threshold === null ? null : (postProcessor ?? PostProcessor.manual(threshold));
  const scorer = await openRunScorer(runDir, o.flags ?? {}, o.cwd, { ...o, pool: undefined });
  const { resize, crop, mode, tile } = scorer.geometry;
  if (tile) {
    await scorer.dispose();
    throw usageError(`${runDir} was trained on tiles (--tile), which rlr serve and rlr worker do not score yet`, 'score its images with rlr predict, or serve a run trained on whole images');
  }
  const [height, width] = crop;

  /** One decoded upload: pixels at the run's input size and how they were placed (fit padding). */
  interface Decoded {
    raw: RawPixels;
    geometry: TransformGeometry;
  }

  async function score(images: Decoded[]): Promise<{ scores: Float32Array; maps: Float32Array; height: number; width: number }> {
    const samples: Sample[] = images.map((_, i) => ({ path: `upload ${i + 1}`, category: 'serve', label: 0, defectType: 'unknown' }));
    const all = new Float32Array(images.length * height * width * 3);
    images.forEach((im, i) => writeRgbFloat(im.raw, all, i * height * width * 3));
    const b: ImageBatch = { samples, images: all, masks: new Uint8Array(images.length * height * width), hasMask: images.map(() => false), height, width, geometries: images.map((im) => im.geometry) };
    return scorer.score(b);
  }

  try {
    // Warm-up: one blank image through the whole path, so the first request compiles nothing.
    const gray: RawPixels = { data: new Uint8Array(height * width * 3).fill(128), height, width, channels: 3, maxValue: 255 };
    await score([{ raw: gray, geometry: { sourceHeight: height, sourceWidth: width, resizedHeight: height, resizedWidth: width, top: 0, left: 0, height, width } }]);
  } catch (e) {
    await scorer.dispose();
    throw e;
  }

  return {
    ready: () => Promise.resolve(),
    async predictBatch(buffers, options = {}) {
      // Decoded as rlr predict decodes files: the run's resize, crop and --resize-mode.
      const decoded = await Promise.all(
        buffers.map((buf) =>
          readImagePixels(buf, { resize, crop, mode, label: 'the upload' }).then(
            (im): Decoded => ({ raw: im.raw, geometry: im.geometry }),
            (e: unknown) => ({ error: classifyError(e).message }),
          ),
        ),
      );
      const ok = decoded.flatMap((d, i) => ('error' in d ? [] : [i]));
      const out: PredictOutcome[] = decoded.map((d) => ('error' in d ? d : { error: '' }));
      if (ok.length === 0) return out;
      const r = await score(ok.map((i) => decoded[i] as Decoded));
      const px = r.height * r.width;
      ok.forEach((at, k) => {
        const s = r.scores[k];
        out[at] = {
          score: s,
          normalizedScore: scale === null ? null : scale.normalizeScore(s),
          label: threshold === null ? null : s >= threshold ? 1 : 0,
          threshold,
          ...(options.maps ? { map: { data: r.maps.slice(k * px, (k + 1) * px), height: r.height, width: r.width } } : {}),
        };
      });
      return out;
    },
    close: () => scorer.dispose(),
    describe: () => ({ model: runDir, backbone: manifest.model.backbone, imageSize: [height, width], threshold, thresholdSource: thresholds.source }),
  };
}

/**
 * `rlr serve` and `rlr worker`: start the `--backend` (onnxruntime: tfjs only reads the run) and
 * open `runDir` as a predictor from the command's flags.
 */
export async function openPredictorFromFlags(runDir: string, opts: Record<string, unknown>, ctx: CommandContext): Promise<Predictor> {
  const onnx = opts.backend === ONNX_BACKEND;
  const backend = await initBackend(onnx ? 'auto' : parseBackendName(opts.backend as string | undefined));
  ctx.log.info(`backend: ${onnx ? ONNX_BACKEND : backend}; loading ${runDir}`);
  return openRunPredictor(runDir, {
    threshold: opts.threshold,
    flags: { backend: opts.backend, onnx: opts.onnx },
    weights: opts.weights as string | undefined,
    offline: Boolean(opts.offline),
    cacheDir: opts.cacheDir as string | undefined,
    cwd: ctx.cwd,
    log: ctx.log,
    downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout),
    signal: ctx.signal,
  });
}
