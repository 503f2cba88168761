import { existsSync } from 'node:fs';
import type { RLRModel } from '@rlr/core';
import * as core from '@rlr/core';
import { fileStore } from '@rlr/data/node';
import { modelError } from './errors.js';

/*
 * Persistence goes through @rlr/core's saveModel/loadModel over a file store (core never touches
 * files). Looked up at run time so this module builds against a core that is still growing.
 */
type SaveFn = (model: RLRModel, store: ReturnType<typeof fileStore>) => Promise<void>;
type LoadFn = (store: ReturnType<typeof fileStore>) => Promise<RLRModel>;

function coreFn<T>(name: string): T {
  const fn = (core as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw modelError(`@rlr/core ${core ? 'has no' : 'is missing'} ${name}()`, 'update @rlr/core to a version with model persistence');
  return fn as T;
}

/** Save a model into `dir` (config.json + weights.safetensors), atomically per file. */
export async function saveModelDir(model: RLRModel, dir: string): Promise<void> {
  await coreFn<SaveFn>('saveModel')(model, fileStore(dir));
}

/** Load the model saved in `dir`; a model error naming the folder when it is missing or broken. */
export async function loadModelDir(dir: string): Promise<RLRModel> {
  if (!existsSync(dir)) throw modelError(`${dir} does not exist: the run has no trained model yet`, 'finish training first (rlr train … --out <run>, or --resume an interrupted run)');
  try {
    return await coreFn<LoadFn>('loadModel')(fileStore(dir));
  } catch (e) {
    throw modelError(`cannot load the model in ${dir}: ${(e as Error).message.split('\n')[0]}`, 'the folder must hold config.json and weights.safetensors written by rlr train; retrain if it is damaged', e);
  }
}
