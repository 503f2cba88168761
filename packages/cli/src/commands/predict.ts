import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { WorkerPool } from '@rlr/core/node';
import { extractTile, keptFraction, mapToSource, sourceRegion, type ImageBatch, type PixelRect, type ResizeMode, type Sample } from '@rlr/data';
import { batches, isImageName, readImage, tiledImages, type TiledImage } from '@rlr/data/node';
import { writeFileAtomic } from '../atomic-write.js';
import { initBackend, parseBackendName } from '../backend.js';
import type { CommandContext } from '../context.js';
import { classifyError, CliError, dataError, InterruptedError, usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { formatTable } from '../format.js';
import { encodePng, overlay, rangeOf, type MapRange } from '../heatmap.js';
import { runGeometry, type Scorer } from '../scorer.js';
import { ONNX_BACKEND, openRunScorer } from '../onnx-scorer.js';
import { describeInput, scoringGeometry } from '../input-geometry.js';
import { tileOptions } from '@rlr/engine/node';
import type { TileSettings } from '../presets.js';
import type { ProgressTask } from '../progress.js';
import { parseWorkers, startWorkers } from '../workers.js';
import { parseCount } from '../settings.js';
import { parseDownloadTimeout } from '../weight-cache.js';
import { runThresholds } from '../run-thresholds.js';
import type { ThresholdPicker } from '../thresholds.js';
import { checkWritable } from '../paths.js';

/** A crop keeping less than this share of an image's pixels is reported (rounding aside, all of it). */
const KEPT_IN_FULL = 0.999;

/** Parse `--overlay-size`: `input` (the model's input size, the default) or `source` (the original image). */
export function parseOverlaySize(value: unknown): 'input' | 'source' {
  if (value === undefined) return 'input';
  const v = String(value).trim().toLowerCase();
  if (v !== 'input' && v !== 'source') throw usageError(`--overlay-size: "${String(value)}" is not input or source`, 'use --overlay-size input (the model input, the default) or --overlay-size source (the original image)');
  return v;
}

/** One line of predictions.jsonl. */
export interface PredictionLine {
  path: string;
  score: number | null;
  /** 1 anomalous, 0 normal, null without a threshold or when the image failed. */
  label: 0 | 1 | null;
  threshold: number | null;
  /** The score mapped into [0, 1] with 0.5 at the threshold (the model's post-processor; absent without one). */
  normalized_score?: number;
  /** `--threshold-mode category`: the category whose threshold labelled the image (null: the pooled one). */
  category?: string | null;
  heatmap: string | null;
  /**
   * The part of the image that was scored, in the original image's pixels (`top`, `left`,
   * `height`, `width`): the centre crop's window for `--resize-mode crop`, the whole image for
   * `fit`, `stretch` and tiling. Null when the image failed.
   */
  region?: PixelRect | null;
  /** How the image reached the model: `crop`, `fit`, `stretch` or `tile`. */
  resize_mode?: ResizeMode | 'tile';
  /** Tiling: tiles scored, and the `[height, width]` of the stitched map and overlay (the image at --tile-scale). */
  tiles?: number;
  map_size?: [number, number];
  error?: string;
}

/** Image files named by `inputs` (files, or folders searched recursively), sorted, deduplicated. */
export async function collectImages(inputs: string[], cwd: string): Promise<string[]> {
  const out = new Set<string>();
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && isImageName(e.name)) out.add(p);
    }
  }
  for (const input of inputs) {
    const p = resolve(cwd, input);
    let st;
    try {
      st = await stat(p);
    } catch {
      throw dataError(`${p} does not exist`, 'pass image files or folders that exist');
    }
    if (st.isDirectory()) await walk(p);
    else out.add(p);
  }
  return [...out].sort();
}

function overlayName(path: string, used: Set<string>): string {
  const stem = basename(path, extname(path)).replace(/[^a-zA-Z0-9._-]+/g, '_');
  let name = `${stem}_overlay.png`;
  for (let k = 2; used.has(name); k++) name = `${stem}_${k}_overlay.png`;
  used.add(name);
  return name;
}

/** The threshold line of the summary. */
function thresholdSummary(t: ThresholdPicker, uncategorised: number): string {
  if (t.pooled === null) return 'threshold: none (scores only)';
  if (t.mode === 'pooled' || t.source === '--threshold') return `threshold: ${t.pooled.toPrecision(4)} (${t.source})`;
  const each = Object.entries(t.categories).map(([c, v]) => `${c} ${v.toPrecision(4)}`).join(', ');
  return `thresholds: per category (${each}; pooled ${t.pooled.toPrecision(4)} for ${uncategorised} image(s) of no known category) from ${t.source}`;
}

