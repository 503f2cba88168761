/**
 * `rlr export --format onnx`: the whole detector of a run (backbone, RLR or knn levels, map,
 * image score, threshold and normalisation) as one ONNX model.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportDetector } from '@rlr/onnx';
import { writeOnnxModel } from '@rlr/onnx/node';
import { initBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { modelError, usageError } from '../errors.js';
import { defaultOnnxPath } from '../onnx-scorer.js';
import { runThresholds } from '../run-thresholds.js';
import { openScorer } from '../scorer.js';
import { parseDownloadTimeout } from '../weight-cache.js';
import { VERSION } from '../version.js';

function optionalNumber(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usageError(`${flag}: "${String(v)}" is not a number`, `pass a number, e.g. ${flag} 0.5`);
  return n;
}

/** `rlr export`. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<void> {
  if (opts.format !== 'onnx') throw usageError(`--format: unknown export format "${String(opts.format)}"`, 'use --format onnx');
  const runDir = resolve(ctx.cwd, String(opts.model));
  const out = opts.out === undefined ? defaultOnnxPath(runDir) : resolve(ctx.cwd, String(opts.out));
  let min = optionalNumber(opts.normMin, '--norm-min');
  let max = optionalNumber(opts.normMax, '--norm-max');
  if ((min === undefined) !== (max === undefined)) throw usageError('--norm-min and --norm-max go together', 'pass both (e.g. the lowest and highest scores of normal validation images), or neither');
  if (min !== undefined && max !== undefined && !(max > min)) throw usageError(`--norm-max (${max}) must be greater than --norm-min (${min})`, 'swap them or widen the range');
  // The threshold rlr predict uses: --threshold, else the post-processor's (validation normals).
  const { picker: thresholds, postProcessor: pp } = await runThresholds(runDir, { flag: opts.threshold, log: ctx.log });
  if (min === undefined && pp) {
    // The post-processor's normalisation, 0.5 + (score − threshold) / (max − min), as the graph's
    // min-max form: a range of the same width centred on the threshold.
    const { threshold, min: lo, max: hi } = pp.toJSON().image;
    if (hi > lo) [min, max] = [threshold - (hi - lo) / 2, threshold + (hi - lo) / 2];
  }
  // The export reads the weights on tfjs (any backend gives the same values).
  await initBackend('auto');
  const scorer = await openScorer(runDir, { weights: opts.weights as string | undefined, offline: Boolean(opts.offline), cacheDir: opts.cacheDir as string | undefined, cwd: ctx.cwd, log: ctx.log, downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout), signal: ctx.signal });
  let bytes: Uint8Array;
  try {
    bytes = await exportDetector(scorer.backbone.extractor, scorer.model, {
      postProcessing: { threshold: thresholds.pooled, min, max },
      producerVersion: VERSION,
      metadata: { 'rlr.run': runDir, 'rlr.threshold_source': thresholds.source },
    });
  } catch (e) {
    throw modelError(`cannot export ${runDir} to ONNX: ${(e as Error).message}`, 'the backbone must be EfficientNet or a tfjs layers model (e.g. mobilenet_v1_0.75); see docs/export.md for what is exported', e);
  } finally {
    await scorer.dispose();
  }
  await writeOnnxModel(out, bytes);
  const size = (await stat(out)).size;
  const threshold = thresholds.pooled === null ? 'none (no label output; pass --threshold, or train with a validation split)' : `${thresholds.pooled.toPrecision(4)} (${thresholds.source})`;
  ctx.log.result(
    [`exported ${runDir} to ${out} (${(size / 1e6).toFixed(1)} MB)`, `input: uint8 [batch, ${scorer.geometry.crop.join(', ')}, 3] RGB at the model's size (resize and crop first)`, `threshold: ${threshold}`, `normalisation: ${min === undefined ? 'none' : `[${min}, ${max}]`}`].join('\n'),
    { onnx: out, bytes: size, threshold: thresholds.pooled, threshold_source: thresholds.source, norm_min: min ?? null, norm_max: max ?? null, image_size: scorer.geometry.crop },
  );
}
