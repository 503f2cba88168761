import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { backboneFeatureInfo } from '@rlr/backbones';
import { importOfficialCheckpoint, isTorchZip, specFromFeatureInfo, type RLRModel } from '@rlr/core';
import { initBackend, parseBackendName } from '../backend.js';
import { loadBackbone, saveRunBackbone } from '../backbone.js';
import type { CommandContext } from '../context.js';
import { modelError, usageError } from '../errors.js';
import { formatTable } from '../format.js';
import { saveModelDir } from '../model-io.js';
import { paper } from '../presets.js';
import { runPath, writeManifest, type RunManifest } from '../run-dir.js';
import { flagSettings } from '../run-settings.js';
import { runVersions } from '../version.js';
import { parseDownloadTimeout } from '../weight-cache.js';

/** The released configuration's input: EfficientNet-B6 levels 2 and 3 of a 256x256 crop. */
const OFFICIAL = { backbone: 'tf_efficientnet_b6', outIndices: [2, 3], imageSize: [256, 256] as [number, number] };

/**
 * `rlr import --official <file> --out <run-dir>`: a run folder (run.json, model/) around the
 * authors' released weights, read from their `.pth` (tensor-only reader, no pickle code is run)
 * or from a safetensors conversion with the official names. `rlr eval` and `rlr predict` accept
 * the folder like one `rlr train` wrote; eval needs `--data`, since the weights carry no dataset.
 */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, cmd: Command): Promise<void> {
  const given = flagSettings(cmd, ctx.cwd);
  const file = resolve(ctx.cwd, String(opts.official));
  const out = given.out;
  if (!out) throw usageError('rlr import needs --out <run-dir>', 'e.g. rlr import --official rlr-mvtec.pth --out runs/official-mvtec');
  if (existsSync(join(out, 'run.json'))) throw usageError(`${out} already holds a run`, 'choose another --out');
  if (given.weights === 'random') {
    throw usageError('--weights random cannot be used with imported RLR weights: they only fit the pretrained backbone they were trained on', 'drop --weights (the timm ImageNet weights are downloaded once) or pass them as a local file');
  }
  const backboneName = given.backbone ?? OFFICIAL.backbone;
  const outIndices = given.outIndices ?? OFFICIAL.outIndices;
  const imageSize = given.imageSize ?? OFFICIAL.imageSize;
  const resize = given.resize ?? Math.min(...imageSize);
  let info;
  try {
    info = backboneFeatureInfo(backboneName, outIndices);
  } catch (e) {
    throw usageError((e as Error).message, 'pick a registered --backbone and --out-indices it has (the released models: --backbone tf_efficientnet_b6 --out-indices 2,3)');
  }
  const spec = specFromFeatureInfo(info, imageSize);

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw modelError(`cannot read ${file}: ${(e as Error).message}`, 'pass the checkpoint file with --official <file.pth|file.safetensors>', e);
  }
  const format: 'pth' | 'safetensors' = isTorchZip(bytes) ? 'pth' : 'safetensors';
  const backend = await initBackend(parseBackendName(given.backend));
  ctx.log.info(`backend: ${backend}; reading ${format} checkpoint ${file}`);
  let model: RLRModel;
  try {
    const w = given.window;
    model = importOfficialCheckpoint(
      bytes,
      { spec, heads: given.heads ?? 8, ...(w ? { window: w.length === 1 ? w[0] : w } : {}), ignoreUnknown: Boolean(opts.ignoreUnknownTensors) },
      file,
    );
  } catch (e) {
    throw modelError(
      (e as Error).message,
      `the file must hold RLR weights trained on ${backboneName} levels ${outIndices.join(',')} at ${imageSize.join('x')}: pass the --backbone, --out-indices and --image-size it was trained with (the released models: tf_efficientnet_b6, 2,3, 256)`,
      e,
    );
  }
  try {
    const backbone = await loadBackbone(
      {
        name: backboneName,
        outIndices,
        weights: given.weights,
        seed: paper.train.seed,
        offline: Boolean(opts.offline),
        cacheDir: opts.cacheDir as string | undefined,
        cwd: ctx.cwd,
        downloadTimeoutMs: parseDownloadTimeout(opts.downloadTimeout),
        signal: ctx.signal,
      },
      ctx.log,
      () => Promise.reject(new Error('unreachable: random weights are refused above')),
    );
    try {
      const levels = model.levelConfigs;
      const modelDir = runPath(out, 'model');
      const imported = { file, format, name: basename(file) };
      await saveRunBackbone(modelDir, backbone.extractor);
      await saveModelDir(model, modelDir, { backbone: backbone.extractor.toConfig(), preprocessing: { resize, crop: imageSize }, preset: 'paper', importedFrom: imported });
      const now = new Date().toISOString();
      const manifest: RunManifest = {
        version: 1,
        preset: 'paper',
        model: {
          backbone: backboneName,
          outIndices,
          imageSize,
          resize,
          layers: Math.max(...levels.map((l) => l.layers)),
          hidden: levels.map((l) => l.d),
          heads: levels[0].heads,
          ffnRatio: levels[0].ffnHidden / levels[0].d,
          alpha: levels[0].alpha,
          jitterScale: model.config.jitterScale,
          window: levels.map((l) => l.window),
        },
        train: { ...paper.train, epochs: 0 },
        ...(given.weights ? { weights: given.weights } : {}),
        status: 'done',
        created: now,
        updated: now,
        epochsDone: 0,
        backend,
        backboneWeights: backbone.weightsDescription,
        pretrained: backbone.pretrained,
        imported,
        versions: runVersions(),
      };
      await writeManifest(out, manifest);
      const text = [
        '',
        formatTable(
          ['level', 'grid', 'channels', 'd', 'layers', 'heads', 'window'],
          levels.map((l, i) => [String(i), l.grid.join('x'), l.channels, l.d, l.layers, l.heads, l.window]),
        ),
        '',
        `imported ${basename(file)} (${format}) with ${backboneName} (${backbone.weightsDescription}) into ${out}`,
        `next: rlr eval --model ${out} --data <dataset root> --format mvtec|visa`,
      ].join('\n');
      ctx.log.result(text, { run: out, model: modelDir, format, levels: levels.map((l) => ({ grid: l.grid, channels: l.channels, d: l.d, layers: l.layers })) });
    } finally {
      backbone.extractor.dispose();
    }
  } finally {
    model.dispose();
  }
}
