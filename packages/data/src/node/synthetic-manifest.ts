/**
 * `manifest.json`: what `generateDataset` writes at the root of a generated dataset (its options
 * and counts). Loaders recognise it there, so it is not reported as a stray file.
 */
import { readFile } from 'node:fs/promises';
import type { DefectType } from '../synthetic/categories.js';

/** File name of the manifest at a generated dataset's root. */
export const SYNTHETIC_MANIFEST = 'manifest.json';

/** `generator` of a manifest written by `generateDataset`. */
export const SYNTHETIC_GENERATOR = '@rlr/data synthetic';

/** `manifest.json` of a generated dataset. */
export interface SyntheticManifest {
  generator: typeof SYNTHETIC_GENERATOR;
  version: 1;
  layout: 'mvtec' | 'visa';
  seed: number;
  height: number;
  width: number;
  defectTypes: DefectType[];
  categories: { name: string; kind: 'texture' | 'object'; train: number; test: Record<string, number> }[];
}

/**
 * The generator's manifest at `path`, or `null` when the file is missing, is not JSON or was not
 * written by `generateDataset` (a file of the same name from elsewhere stays a stray file).
 */
export async function readSyntheticManifest(path: string): Promise<SyntheticManifest | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<SyntheticManifest> | null;
    return parsed?.generator === SYNTHETIC_GENERATOR ? (parsed as SyntheticManifest) : null;
  } catch {
    return null;
  }
}
