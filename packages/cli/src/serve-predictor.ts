/**
 * A trained run folder as a `@rlr/serve` {@link Predictor}: what `rlr serve` and `rlr worker` score
 * with. It decodes uploads exactly like `rlr predict` decodes files (the run's resize and crop),
 * scores them in one batch on this thread, and labels them with the threshold `rlr predict` would
 * use (pooled mode). The engine's `Detector` can replace it behind the same interface.
 */
import type { ImageBatch, Sample } from '@rlr/data';
import { readImage } from '@rlr/data/node';
import type { PredictOutcome, Predictor } from '@rlr/serve';
import { classifyError } from './errors.js';
import type { Logger } from './log.js';
import { readManifest, runPath } from './run-dir.js';
import { openScorer, type OpenOptions } from './scorer.js';
import { thresholdPicker } from './thresholds.js';

/** Options of {@link openRunPredictor}: how to rebuild the backbone, and `--threshold`. */
export interface RunPredictorOptions extends Omit<OpenOptions, 'pool'> {
  /** `--threshold` as typed (default: the pooled threshold of the run's eval report). */
  threshold?: unknown;
  log: Logger;
}

/**
 * Open `runDir` for serving and warm it up (one batch of a blank image), so `ready()` means the
 * first request pays no compilation.
 * @throws the CLI's model errors (exit code 4) naming the file at fault, before anything is served
 */
export async function openRunPredictor(runDir: string, o: RunPredictorOptions): Promise<Predictor> {
  const manifest = await readManifest(runDir);
  const thresholds = await thresholdPicker({ flag: o.threshold, reportDir: manifest.report ?? runPath(runDir, 'report'), datasetRoots: [], runDir, log: o.log });
  const threshold = thresholds.pooled;
  const scorer = await openScorer(runDir, { ...o, pool: undefined });
  const { resize, crop } = scorer.geometry;
  const [height, width] = typeof crop === 'number' ? [crop, crop] : crop;

  async function score(images: Float32Array[], maps: boolean): Promise<{ scores: Float32Array; maps: Float32Array; height: number; width: number }> {
    const samples: Sample[] = images.map((_, i) => ({ path: `upload ${i + 1}`, category: 'serve', label: 0, defectType: 'unknown' }));
    const all = new Float32Array(images.length * height * width * 3);
    images.forEach((im, i) => all.set(im, i * height * width * 3));
    const b: ImageBatch = { samples, images: all, masks: new Uint8Array(images.length * height * width), hasMask: images.map(() => false), height, width };
    const r = await scorer.score(b);
    return maps ? r : { ...r, maps: new Float32Array(0) };
  }

  try {
    await score([new Float32Array(height * width * 3).fill(0.5)], false);
  } catch (e) {
    await scorer.dispose();
    throw e;
  }

  return {
    ready: () => Promise.resolve(),
    async predictBatch(buffers, options = {}) {
      const decoded = await Promise.all(
        buffers.map((buf, i) =>
          readImage(buf, { resize, crop, label: buffers.length === 1 ? 'the upload' : `upload ${i + 1} of the batch` }).then(
            (im) => im.data,
            (e: unknown) => ({ error: classifyError(e).message }),
          ),
        ),
      );
      const ok = decoded.flatMap((d, i) => (d instanceof Float32Array ? [i] : []));
      const out: PredictOutcome[] = decoded.map((d) => (d instanceof Float32Array ? { error: '' } : d));
      if (ok.length === 0) return out;
      const r = await score(ok.map((i) => decoded[i] as Float32Array), Boolean(options.maps));
      const px = r.height * r.width;
      ok.forEach((at, k) => {
        const s = r.scores[k];
        out[at] = {
          score: s,
          normalizedScore: threshold === null ? null : s / threshold,
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
