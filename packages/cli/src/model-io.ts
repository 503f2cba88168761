import { existsSync } from 'node:fs';
import { isKnnModel, loadKnnModel, loadModel, saveKnnModel, saveModel, type KnnModel, type RLRModel } from '@rlr/core';
import { fileStore } from '@rlr/core/node';
import { modelError } from './errors.js';

/** The model of a run folder: RLR, or the nearest-neighbour baseline (`rlr train --model knn`). */
export type RunModel = RLRModel | KnnModel;

/** Whether a run's model is the nearest-neighbour baseline. */
export function isKnn(model: RunModel): model is KnnModel {
  return (model as KnnModel).kind === 'knn';
}

/** Save a model into `dir` (@rlr/core's config.json + weights.safetensors) with `extra` in config.json. */
export async function saveModelDir(model: RLRModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveModel(model, fileStore(dir), extra);
}

/** Save a knn model into `dir` (config.json + bank.safetensors) with `extra` in config.json. */
export async function saveKnnModelDir(model: KnnModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await saveKnnModel(model, fileStore(dir), extra);
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
    const store = fileStore(dir);
    return (await isKnnModel(store)) ? await loadKnnModel(store) : await loadModel(store);
  } catch (e) {
    throw modelError(`cannot load the model in ${dir}: ${(e as Error).message.split('\n')[0]}`, 'the folder must hold config.json and weights.safetensors (or bank.safetensors) written by rlr train; retrain if it is damaged', e);
  }
}