/** What the per-batch handlers share. */
interface HandlerContext {
  outDir: string;
  heatmaps: boolean;
  /** `--overlay-size source`: overlays on the original image, the map placed back by the transform. */
  sourceOverlays: boolean;
  thresholds: ThresholdPicker;
  used: Set<string>;
  /** Images whose centre crop dropped pixels, and the smallest share kept (for one warning at the end). */
  cropped: { count: number; minKept: number; example?: string };
  /** The model's post-processor normalisation, when its threshold labels the images. */
  normalize?: (score: number) => number;
}

/** The overlay colour range: fixed by the threshold when there is one, else the map's own range. */
function overlayRange(map: ArrayLike<number>, threshold: number | null): MapRange {
  // With a threshold, one fixed scale for all images: below half the threshold stays clear,
  // 1.5x the threshold and above is full red. Without one, each image uses its own range.
  return threshold !== null ? { min: 0.5 * threshold, max: 1.5 * threshold } : rangeOf(map);
}

/** Rows of a tiled image converted to float at a time for its overlay (bounds the memory). */
const OVERLAY_BAND_ROWS = 256;

/**
 * Score one image on tiles (`--tile`) and write its line and its overlay at the stitched map's
 * size (the image at `--tile-scale`), converting the image to float a band of rows at a time.
 */
async function handleTiled(scorer: Scorer, img: TiledImage, batchSize: number, ctx: HandlerContext): Promise<PredictionLine> {
  const r = await scorer.scoreTiled(img, batchSize);
  const s = img.sample;
  const { value: threshold, category } = ctx.thresholds.pick(s.path);
  let heatmap: string | null = null;
  if (ctx.heatmaps) {
    const { height: H, width: W } = r;
    const range = overlayRange(r.map, threshold);
    const rgb = new Uint8Array(H * W * 3);
    const band = new Float32Array(Math.min(H, OVERLAY_BAND_ROWS) * W * 3);
    for (let top = 0; top < H; top += OVERLAY_BAND_ROWS) {
      const rows = Math.min(OVERLAY_BAND_ROWS, H - top);
      const part = band.subarray(0, rows * W * 3);
      extractTile(img.pixels, { top, left: 0, height: rows, width: W }, part);
      rgb.set(overlay(part, r.map.subarray(top * W, (top + rows) * W), range), top * W * 3);
    }
    heatmap = join(ctx.outDir, overlayName(s.path, ctx.used));
    await writeFileAtomic(heatmap, await encodePng(rgb, H, W));
  }
  const g = img.geometry;
  const line: PredictionLine = {
    path: s.path,
    score: r.score,
    label: threshold === null ? null : r.score >= threshold ? 1 : 0,
    threshold,
    heatmap,
    region: { top: 0, left: 0, height: g.sourceHeight, width: g.sourceWidth },
    resize_mode: 'tile',
    tiles: r.tiles,
    map_size: [r.height, r.width],
  };
  if (ctx.normalize) line.normalized_score = ctx.normalize(r.score);
  if (ctx.thresholds.mode === 'category') line.category = category;
  return line;
}

/** Score one decoded batch and write its lines (and overlays). */
async function handleBatch(scorer: Scorer, b: ImageBatch, ctx: HandlerContext): Promise<PredictionLine[]> {
  const r = await scorer.score(b);
  const px = b.height * b.width;
  const lines: PredictionLine[] = [];
  for (const [i, s] of b.samples.entries()) {
    const score = r.scores[i];
    const { value: threshold, category } = ctx.thresholds.pick(s.path);
    let heatmap: string | null = null;
    if (ctx.heatmaps) {
      const map = r.maps.subarray(i * px, (i + 1) * px);
      const range = overlayRange(map, threshold);
      heatmap = join(ctx.outDir, overlayName(s.path, ctx.used));
      const g = b.geometries?.[i];
      if (ctx.sourceOverlays && g) {
        // The map resampled onto the original image: what a crop left out stays uncoloured.
        const source = await readImage(s.path);
        const placed = mapToSource(map, g, -Infinity);
        await writeFileAtomic(heatmap, await encodePng(overlay(source.data, placed, range), source.height, source.width));
      } else await writeFileAtomic(heatmap, await encodePng(overlay(b.images.subarray(i * px * 3, (i + 1) * px * 3), map, range), b.height, b.width));
    }
    const g = b.geometries?.[i];
    const line: PredictionLine = { path: s.path, score, label: threshold === null ? null : score >= threshold ? 1 : 0, threshold, heatmap };
    if (g) {
      line.region = sourceRegion(g);
      line.resize_mode = scorer.geometry.mode ?? 'crop';
      const kept = keptFraction(g);
      if (kept < KEPT_IN_FULL) {
        ctx.cropped.count++;
        if (kept < ctx.cropped.minKept) Object.assign(ctx.cropped, { minKept: kept, example: s.path });
      }
    }
    if (ctx.normalize) line.normalized_score = ctx.normalize(score);
    if (ctx.thresholds.mode === 'category') line.category = category;
    lines.push(line);
  }
  return lines;
}

