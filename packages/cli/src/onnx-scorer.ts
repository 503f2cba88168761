/**
 * `--backend onnxruntime` for `rlr predict` and `rlr eval`: the run's exported `model.onnx` scores
 * the images in onnxruntime-node. The returned {@link Scorer} has the same shape as the tfjs one
 * (`score(batch) → { scores, maps }`); the run's own model and backbone are opened only for the
 * facts reports print (kind, backbone weights), never for scoring.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { OnnxDetector } from '@rlr/onnx/node';
import { modelError, usageError } from './errors.js';
import type { ImageBatch } from '@rlr/data';
import { excludePadding } from '@rlr/engine';
import { scoreTiledImage } from '@rlr/engine/node';
import { openScorer, type BatchScores, type OpenOptions, type Scorer } from './scorer.js';

/** The backend name that selects onnxruntime. */
export const ONNX_BACKEND = 'onnxruntime';

/** Default place of a run's exported model. */
export function defaultOnnxPath(runDir: string): string {
  return resolve(runDir, 'model.onnx');
}

/** Open `onnxPath` (default `<run>/model.onnx`) for scoring the run's images. */
export async function openOnnxScorer(runDir: string, onnxPath: string | undefined, o: Omit<OpenOptions, 'pool'>): Promise<Scorer> {
  const path = onnxPath ?? defaultOnnxPath(runDir);
  if (!existsSync(path)) {
    throw modelError(`--backend onnxruntime: ${path} does not exist`, `export the run first: rlr export --format onnx --model ${runDir} --out ${path} (or pass --onnx <file>)`);
  }
  let detector: OnnxDetector;
  try {
    detector = await OnnxDetector.open(path);
  } catch (e) {
    const message = (e as Error).message.split('; export it again with: ')[0];
    throw modelError(message, `export the run again: rlr export --format onnx --model ${runDir} --out ${path}`, e);
  }
  let base: Scorer;
  try {
    base = await openScorer(runDir, o);
  } catch (e) {
    await detector.dispose();
    throw e;
  }
  const [h, w] = base.geometry.crop;
  if (detector.imageSize[0] !== h || detector.imageSize[1] !== w) {
    await Promise.all([detector.dispose(), base.dispose()]);
    throw modelError(`${path} takes ${detector.imageSize.join('x')} images but the run ${runDir} uses ${h}x${w}`, `export this run again: rlr export --format onnx --model ${runDir} --out ${path}`);
  }
  const scoreBatch = async (b: ImageBatch): Promise<BatchScores> => {
    const r = await detector.score({ images: b.images, batch: b.samples.length, height: b.height, width: b.width });
    const bad = r.scores.findIndex((s) => !Number.isFinite(s));
    if (bad >= 0) throw modelError(`${path}: the model gave a non-finite score for ${b.samples[bad]?.path}`, `export the run again: rlr export --format onnx --model ${runDir}`);
    return { scores: r.scores, maps: r.maps, height: r.height, width: r.width };
  };
  return {
    ...base,
    // The same rules as the tfjs scorer: `fit` padding excluded, tiles stitched.
    async score(b) {
      return excludePadding(await scoreBatch(b), b.geometries);
    },
    scoreTiled(img, batchSize) {
      return scoreTiledImage(img, scoreBatch, batchSize);
    },
    async dispose() {
      await Promise.all([base.dispose(), detector.dispose()]);
    },
  };
}

/**
 * The scorer a command's flags ask for: onnxruntime with `--backend onnxruntime` (the `--onnx`
 * file, resolved against `cwd`, or `<run>/model.onnx`), else the tfjs one.
 */
export function openRunScorer(runDir: string, flags: { backend?: unknown; onnx?: unknown }, cwd: string, o: OpenOptions): Promise<Scorer> {
  if (flags.backend !== ONNX_BACKEND) {
    if (flags.onnx !== undefined) return Promise.reject(usageError('--onnx applies only to --backend onnxruntime', 'add --backend onnxruntime, or drop --onnx to score with tfjs'));
    return openScorer(runDir, o);
  }
  const rest = { ...o, pool: undefined };
  return openOnnxScorer(runDir, typeof flags.onnx === 'string' ? resolve(cwd, flags.onnx) : undefined, rest);
}
