import { basename, extname, join } from 'node:path';
import { downscaleMask, downscaleMean, fitWithin, type AnomalyDataset, type ImageBatch, type RawPixels, type Sample } from '@rlr/data';
import { batches, readSyntheticManifest, SYNTHETIC_MANIFEST, tiledImages } from '@rlr/data/node';
import type { MapScores } from '@rlr/engine';
import { tileOptions, warnAboutTestCrops } from '@rlr/engine/node';
import { CategoryEvaluator, imageMetrics, summarizeCategories, type CategoryMetrics as MetricsCategory } from '@rlr/metrics';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write.js';
import { testByCategory } from './dataset.js';
import { dataError, InterruptedError } from './errors.js';
import { colourBar, encodePng, maskToRgb, overlay, rangeOf, toRgb8, type MapRange } from './heatmap.js';
import type { Logger } from './log.js';
import type { CategoryMetrics, MetricsReport } from './metrics-report.js';
import { pickGallery, type ScoredItem } from './gallery.js';
import type { GalleryEntry, ReportData } from './report-data.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { compareWithPaper, paperBenchmarkFor } from './paper-results.js';
import type { EpochRecord } from './run-dir.js';
import type { Scorer } from './scorer.js';
import { isKnn } from './model-io.js';

/** Options of {@link evaluateRun}. */
export interface EvaluateOptions {
  batchSize: number;
  /** Gallery images per category. */
  gallery: number;
  /** Also write an overlay PNG for every test image under `<out>/heatmaps/`. */
  saveHeatmaps: boolean;
  log: Logger;
  signal?: AbortSignal;
  /** Shown at the top of the reports. */
  notes: string[];
  /** Training loss history for the loss curve. */
  history: EpochRecord[];
  /** Extra entries of metrics.json `model`. */
  modelInfo: Record<string, unknown>;
  title?: string;
}

/** What {@link evaluateRun} wrote. */
export interface EvaluationResult {
  metrics: MetricsReport;
  files: { metrics: string; markdown: string; html: string };
}

const CURVE_POINTS = 200;

/** Longest side of a tiled run's gallery images (their stitched maps are at the image size). */
const GALLERY_SIDE = 384;

function snake(m: MetricsCategory): CategoryMetrics {
  return {
    image: { auroc: m.image.auroc, ap: m.image.ap, f1_max: m.image.f1Max, threshold: m.image.threshold },
    pixel: m.pixel && { auroc: m.pixel.auroc, ap: m.pixel.ap, f1_max: m.pixel.f1Max, aupro: m.pixel.aupro },
    counts: m.counts,
  };
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]+/g, '_');
}

/**
 * Score the test set category by category, compute the metrics (@rlr/metrics), pick and render
 * the heatmap gallery, and write metrics.json, report.md (+ PNGs) and report.html into `outDir`.
 */
