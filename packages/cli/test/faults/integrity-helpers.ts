/**
 * Shared set-up of the integrity fault tests: a tiny generated dataset and a tiny trained run
 * (64x64 images, one layer of width 32, a random calibrated backbone, one worker thread).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateDataset } from '@rlr/data/node';
import { runBin, type BinResult } from '../bin-helpers.js';

/** The smallest model the CLI trains (the e2e tests' settings). */
export const TINY_MODEL = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4', '--workers', '1'];

/** Generate a one-category MVTec-layout dataset under `root/data` and return its path. */
export async function tinyDataset(root: string, seed = 1): Promise<string> {
  const data = join(root, 'data');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 8, testCount: 4, size: 64, seed });
  return data;
}

/** `rlr train` the tiny model on `data` into `out`; throws with the output when it fails. */
export async function trainTiny(data: string, out: string, extra: string[] = []): Promise<BinResult> {
  const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY_MODEL, '--epochs', '2', '--out', out, ...extra]);
  if (r.code !== 0) throw new Error(`training the tiny run failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  return r;
}

/**
 * Set float `index` of tensor `name` (the first float tensor when absent) of a safetensors file to
 * NaN, in place, leaving the header intact. Returns the tensor's name.
 */
export async function poisonSafetensors(path: string, name?: string, index = 0): Promise<string> {
  const bytes = new Uint8Array(await readFile(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const target = name ?? Object.keys(header).find((k) => k !== '__metadata__' && header[k].dtype === 'F32')!;
  view.setFloat32(8 + headerLen + header[target].data_offsets[0] + index * 4, NaN, true);
  await writeFile(path, bytes);
  return target;
}
