import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CHECKPOINT_INDEX } from '@rlr/core';
import { writeJsonAtomic } from './atomic-write.js';
import { modelError, usageError } from './errors.js';
import { folderEntries, OWNER_FILE, readOwner, writeOwner } from './owned-folder.js';
import type { DataSettings, RunSettings } from './run-settings.js';
import { isInsidePath } from './paths.js';

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
 * <run>/.rlr-folder.json   marks the folder as created by rlr (see owned-folder.ts)
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
  validation: 'validation.json',
  valFeatures: 'features-val',
  snapshots: 'snapshots',
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
  /** Why training ended: done (all epochs), requested (Ctrl-C), budget (--max-minutes), early-stop. */
  stopReason?: 'done' | 'requested' | 'budget' | 'early-stop';
  /** Epoch (1-based) and loss of the lowest validation loss. */
  bestVal?: { epoch: number; loss: number };
  /** Epoch whose weights the model folder holds (`--keep`). */
  keptEpoch?: number;
  /** Set in the run folders `--snapshot-minutes` writes under `snapshots/`: the budget mark they stand for. */
  snapshot?: { minutes: number; clock: string; clockSeconds: number; epoch: number; keptEpoch: number };
  versions: Record<string, string | null>;
}

/** One epoch of training history. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
  /** Learning rate of the epoch's last step. */
  lr?: number;
  /** Validation loss (the training loss on the clean validation features) after the epoch. */
  valLoss?: number;
  /** Image-score distribution of the validation images after the epoch. */
  valScores?: { mean: number; p50: number; p95: number; max: number };
  /** Whether this epoch has the lowest validation loss so far. */
  bestVal?: boolean;
  /** Seconds of the budget clock since this process started training. */
  clockSeconds?: number;
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
 * Check that a new run may use `dir` as its folder: it does not exist yet, is empty, or is a
 * folder rlr created for a run that failed before it started (marked, without a run.json). A
 * folder that holds a run, or anything of the user's, is refused: rlr never writes into it.
 * @throws a usage error naming the folder, what is in it, and the fix
 */
export async function checkNewRunFolder(dir: string): Promise<void> {
  const at = await folderEntries(dir);
  if (at.kind === 'missing') return;
  if (at.kind === 'file') throw usageError(`--out ${dir} is a file, not a folder`, 'pass a folder for --out (a new one is created), e.g. --out runs/<name>');
  if (at.entries.includes(RUN_FILES.manifest)) {
    throw usageError(`${dir} already holds a run`, `continue it with --resume, or choose another --out`);
  }
  if (at.entries.length === 0 || (await readOwner(dir))?.kind === 'run') return;
  const shown = at.entries.slice(0, 3).join(', ');
  throw usageError(
    `--out ${dir} already holds files and is not a run folder (no ${RUN_FILES.manifest}; it holds ${shown}${at.entries.length > 3 ? ', …' : ''})`,
    'rlr train writes only into a new or empty folder, or one it created itself: pass another --out, e.g. --out runs/<name>; nothing in this folder was changed',
  );
}

/** Mark `dir` as a run folder rlr created (before the run's first file); kept when already marked. */
export async function claimRunFolder(dir: string): Promise<void> {
  if (!existsSync(join(dir, OWNER_FILE))) await writeOwner(dir, { tool: 'rlr', kind: 'run', version: 1, created: new Date().toISOString() });
}

/** Which of the files {@link discardUnstartedRun} may remove already exist (they are not this run's). */
export function existingRunFiles(dir: string): Set<'manifest' | 'history'> {
  return new Set((['manifest', 'history'] as const).filter((f) => existsSync(runPath(dir, f))));
}

/**
 * After a new run failed: when it has no checkpoint (nothing to resume), remove the run.json and
 * history.json it wrote, so that rerunning the same command does not find "a run" there. Only
 * files this run wrote go: `existed` (from {@link existingRunFiles} before the run) are kept. The
 * feature cache and the folder's marker stay (a complete cache is reused by the rerun).
 * @returns whether the files were removed
 */
export async function discardUnstartedRun(dir: string, existed: ReadonlySet<'manifest' | 'history'>): Promise<boolean> {
  if (existsSync(join(dir, RUN_FILES.checkpoint, CHECKPOINT_INDEX))) return false;
  for (const f of ['manifest', 'history'] as const) if (!existed.has(f)) await rm(runPath(dir, f), { force: true });
  return true;
}

/** The folders a dataset's images are read from (`--data` root, or the folder format's dirs). */
export function dataFolders(d: DataSettings): { flag: string; path: string }[] {
  if (d.format !== 'folder') return d.root ? [{ flag: '--data', path: d.root }] : [];
  const dirs: { flag: string; path: string | undefined }[] = [
    { flag: '--normal-dir', path: d.normalDir },
    { flag: '--abnormal-dir', path: d.abnormalDir },
    { flag: '--mask-dir', path: d.maskDir },
    { flag: '--normal-test-dir', path: d.normalTestDir },
  ];
  return dirs.filter((x): x is { flag: string; path: string } => x.path !== undefined).map((x) => ({ flag: x.flag, path: resolve(d.root ?? '.', x.path) }));
}

/**
 * Refuse an output folder inside the dataset: what rlr writes there would become part of the
 * dataset (stray files, a category without train/) and break every later load of it.
 * @param flag - the output flag, for the message (`--out`)
 */
export async function checkOutsideData(out: string, d: DataSettings, flag = '--out'): Promise<void> {
  for (const { flag: dataFlag, path } of dataFolders(d)) {
    if (await isInsidePath(out, path)) {
      throw usageError(
        `${flag} ${out} is inside the dataset (${dataFlag} ${path}): what rlr writes there would become part of the dataset and break later loads of it`,
        `pass a ${flag} outside ${path}, e.g. ${flag} runs/<name>`,
      );
    }
  }
}