export async function evaluateRun(scorer: Scorer, ds: AnomalyDataset, outDir: string, o: EvaluateOptions): Promise<EvaluationResult> {
  const t0 = performance.now();
  const groups = testByCategory(ds);
  if (groups.size === 0) throw dataError(`${ds.root}: the dataset has no test images`, 'evaluate on a dataset with a test split (folder format: --abnormal-dir and --normal-test-dir or a hold-out)');
  const total = [...groups.values()].reduce((n, l) => n + l.length, 0);
  if (!scorer.geometry.tile) await warnAboutTestCrops(ds.test, scorer.geometry, o.log);
  const task = o.log.progress('evaluate', total, 'img');
  const scored: ScoredItem[] = [];
  const samples: Sample[] = [];
  const categories: Record<string, MetricsCategory> = {};
  let scoringS = 0;
  let metricsS = 0;
  for (const [category, list] of groups) {
    const withMasks = list.some((s) => s.maskPath !== undefined);
    let ev: CategoryEvaluator | undefined;
    let size: [number, number] | undefined;
    for await (const { b, r, seconds } of scoredBatches(scorer, list, o.batchSize)) {
      if (o.signal?.aborted) {
        task.done();
        throw new InterruptedError('evaluation interrupted; nothing was written', 'rerun rlr eval');
      }
      scoringS += seconds;
      // Tiled maps have the size of each (scaled) image: a category's masked images must agree.
      size ??= [r.height, r.width];
      ev ??= new CategoryEvaluator(category, { height: r.height, width: r.width, curvePoints: CURVE_POINTS });
      if (withMasks && (size[0] !== r.height || size[1] !== r.width)) {
        throw dataError(
          `${b.samples[0].path}: its anomaly map is ${r.height}x${r.width} but the first image of category "${category}" gave ${size.join('x')}; pixel metrics need one size per category`,
          'evaluate tiled runs on images of one size per category (resize them beforehand), or score them with rlr predict',
        );
      }
      const labels = Uint8Array.from(b.samples, (s) => s.label);
      const tm = performance.now();
      ev.add({ labels, scores: r.scores, ...(withMasks ? { maps: r.maps, masks: b.masks } : {}) });
      metricsS += (performance.now() - tm) / 1000;
      b.samples.forEach((s, i) => {
        scored.push({ index: samples.length, category, label: s.label, score: r.scores[i] });
        samples.push(s);
      });
      task.tick(b.samples.length);
      o.log.event('scored', { category, images: b.samples.length, done: samples.length, total });
    }
    const tm = performance.now();
    try {
      categories[category] = ev!.result();
    } catch (e) {
      throw dataError(`cannot evaluate category "${category}": ${(e as Error).message}`, 'each category needs normal and anomalous test images');
    }
    metricsS += (performance.now() - tm) / 1000;
  }
  const evalS = task.done();

  const summary = summarizeCategories(categories);
  const pooled = imageMetrics(
    Uint8Array.from(scored, (s) => s.label),
    Float64Array.from(scored, (s) => s.score),
    { name: 'pooled image scores' },
  );
  const counts = { normal: scored.filter((s) => s.label === 0).length, anomalous: scored.filter((s) => s.label === 1).length };

  // Gallery: re-score the few picked images to get their maps back (cheaper than keeping all maps).
  const tg = performance.now();
  const picks = pickGallery(scored, o.gallery);
  if (scorer.geometry.tile && picks.length > 0) o.notes.push(`Tiled run (--tile): the gallery shows each image and its stitched map shrunk to at most ${GALLERY_SIDE} px a side; rlr predict writes full-resolution overlays.`);
  const gallery = await renderGallery(scorer, picks.map((p) => ({ sample: samples[p.index], reason: p.reason })), o.batchSize);
  if (o.saveHeatmaps && scorer.geometry.tile) o.notes.push('Tiled run (--tile): --save-heatmaps writes nothing; rlr predict writes a full-resolution overlay per image.');
  if (o.saveHeatmaps && !scorer.geometry.tile) await writeAllHeatmaps(scorer, samples, outDir, o, (c) => gallery.ranges.get(c) ?? gallery.range);
  const galleryS = (performance.now() - tg) / 1000;

  const metrics: MetricsReport = {
    categories: Object.fromEntries(Object.entries(summary.categories).map(([k, v]) => [k, snake(v)])),
    mean: {
      image: { auroc: summary.mean.image.auroc, ap: summary.mean.image.ap, f1_max: summary.mean.image.f1Max },
      pixel: summary.mean.pixel && { auroc: summary.mean.pixel.auroc, ap: summary.mean.pixel.ap, f1_max: summary.mean.pixel.f1Max, aupro: summary.mean.pixel.aupro },
    },
    pooled: { image: { auroc: pooled.auroc, ap: pooled.ap, f1_max: pooled.f1Max, threshold: pooled.threshold }, counts },
    model: {
      backbone: scorer.manifest.model.backbone,
      backbone_weights: scorer.backbone.weightsDescription,
      pretrained: scorer.backbone.pretrained,
      preset: scorer.manifest.preset,
      out_indices: scorer.manifest.model.outIndices,
      image_size: scorer.manifest.model.imageSize,
      ...(isKnn(scorer.model)
        ? { kind: 'knn', coreset: scorer.model.config.coreset, bank_tokens: scorer.model.bankSizes }
        : {
            layers: scorer.manifest.model.layers,
            hidden: scorer.manifest.model.hidden,
            epochs: scorer.manifest.epochsDone,
            // The saved model's own settings (docs/variants.md): attention variant and α per level, noise scale.
            attention: scorer.model.levelConfigs.map((l) => l.attention ?? 'mlka+lca'),
            alpha: scorer.model.levelConfigs.map((l) => l.alpha),
            jitter_scale: scorer.model.config.jitterScale,
          }),
      ...o.modelInfo,
    },
    data: { root: ds.root, format: ds.format, categories: [...ds.categories], test_images: total, skipped: ds.skipped.length },
    timing: {
      evaluate_s: evalS,
      extract_and_score_s: scoringS,
      metrics_s: metricsS,
      gallery_s: galleryS,
      total_s: (performance.now() - t0) / 1000,
      ms_per_image: (scoringS * 1000) / total,
    },
  };

  // The published numbers, on MVTec AD or VisA; not for the synthetic generator's look-alike
  // categories (its "grid" and "wood" are not MVTec AD's).
  const benchmark = paperBenchmarkFor(ds.format, Object.keys(metrics.categories));
  if (benchmark && !(await readSyntheticManifest(join(ds.root, SYNTHETIC_MANIFEST)))) metrics.paper = compareWithPaper(metrics, benchmark);

  const report: ReportData = {
    title: o.title ?? `${isKnn(scorer.model) ? 'Nearest-neighbour baseline' : 'RLR'} evaluation: ${ds.categories.join(', ')}`,
    generatedAt: new Date().toISOString(),
    metrics,
    curves: Object.fromEntries(
      Object.entries(summary.categories)
        .filter(([, m]) => m.curves)
        .map(([k, m]) => [k, { roc: { x: Array.from(m.curves!.image.roc.fpr), y: Array.from(m.curves!.image.roc.tpr) }, pr: { x: Array.from(m.curves!.image.pr.recall), y: Array.from(m.curves!.image.pr.precision) } }]),
    ),
    loss: o.history.map((h) => ({ epoch: h.epoch, loss: h.loss })),
    gallery: gallery.entries,
    legend: { png: await encodePng(colourBar(256, 12), 12, 256), ...gallery.range },
    notes: o.notes,
  };
  const files = { metrics: join(outDir, 'metrics.json'), markdown: join(outDir, 'report.md'), html: join(outDir, 'report.html') };
  for (const g of gallery.entries) {
    for (const part of [g.image, g.mask, g.overlay]) if (part) await writeFileAtomic(join(outDir, part.file), part.png);
  }
  await writeJsonAtomic(files.metrics, metrics);
  await writeFileAtomic(files.markdown, renderMarkdown(report));
  await writeFileAtomic(files.html, renderHtml(report));
  return { metrics, files };
}