/** {@link predictWith} for a tiled run: one image at a time (its tiles, stitched map and overlay are the memory in use). */
async function predictTiled(scorer: Scorer, samples: Sample[], tile: TileSettings, batchSize: number, hctx: HandlerContext, ctx: CommandContext, task: ProgressTask): Promise<PredictionLine[]> {
  const out: PredictionLine[] = [];
  for (let start = 0; start < samples.length; start++) {
    if (ctx.signal?.aborted) {
      task.done();
      throw new InterruptedError(`prediction interrupted after ${start} of ${samples.length} images; predictions.jsonl was not written`, 'rerun rlr predict');
    }
    const s = samples[start];
    let line: PredictionLine;
    try {
      let got: PredictionLine | undefined;
      for await (const img of tiledImages([s], tileOptions(tile))) got = await handleTiled(scorer, img, batchSize, hctx);
      line = got!;
    } catch (e) {
      if (e instanceof CliError && e.exitCode === ExitCode.model) throw e;
      const { message } = classifyError(e);
      ctx.log.warn(`cannot read ${s.path}: ${message}`);
      line = { path: s.path, score: null, label: null, threshold: hctx.thresholds.pick(s.path).value, heatmap: null, region: null, error: message };
    }
    ctx.log.event('prediction', { ...line });
    out.push(line);
    task.tick(1);
  }
  return out;
}

