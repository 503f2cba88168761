import type * as tf from '@tensorflow/tfjs-core';
import type { FeatureExtractor } from '@rlr/core';
import { createBackbone, getBackboneEntry, type DownloadProgress } from '@rlr/backbones/node';
import { modelError, usageError } from './errors.js';
import type { Logger } from './log.js';
import type { ProgressTask } from './progress.js';
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
  let download: ProgressTask | undefined;
  let shownMb = 0;
  const onProgress = (p: DownloadProgress) => {
    download ??= log.progress(`download ${req.name}`, Math.max(1, Math.round((p.total ?? 0) / 1e6)), 'MB');
    const mb = Math.floor(p.loaded / 1e6);
    if (mb > shownMb) download.tick(mb - shownMb);
    shownMb = Math.max(shownMb, mb);
  };
  try {
    const extractor = await createBackbone(req.name, {
      weights,
      outIndices: req.outIndices,
      onProgress,
      cache: { cacheDir, offline },
    });
    download?.done();
    return { extractor, pretrained: true, weightsDescription: weights ?? entry.defaultWeights };
  } catch (e) {
    download?.done();
    const msg = (e as Error).message;
    throw modelError(`cannot load ${req.name} weights: ${msg.split('\n')[0]}`, 'check --weights (a .safetensors file, a model.json or its folder, a URL or hf:// id); offline, the weights must be a local file or already cached; or use --weights random', e);
  }
}