/** The decoder's pixels shrunk to `h x w` as RGB floats in [0, 1] (straight from the integers: no full-size float copy). */
function shrunkRgb(p: RawPixels, h: number, w: number): Float32Array {
  const small = downscaleMean(p.data, p.height, p.width, p.channels, h, w);
  const out = new Float32Array(h * w * 3);
  const colour = p.channels >= 3;
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = small[i * p.channels + (colour ? c : 0)] / p.maxValue;
  }
  return out;
}

/** One scored batch of test images, its maps and masks, and the seconds scoring took. */
interface ScoredBatch {
  b: Pick<ImageBatch, 'samples' | 'masks'>;
  r: MapScores;
  seconds: number;
}

/**
 * Scores `list` batch by batch as the run's geometry says: resized or letterboxed batches, or,
 * with tiling, one image at a time (its stitched map at the scaled image size, its mask alike).
 */
async function* scoredBatches(scorer: Scorer, list: Sample[], batchSize: number): AsyncIterable<ScoredBatch> {
  const { resize, crop, mode, tile } = scorer.geometry;
  if (!tile) {
    for await (const b of batches(list, { batchSize, resize, crop, mode })) {
      const ts = performance.now();
      const r = await scorer.score(b);
      yield { b, r, seconds: (performance.now() - ts) / 1000 };
    }
    return;
  }
  for await (const img of tiledImages(list, tileOptions(tile))) {
    const ts = performance.now();
    const t = await scorer.scoreTiled(img, batchSize);
    const r = { scores: Float32Array.of(t.score), maps: t.map, height: t.height, width: t.width };
    yield { b: { samples: [img.sample], masks: img.mask?.data ?? new Uint8Array(t.height * t.width) }, r, seconds: (performance.now() - ts) / 1000 };
  }
}

