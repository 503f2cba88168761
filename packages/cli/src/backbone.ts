import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from '@rlr/core';
import {
  BACKBONE_WEIGHTS,
  createBackbone,
  getBackboneEntry,
  loadBackboneFromStore,
  saveBackboneWeights,
  cachePathFor,
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  isRemoteSource,
  type DownloadProgress,
} from '@rlr/backbones/node';
import { fileStore } from '@rlr/core/node';
import { InterruptedError, modelError, usageError } from './errors.js';
import type { Logger } from './log.js';
import type { ProgressTask } from './progress.js';
import type { RunManifest } from './run-dir.js';
import { defaultWeightsCached, isOffline, weightCacheDir } from './weight-cache.js';

/** How to obtain the backbone. */
export interface BackboneRequest {
  name: string;
  outIndices: number[];
  /** Path, URL, hf:// id, `random`, or undefined for the published default weights. */
  weights?: string;
  /** Seed of a random initialisation. */
  seed: number;
  offline: boolean;
  cacheDir?: string;
  cwd: string;
  /** Connect and idle timeout of a weights download (ms; `--download-timeout`). */
  downloadTimeoutMs?: number;
  /** Aborts a weights download (Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
  /**
   * With no weights available offline: fall back to a random, BatchNorm-calibrated backbone
   * instead of failing (the demo does this; training asks for `--weights random` explicitly).
   */
  allowRandomFallback?: boolean;
}

/** The extractor and how its weights were obtained (for messages, run.json and reports). */
export interface LoadedBackbone {
  extractor: FeatureExtractor;
  pretrained: boolean;
  /** e.g. `hf://timm/…/model.safetensors`, a path, or `random (seed 0), BatchNorm calibrated on 32 images`. */
  weightsDescription: string;
}

/**
 * Build the feature extractor. Random weights need `calibrationImages` (`[B, H, W, 3]` in [0, 1]),
 * whose batch statistics become the BatchNorm statistics; the caller disposes them.
 */
export async function loadBackbone(
  req: BackboneRequest,
  log: Logger,
  calibrationImages: () => Promise<tf.Tensor4D>,
): Promise<LoadedBackbone> {
  let entry;
  try {
    entry = getBackboneEntry(req.name);
  } catch (e) {
    throw usageError((e as Error).message, 'pick a registered backbone with --backbone (see `rlr train --help`)');
  }
  const cacheDir = weightCacheDir(req.cacheDir, req.cwd);
  const offline = isOffline(req.offline);
  let weights = req.weights;
  if (weights === undefined && offline && !defaultWeightsCached(req.name, cacheDir)) {
    if (!req.allowRandomFallback) {
      throw modelError(
        `offline: the ${req.name} weights (${entry.defaultWeights}) are not in the weight cache ${cacheDir}`,
        'pass local weights with --weights <file>, copy them into the cache, drop --offline / RLR_OFFLINE, or use --weights random',
      );
    }
    log.warn(`no pretrained ${req.name} weights available offline: using a randomly initialised ${req.name} with BatchNorm statistics calibrated on the training images (accuracy is lower than with ImageNet weights)`);
    weights = 'random';
  }
  if (weights === 'random') {
    if (entry.family !== 'efficientnet') {
      throw usageError(`--weights random is only available for EfficientNet backbones, not ${req.name}`, 'use --backbone tf_efficientnet_b0 (or another EfficientNet) or give real weights');
    }
    const images = await calibrationImages();
    try {
      const extractor = await createBackbone(req.name, { weights: 'random', seed: req.seed, outIndices: req.outIndices, calibrationImages: images });
      return { extractor, pretrained: false, weightsDescription: `random (seed ${req.seed}), BatchNorm calibrated on ${images.shape[0]} training images` };
    } finally {
      images.dispose();
    }
  }
  const download = downloadProgress(log, req.name);
  announceDownload(log, weights ?? entry.defaultWeights, cacheDir, offline, req.downloadTimeoutMs);
  try {
    const extractor = await createBackbone(req.name, {
      weights,
      outIndices: req.outIndices,
      onProgress: download.onProgress,
      cache: { cacheDir, offline, timeoutMs: req.downloadTimeoutMs, signal: req.signal },
    });
    download.done();
    return { extractor, pretrained: true, weightsDescription: weights ?? entry.defaultWeights };
  } catch (e) {
    download.done();
    throwIfInterrupted(e, req.signal);
    const msg = (e as Error).message;
    if (/download of|no data from|cached .* is damaged/.test(msg)) throw downloadError(msg, cacheDir, e);
    throw modelError(`cannot load ${req.name} weights: ${msg.split('\n')[0]}`, 'check --weights (a .safetensors file, a model.json or its folder, a URL or hf:// id); offline, the weights must be a local file or already cached; or use --weights random', e);
  }
}

/** Say that a download starts (and where it goes) before the first byte: a slow server is visible at once. */
function announceDownload(log: Logger, source: string, cacheDir: string, offline: boolean, timeoutMs = DEFAULT_DOWNLOAD_TIMEOUT_MS): void {
  if (offline || !isRemoteSource(source) || existsSync(cachePathFor(source, cacheDir))) return;
  log.info(`downloading ${source} into ${cachePathFor(source, cacheDir)} (gives up after ${timeoutMs / 1000} s without data, --download-timeout; Ctrl-C stops it and a rerun resumes)`);
}

