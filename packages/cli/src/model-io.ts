import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KnnModel, RLRModel } from '@rlr/core';
import { fileStore } from '@rlr/core/node';
import { isKnn, loadDetectorModel, PostProcessor, POST_PROCESSOR_FILE, saveDetectorModel, type DetectorModel } from '@rlr/engine';
import { modelError } from './errors.js';

/** The model of a run folder: RLR, or the nearest-neighbour baseline (`rlr train --model knn`). */
export type RunModel = DetectorModel;

export { isKnn };

/** Save a model into `dir` (@rlr/core's config.json + weights.safetensors) with `extra` in config.json. */
export async function saveModelDir(model: RLRModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveDetectorModel(model, fileStore(dir), extra);
}

/** Save a knn model into `dir` (config.json + bank.safetensors) with `extra` in config.json. */
export async function saveKnnModelDir(model: KnnModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveDetectorModel(model, fileStore(dir), extra);
}

/** Load the model saved in `dir`; a model error naming the folder when it is missing or broken. */
export async function loadModelDir(dir: string): Promise<RLRModel> {
  const model = await loadRunModel(dir);
  if (isKnn(model)) throw modelError(`${dir} holds a nearest-neighbour (knn) model, not an RLR one`, 'use a run trained with --model rlr (the default)');
  return model;
}

/** Load the model saved in `dir`, of either kind. */
export async function loadRunModel(dir: string): Promise<RunModel> {
  if (!existsSync(dir)) throw modelError(`${dir} does not exist: the run has no trained model yet`, 'finish training first (rlr train … --out <run>, or --resume an interrupted run)');
  try {
    return await loadDetectorModel(fileStore(dir));
  } catch (e) {
    throw modelError(`cannot load the model in ${dir}: ${(e as Error).message.split('\n')[0]}`, 'the folder must hold config.json and weights.safetensors (or bank.safetensors) written by rlr train; retrain if it is damaged', e);
  }
}

/**
 * The post-processor saved in `dir` (`postprocessor.json`: thresholds fitted on validation
 * normals by rlr train), or null when the folder has none (rlr import, or a snapshot).
 */
export async function loadRunPostProcessor(dir: string): Promise<PostProcessor | null> {
  const file = join(dir, POST_PROCESSOR_FILE);
  if (!existsSync(file)) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw modelError(`${file} is not JSON: ${(e as Error).message}`, `delete ${file} and pass --threshold, or retrain the run`, e);
  }
  try {
    return PostProcessor.fromJSON(doc, file);
  } catch (e) {
    throw modelError((e as Error).message, `delete ${file} and pass --threshold, or retrain the run`, e);
  }
}