async function renderGallery(scorer: Scorer, picks: { sample: Sample; reason: string }[], batchSize: number): Promise<{ entries: GalleryEntry[]; range: MapRange; ranges: Map<string, MapRange> }> {
  const { resize, crop, mode, tile } = scorer.geometry;
  const raw: { sample: Sample; reason: string; image: Float32Array; mask?: Uint8Array; map: Float32Array; score: number; size: [number, number] }[] = [];
  const reasonOf = new Map(picks.map((p) => [p.sample.path, p.reason]));
  if (tile) {
    // Tiled: each picked image scored again on tiles, then shrunk (image and map by box average,
    // the mask keeping any defect pixel) so the report stays small.
    for await (const img of tiledImages(picks.map((p) => p.sample), tileOptions(tile))) {
      const t = await scorer.scoreTiled(img, batchSize);
      const [h, w] = fitWithin(t.height, t.width, GALLERY_SIDE);
      raw.push({
        sample: img.sample,
        reason: reasonOf.get(img.sample.path) ?? '',
        image: shrunkRgb(img.pixels, h, w),
        mask: img.mask ? downscaleMask(img.mask.data, t.height, t.width, h, w) : undefined,
        map: downscaleMean(t.map, t.height, t.width, 1, h, w),
        score: t.score,
        size: [h, w],
      });
    }
  }
  for await (const b of tile ? [] : batches(picks.map((p) => p.sample), { batchSize, resize, crop, mode })) {
    const r = await scorer.score(b);
    const px = b.height * b.width;
    b.samples.forEach((s, i) => {
      raw.push({
        sample: s,
        reason: reasonOf.get(s.path) ?? '',
        image: b.images.slice(i * px * 3, (i + 1) * px * 3),
        mask: b.hasMask[i] ? b.masks.slice(i * px, (i + 1) * px) : undefined,
        map: r.maps.slice(i * px, (i + 1) * px),
        score: r.scores[i],
        size: [b.height, b.width],
      });
    });
  }
  // One colour range per category (score scales differ between categories), shared by that
  // category's images so that its normals and anomalies are comparable.
  const ranges = new Map<string, MapRange>();
  for (const r of raw) {
    const own = rangeOf(r.map);
    const cur = ranges.get(r.sample.category);
    ranges.set(r.sample.category, cur ? { min: Math.min(cur.min, own.min), max: Math.max(cur.max, own.max) } : own);
  }
  const spans = [...ranges.values()];
  const range = spans.length ? { min: Math.min(...spans.map((r) => r.min)), max: Math.max(...spans.map((r) => r.max)) } : { min: 0, max: 1 };
  const entries: GalleryEntry[] = [];
  for (const [k, r] of raw.entries()) {
    const [H, W] = r.size;
    const stem = `gallery/${String(k).padStart(2, '0')}_${safeName(r.sample.category)}_${safeName(basename(r.sample.path, extname(r.sample.path)))}`;
    entries.push({
      category: r.sample.category,
      path: r.sample.path,
      label: r.sample.label,
      score: r.score,
      reason: r.reason,
      image: { file: `${stem}.png`, png: await encodePng(toRgb8(r.image), H, W) },
      // A normal image's ground truth is an empty mask; an anomaly without a mask has none to show.
      mask: r.mask || r.sample.label === 0 ? { file: `${stem}_mask.png`, png: await encodePng(maskToRgb(r.mask ?? new Uint8Array(H * W)), H, W) } : undefined,
      overlay: { file: `${stem}_overlay.png`, png: await encodePng(overlay(r.image, r.map, ranges.get(r.sample.category)!), H, W) },
    });
  }
  return { entries, range, ranges };
}

async function writeAllHeatmaps(scorer: Scorer, samples: Sample[], outDir: string, o: EvaluateOptions, rangeFor: (category: string) => MapRange): Promise<void> {
  const { resize, crop, mode } = scorer.geometry;
  const task = o.log.progress('heatmaps', samples.length, 'img');
  for await (const b of batches(samples, { batchSize: o.batchSize, resize, crop, mode })) {
    const r = await scorer.score(b);
    const px = b.height * b.width;
    for (const [i, s] of b.samples.entries()) {
      const map = r.maps.subarray(i * px, (i + 1) * px);
      const png = await encodePng(overlay(b.images.subarray(i * px * 3, (i + 1) * px * 3), map, rangeFor(s.category)), b.height, b.width);
      await writeFileAtomic(join(outDir, 'heatmaps', safeName(s.category), safeName(s.defectType), `${basename(s.path, extname(s.path))}_overlay.png`), png);
    }
    task.tick(b.samples.length);
  }
  task.done();
}
