/**
 * The files `Detector.fit` keeps in its work folder (the CLI's run folder holds the same ones,
 * beside its own `run.json` and `history.json`):
 *
 * ```
 * <dir>/model/            the saved detector (config.json, weights, backbone, postprocessor.json)
 * <dir>/checkpoint/       last training checkpoint, for resuming
 * <dir>/features/         cached backbone features of the training images
 * <dir>/features-val/     cached features of the held-out validation normals
 * <dir>/validation.json   which normals were held out (fraction, seed, paths)
 * ```
 */
import { join } from 'node:path';

export const WORK_FILES = {
  model: 'model',
  checkpoint: 'checkpoint',
  features: 'features',
  valFeatures: 'features-val',
  validation: 'validation.json',
} as const;

/** The path of one of the work folder's files. */
export function workPath(dir: string, file: keyof typeof WORK_FILES): string {
  return join(dir, WORK_FILES[file]);
}