/** A download stopped by Ctrl-C / SIGTERM: exit with the interrupt code, nothing else to save. */
function throwIfInterrupted(e: unknown, signal: AbortSignal | undefined): void {
  if (signal?.aborted || (e as Error)?.name === 'DownloadAbortedError') {
    throw new InterruptedError(`interrupted: ${(e as Error).message.split('\n')[0]}`, 'rerun the same command: the download resumes from the partial file');
  }
}

/** A failed, timed-out or refused download: name the cache and the flags that help. */
function downloadError(msg: string, cacheDir: string, cause: unknown): Error {
  return modelError(
    msg.split('\n')[0],
    `rerun to try again (a partial download resumes); on a slow connection raise --download-timeout; a damaged cached file: delete it or use another --cache-dir (now ${cacheDir}); or pass a local file with --weights`,
    cause,
  );
}

/** A progress bar in MB for a weights download, shown once bytes arrive. */
function downloadProgress(log: Logger, name: string): { onProgress: (p: DownloadProgress) => void; done(): void } {
  let task: ProgressTask | undefined;
  let shownMb = 0;
  return {
    onProgress(p) {
      task ??= log.progress(`download ${name}`, Math.max(1, Math.round((p.total ?? 0) / 1e6)), 'MB');
      const mb = Math.floor(p.loaded / 1e6);
      if (mb > shownMb) task.tick(mb - shownMb);
      shownMb = Math.max(shownMb, mb);
    },
    done: () => task?.done(),
  };
}

/**
 * Keep the backbone with a run's model: `backbone.safetensors` in the model folder whenever its
 * weights cannot be fetched again from a URL or hf:// id (random calibrated weights, a local file).
 * @returns whether the file was written
 */
export function saveRunBackbone(modelDir: string, extractor: FeatureExtractor): Promise<boolean> {
  return saveBackboneWeights(fileStore(modelDir), extractor);
}

/** Options of {@link openRunBackbone}. */
export interface RunBackboneOptions {
  /** `--weights`: use these instead of what the run saved. */
  weights?: string;
  offline: boolean;
  cacheDir?: string;
  cwd: string;
  log: Logger;
  /** Connect and idle timeout of a weights download (ms; `--download-timeout`). */
  downloadTimeoutMs?: number;
  /** Aborts a weights download (Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
}

/**
 * The backbone a finished run was trained with, for eval and predict: rebuilt from the model
 * folder (`backbone.safetensors`, else the weights source recorded in its config.json). `--weights`
 * replaces it (with pretrained weights: a random backbone needs training images to calibrate on).
 * @param saved the backbone entry of the model's config.json
 */
export async function openRunBackbone(
  modelDir: string,
  saved: Record<string, unknown> | undefined,
  manifest: RunManifest,
  o: RunBackboneOptions,
): Promise<LoadedBackbone> {
  if (o.weights !== undefined) {
    return loadBackbone(
      {
        name: manifest.model.backbone,
        outIndices: manifest.model.outIndices,
        weights: o.weights,
        seed: manifest.train.seed,
        offline: o.offline,
        cacheDir: o.cacheDir,
        cwd: o.cwd,
        downloadTimeoutMs: o.downloadTimeoutMs,
        signal: o.signal,
      },
      o.log,
      () =>
        Promise.reject(
          usageError(
            `--weights random builds a new random backbone, which needs the training images to calibrate on; ${modelDir} keeps the one the run was trained with`,
            'drop --weights to use the backbone saved with the run',
          ),
        ),
    );
  }
  const download = downloadProgress(o.log, manifest.model.backbone);
  const cacheDir = weightCacheDir(o.cacheDir, o.cwd);
  if (!existsSync(join(modelDir, BACKBONE_WEIGHTS)) && typeof saved?.weights === 'string') {
    announceDownload(o.log, saved.weights, cacheDir, isOffline(o.offline), o.downloadTimeoutMs);
  }
  try {
    const extractor = await loadBackboneFromStore(fileStore(modelDir), saved, {
      onProgress: download.onProgress,
      cache: { cacheDir, offline: isOffline(o.offline), timeoutMs: o.downloadTimeoutMs, signal: o.signal },
    });
    return {
      extractor,
      pretrained: manifest.pretrained ?? true,
      weightsDescription: manifest.backboneWeights ?? String(saved?.weights ?? 'unknown'),
    };
  } catch (e) {
    throwIfInterrupted(e, o.signal);
    const msg = (e as Error).message;
    if (/download of|no data from|cached .* is damaged/.test(msg)) throw downloadError(msg, cacheDir, e);
    throw modelError(
      `cannot rebuild the backbone of ${modelDir}: ${(e as Error).message.split('\n')[0]}`,
      `pass the weights it was trained with (--weights <file|url|hf://…>), or retrain the run: rlr train saves the backbone as ${BACKBONE_WEIGHTS} in the model folder`,
      e,
    );
  } finally {
    download.done();
  }
}
