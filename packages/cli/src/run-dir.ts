import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CHECKPOINT_INDEX } from '@rlr/core';
import { writeJsonAtomic } from './atomic-write.js';
import { modelError } from './errors.js';
import type { RunSettings } from './run-settings.js';

/**
 * A run folder, as `rlr train` writes it:
 *
 * ```
 * <run>/run.json          settings, status, versions (this module)
 * <run>/history.json      loss per epoch
 * <run>/model/            final model: config.json + weights.safetensors (@rlr/core saveModel),
 *                         + backbone.safetensors unless the backbone weights are a URL / hf:// id
 * <run>/checkpoint/       last checkpoint (model, optimiser state, epoch) for --resume
 * <run>/features/         cached backbone features of the training images
 * <run>/report/           default output of rlr eval
 * ```
 *
 * `rlr import` writes run.json and model/ only (no history, checkpoint or features).
 */
export const RUN_FILES = {
  manifest: 'run.json',
  history: 'history.json',
  model: 'model',
  checkpoint: 'checkpoint',
  features: 'features',
  report: 'report',
} as const;

/** `run.json`. */
export interface RunManifest extends Omit<RunSettings, 'data'> {
  /** The dataset the run was trained on; absent for imported weights (`rlr import`). */
  data?: RunSettings['data'];
  /** Set by `rlr import`: the checkpoint the model's weights came from. */
  imported?: { file: string; format: 'pth' | 'safetensors'; name: string };
  /** Schema version of this file. */
  version: 1;
  status: 'training' | 'interrupted' | 'done';
  created: string;
  updated: string;
  epochsDone: number;
  backend: string;
  /** How the backbone weights were obtained (e.g. `pretrained: <file>` or `random init, BatchNorm calibrated`). */
  backboneWeights?: string;
  /** Whether the backbone had pretrained weights. */
  pretrained?: boolean;
  /** Folder of the latest `rlr eval` report (its pooled threshold is `rlr predict`'s default). */
  report?: string;
  /**
   * Images whose statistics calibrated a random backbone. Only in run folders written before the
   * backbone was saved as `model/backbone.safetensors`: eval and predict recalibrate from them.
   */
  calibrationImages?: string[];
  versions: Record<string, string | null>;
}

/** One epoch of training history. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
}

export function runPath(dir: string, file: keyof typeof RUN_FILES): string {
  return join(dir, RUN_FILES[file]);
}

/** Read `run.json`; a model error with a fix when `dir` is not a run folder. */
export async function readManifest(dir: string, option: '--model' | '--out' = '--model'): Promise<RunManifest> {
  const p = runPath(resolve(dir), 'manifest');
  if (!existsSync(p)) {
    const fix =
      option === '--out'
        ? 'to continue a run, pass the --out folder it was started with (e.g. --out runs/mvtec --resume); to start a new one, drop --resume'
        : 'pass the --out folder of a finished `rlr train` (e.g. --model runs/mvtec)';
    throw modelError(`${resolve(dir)} is not a run folder (no ${RUN_FILES.manifest})`, fix);
  }
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as RunManifest;
    if (m.version !== 1) throw new Error(`unsupported run.json version ${String(m.version)}`);
    return m;
  } catch (e) {
    throw modelError(`${p} is unreadable: ${(e as Error).message}`, 'retrain into a fresh --out folder');
  }
}

export function writeManifest(dir: string, m: RunManifest): Promise<void> {
  return writeJsonAtomic(runPath(dir, 'manifest'), { ...m, updated: new Date().toISOString() });
}

export async function readHistory(dir: string): Promise<EpochRecord[]> {
  try {
    return JSON.parse(await readFile(runPath(dir, 'history'), 'utf8')) as EpochRecord[];
  } catch {
    return [];
  }
}

export function writeHistory(dir: string, h: EpochRecord[]): Promise<void> {
  return writeJsonAtomic(runPath(dir, 'history'), h);
}

/**
 * After a new run failed: when it has no checkpoint (nothing to resume), remove the run.json and
 * history.json it wrote, so that rerunning the same command does not find "a run" there. The
 * feature cache stays (a complete one is reused by the rerun).
 * @returns whether the files were removed
 */
export async function discardUnstartedRun(dir: string): Promise<boolean> {
  if (existsSync(join(dir, RUN_FILES.checkpoint, CHECKPOINT_INDEX))) return false;
  await rm(runPath(dir, 'manifest'), { force: true });
  await rm(runPath(dir, 'history'), { force: true });
  return true;
}