/** `rlr predict`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command, args: string[]): Promise<ExitCodeValue> {
  const runDir = resolve(ctx.cwd, String(opts.model));
  const outDir = resolve(ctx.cwd, (opts.out as string | undefined) ?? 'predictions');
  await checkWritable(outDir, '--out');
  const batchSize = opts.batchSize === undefined ? 8 : Math.max(1, parseCount(opts.batchSize, '--batch-size'));
  parseOverlaySize(opts.overlaySize); // a bad value fails before any model loads
  const files = await collectImages(args, ctx.cwd);
  if (files.length === 0) throw dataError(`no images found in ${args.join(', ')}`, 'pass image files (png, jpg, bmp, tif, webp) or folders holding them');
  const onnx = opts.backend === ONNX_BACKEND;
  const backend = await initBackend(onnx ? 'auto' : parseBackendName(opts.backend as string | undefined));
  ctx.log.info(`backend: ${onnx ? ONNX_BACKEND : backend}; ${files.length} image(s)`);
  const workers = parseWorkers(opts.workers);
  const pool = onnx ? undefined : await startWorkers(backend, workers, ctx.log);
  try {
    return await predictWith(runDir, outDir, batchSize, files, opts, ctx, pool);
  } finally {
    await pool?.close();
  }
}

/** {@link run} once the backend and the workers (if any) are up. */
async function predictWith(runDir: string, outDir: string, batchSize: number, files: string[], opts: Record<string, unknown>, ctx: CommandContext, pool: WorkerPool | undefined): Promise<ExitCodeValue> {
  // Thresholds first: a bad --threshold / --threshold-mode / --category fails before any model loads.
  const { manifest, picker: thresholds, postProcessor: post } = await runThresholds(runDir, { flag: opts.threshold, mode: opts.thresholdMode, category: opts.category, log: ctx.log });
  const geometry = scoringGeometry(runGeometry(manifest), opts, ctx.cwd, ctx.log);
  const scorer = await openRunScorer(runDir, opts, ctx.cwd, { geometry, weights: opts.weights as string | undefined, offline: Boolean(opts.offline), cacheDir: opts.cacheDir as string | undefined, cwd: ctx.cwd, log: ctx.log, pool, downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout), signal: ctx.signal });
  const lines: PredictionLine[] = [];
  try {
    const { resize, crop, mode } = scorer.geometry;
    const samples: Sample[] = files.map((path) => ({ path, category: 'predict', label: 0, defectType: 'unknown' }));
    // Normalised scores when the labels come from the model's post-processor (0.5 = its threshold).
    const normalize = post ? (x: number) => post.normalizeScore(x) : undefined;
    const hctx: HandlerContext = { outDir, heatmaps: opts.heatmaps !== false, sourceOverlays: parseOverlaySize(opts.overlaySize) === 'source', thresholds, used: new Set<string>(), cropped: { count: 0, minKept: 1 }, normalize };
    const task = ctx.log.progress('predict', samples.length, 'img');
    if (geometry.tile || geometry.mode) ctx.log.info(`input: ${describeInput(geometry)}`);
    const tiling = geometry.tile;
    if (tiling) lines.push(...(await predictTiled(scorer, samples, tiling, batchSize, hctx, ctx, task)));
    for (let start = 0; !tiling && start < samples.length; start += batchSize) {
      if (ctx.signal?.aborted) {
        task.done();
        throw new InterruptedError(`prediction interrupted after ${start} of ${samples.length} images; predictions.jsonl was not written`, 'rerun rlr predict');
      }
      const chunk = samples.slice(start, start + batchSize);
      let got: PredictionLine[];
      try {
        got = [];
        for await (const b of batches(chunk, { batchSize, resize, crop, mode, prefetch: 0 })) got.push(...(await handleBatch(scorer, b, hctx)));
      } catch (e) {
        // A model failure (e.g. a non-finite score) is not about one image: stop, score nothing.
        if (e instanceof CliError && e.exitCode === ExitCode.model) throw e;
        // Find the unreadable image(s) of this batch one by one; the rest are still scored.
        got = [];
        for (const s of chunk) {
          try {
            for await (const b of batches([s], { batchSize: 1, resize, crop, mode })) got.push(...(await handleBatch(scorer, b, hctx)));
          } catch (e) {
            if (e instanceof CliError && e.exitCode === ExitCode.model) throw e;
            const { message } = classifyError(e);
            ctx.log.warn(`cannot read ${s.path}: ${message}`);
            got.push({ path: s.path, score: null, label: null, threshold: thresholds.pick(s.path).value, heatmap: null, region: null, error: message });
          }
        }
      }
      for (const l of got) ctx.log.event('prediction', { ...l });
      lines.push(...got);
      task.tick(chunk.length);
    }
    task.done();
    const c = hctx.cropped;
    if (c.count > 0) {
      ctx.log.warn(
        `the centre crop ${crop.join('x')} dropped the borders of ${c.count} of ${samples.length} image(s) (e.g. ${c.example} kept ${(c.minKept * 100).toFixed(0)}% of its pixels): defects there were not scored; each line's "region" gives the scored part in image pixels; fix: train with --resize-mode fit (letterbox) or stretch, or --image-size with the images' aspect ratio`,
        { images: c.count, example: c.example },
      );
    }
  } finally {
    await scorer.dispose();
  }
  const jsonl = join(outDir, 'predictions.jsonl');
  await writeFileAtomic(jsonl, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const failed = lines.filter((l) => l.error !== undefined);
  const anomalous = lines.filter((l) => l.label === 1).length;
  const uncategorised = thresholds.mode === 'category' && thresholds.pooled !== null ? lines.filter((l) => l.category === null).length : 0;
  if (uncategorised > 0) {
    ctx.log.warn(`${uncategorised} image(s) are in no known category folder, so they got the pooled threshold ${thresholds.pooled!.toPrecision(4)}: pass --category <name>, or keep images in <category>/ folders (${Object.keys(thresholds.categories).join(', ')})`);
  }
  const shown = lines.slice(0, 40);
  const text = [
    formatTable(
      ['image', 'score', 'label'],
      shown.map((l) => [l.path, l.score === null ? '-' : l.score.toPrecision(4), l.error ? 'unreadable' : l.label === null ? '?' : l.label ? 'ANOMALOUS' : 'normal']),
    ),
    lines.length > shown.length ? `… and ${lines.length - shown.length} more in ${jsonl}` : '',
    thresholdSummary(thresholds, uncategorised),
    `${lines.length} image(s): ${anomalous} anomalous, ${lines.length - anomalous - failed.length} normal or unlabelled, ${failed.length} unreadable`,
    `predictions: ${jsonl}`,
  ]
    .filter(Boolean)
    .join('\n');
  ctx.log.result(text, {
    predictions: jsonl,
    images: lines.length,
    anomalous,
    failed: failed.length,
    threshold: thresholds.pooled,
    threshold_source: thresholds.source,
    threshold_mode: thresholds.mode,
    ...(thresholds.mode === 'category' ? { thresholds: thresholds.categories } : {}),
  });
  if (failed.length > 0) {
    ctx.log.error(`error: ${failed.length} image(s) could not be read (listed in ${jsonl} with "error")\n  fix: replace or remove the unreadable files`);
    return ExitCode.data;
  }
  return ExitCode.ok;
}
