import { availableParallelism } from 'node:os';
import { DataError } from '../errors.js';
import type { AnomalyDataset, Sample } from '../types.js';
import { openImage } from './decode.js';

/** Result of {@link validateDataset}. */
export interface ValidationReport {
  /** Files examined: every image and every mask, sound or not. */
  checked: number;
  /** Every problem found (empty when the dataset is sound). */
  errors: DataError[];
}

async function decodeFully(path: string): Promise<[number, number]> {
  const opened = await openImage(path);
  try {
    // A tiny output still makes the decoder read every byte, so truncation shows up.
    await opened.pipeline.resize(8, 8, { fit: 'fill' }).raw().toBuffer();
  } catch (e) {
    throw new DataError('corrupt', path, `could not be decoded (${(e as Error).message}); the file is corrupt or truncated`, 'Replace it with an intact copy, or remove it from the dataset.');
  }
  return [opened.height, opened.width];
}

async function checkSample(s: Sample): Promise<void> {
  const [h, w] = await decodeFully(s.path);
  if (!s.maskPath) return;
  const [mh, mw] = await decodeFully(s.maskPath);
  if (mh !== h || mw !== w) {
    throw new DataError('size-mismatch', s.maskPath, `mask is ${mh}x${mw} (h x w) but its image ${s.path} is ${h}x${w}`, 'A mask must have the pixel size of its image: re-export the mask at the image size.');
  }
}

/**
 * Decodes every image and mask of a dataset once and checks mask sizes, collecting all problems
 * (corrupt or truncated files, unsupported formats, size mismatches) instead of stopping at the
 * first. Loaders only check the folder structure; run this before a long training job.
 */
export async function validateDataset(dataset: Pick<AnomalyDataset, 'train' | 'test'>, options: { concurrency?: number } = {}): Promise<ValidationReport> {
  const samples = [...dataset.train, ...dataset.test];
  const errors: DataError[] = [];
  let checked = 0;
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const s = samples[next++];
      checked += s.maskPath ? 2 : 1;
      try {
        await checkSample(s);
      } catch (e) {
        if (e instanceof DataError) errors.push(e);
        else throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? Math.max(2, availableParallelism()) }, worker));
  errors.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
  return { checked, errors };
}

