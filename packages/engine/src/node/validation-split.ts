import { readFile } from 'node:fs/promises';
import { Rng, deriveSeed, permutation } from '@rlr/core';
import type { Sample } from '@rlr/data';
import { writeFileAtomic } from '@rlr/core/node';
import { EngineError } from '../engine-error.js';
import { workPath } from './work-dir.js';

/** The normal training images split into those trained on and those held out for validation. */
export interface ValidationSplit {
  train: Sample[];
  val: Sample[];
}

/** `validation.json` of a run folder: how the split was drawn and which images it holds out. */
export interface ValidationRecord {
  fraction: number;
  seed: number;
  /** Normal training images before the split. */
  normals: number;
  /** Images trained on. */
  train: number;
  /** Paths of the held-out validation images, in the order they are scored. */
  images: string[];
}

/**
 * Hold out `round(fraction · n)` (at least 1) of the normal training images, chosen by a seeded
 * shuffle: the same images, seed and fraction always give the same split. Only training images
 * are split, so validation never sees a test image. The rest keep their order.
 * @throws a usage error naming `--val-fraction` when no training image would be left
 */
export function splitValidation(samples: Sample[], fraction: number, seed: number): ValidationSplit {
  const n = samples.length;
  const k = Math.max(1, Math.round(fraction * n));
  if (n - k < 1) {
    throw new EngineError('usage', `--val-fraction ${fraction} holds out ${k} of ${n} normal training image(s) and leaves none to train on`, 'use a smaller --val-fraction or add training images');
  }
  const order = permutation(n, new Rng(deriveSeed(seed, 0x7a1d)));
  const held = new Set(Array.from(order.subarray(0, k)));
  return {
    train: samples.filter((_, i) => !held.has(i)),
    val: Array.from(order.subarray(0, k)).sort((a, b) => a - b).map((i) => samples[i]),
  };
}

/** What `validation.json` records for a split. */
export function validationRecord(split: ValidationSplit, fraction: number, seed: number): ValidationRecord {
  return { fraction, seed, normals: split.train.length + split.val.length, train: split.train.length, images: split.val.map((s) => s.path) };
}

/** Write `validation.json` into the run folder (atomically). */
export function writeValidationRecord(runDir: string, record: ValidationRecord): Promise<void> {
  return writeFileAtomic(workPath(runDir, 'validation'), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * On `--resume`: the recorded split must be the one the run's settings draw again (the same
 * training images); otherwise the model would be validated on images it trained on.
 */
export async function checkRecordedSplit(runDir: string, record: ValidationRecord): Promise<void> {
  let stored: ValidationRecord;
  try {
    stored = JSON.parse(await readFile(workPath(runDir, 'validation'), 'utf8')) as ValidationRecord;
  } catch {
    return; // a run from before validation.json was written: nothing to compare
  }
  if (JSON.stringify(stored.images) !== JSON.stringify(record.images)) {
    throw new EngineError('data', 
      `${workPath(runDir, 'validation')}: the validation images recorded for this run differ from the ones its seed draws from the training images now`,
      'resume with the same --normal-dir/--data as the run was started with, or start a new run with another --out',
    );
  }
}
