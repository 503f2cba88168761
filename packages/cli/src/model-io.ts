import { existsSync } from 'node:fs';
import { loadModel, saveModel, type RLRModel } from '@rlr/core';
import { fileStore } from '@rlr/data/node';
import { modelError } from './errors.js';

/** Save a model into `dir` (@rlr/core's config.json + weights.safetensors) with `extra` in config.json. */
export async function saveModelDir(model: RLRModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveModel(model, fileStore(dir), extra);
}

/** Load the model saved in `dir`; a model error naming the folder when it is missing or broken. */
export async function loadModelDir(dir: string): Promise<RLRModel> {
  if (!existsSync(dir)) throw modelError(`${dir} does not exist: the run has no trained model yet`, 'finish training first (rlr train … --out <run>, or --resume an interrupted run)');
  try {
    return await loadModel(fileStore(dir));
  } catch (e) {
    throw modelError(`cannot load the model in ${dir}: ${(e as Error).message.split('\n')[0]}`, 'the folder must hold config.json and weights.safetensors written by rlr train; retrain if it is damaged', e);
  }
}
