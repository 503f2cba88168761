/**
 * tfjs models from disk (Node): a `model.json` (or the directory holding it) and its shards, read
 * with `node:fs`. tfjs's own `file://` handler lives in tfjs-node, which this project does not use.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { modelFilesIOHandler, type ModelFiles } from '../tfjs-model/model-json-io.js';

async function modelJsonPath(path: string): Promise<string> {
  const p = resolve(path.replace(/^file:\/\//, ''));
  let info;
  try {
    info = await stat(p);
  } catch {
    throw new Error(`tfjs model "${path}" does not exist; pass the path of a model.json or of the directory holding it`);
  }
  return info.isDirectory() ? join(p, 'model.json') : p;
}

const toArrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** {@link ModelFiles} for a model on disk (`model.json` path or its directory). */
export async function fileModelFiles(path: string): Promise<ModelFiles> {
  const json = await modelJsonPath(path);
  const dir = dirname(json);
  return {
    location: json,
    readModelJson: () => readFile(json, 'utf8'),
    readShard: async (p) => toArrayBuffer(await readFile(join(dir, p))),
  };
}

/** A load-only tfjs `IOHandler` for a model on disk. */
export async function fileModelHandler(path: string): Promise<tf.io.IOHandler> {
  return modelFilesIOHandler(await fileModelFiles(path));
}
