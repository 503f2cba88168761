import { basename, dirname, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { stemOf } from '../image-files.js';
import { deriveSeed, Rng, shuffled } from '@rlr/core/rng';
import type { AnomalyDataset, Sample, SkippedEntry } from '../types.js';
import { Confinement, isWithin, realOrResolved } from './confine.js';
import { indexMasks, listImages, reportUnusedMasks } from './directory-scan.js';

/** Options of {@link loadFolder}: a custom dataset of one category made of plain folders. */
export interface FolderOptions {
  /** Base for relative folder paths (default: the working directory). */
  root?: string;
  /** Defect-free images (required). Used for training, minus the held-out part when there is no `normalTestDir`. */
  normalDir: string;
  /** Anomalous test images. */
  abnormalDir?: string;
  /** Masks of the anomalous images: same stem as the image (`<stem>.<ext>` or `<stem>_mask.<ext>`), any image extension. */
  maskDir?: string;
  /** Normal test images. Without it, `holdOut` of `normalDir` is held out for testing. */
  normalTestDir?: string;
  /** Fraction of `normalDir` held out as test normals when `normalTestDir` is absent. Default 0.2. */
  holdOut?: number;
  /** Seed of the hold-out choice. Default 0. */
  seed?: number;
  /** Category name (default: the name of `root`, or without `root` of the folder above `normalDir`). */
  category?: string;
  /** Defect type of the anomalous samples (default: the name of `abnormalDir`). */
  defectType?: string;
}

/**
 * Reads a custom dataset from folders (anomalib's Folder layout). With `maskDir`, every anomalous
 * image must have a mask; without it, anomalous samples have no mask (image-level metrics only).
 * The hold-out is seeded: the same seed and files give the same split.
 *
 * The folders must be separate: two that are the same folder (also through a link) or one inside
 * another are refused. Each folder's images must resolve inside it: a symbolic link that leads
 * elsewhere is refused before it is opened.
 */
export async function loadFolder(options: FolderOptions): Promise<AnomalyDataset> {
  const base = resolve(options.root ?? '.');
  if (!options.normalDir) throw new DataError('invalid-option', 'normalDir', 'is required', 'Pass the folder of defect-free images as normalDir.');
  const normalDir = resolve(base, options.normalDir);
  const category = options.category ?? basename(options.root !== undefined ? base : dirname(normalDir));
  const skipped: SkippedEntry[] = [];
  await checkSeparate(base, options);
  const own = (dir: string, what: string) => Confinement.of(dir, what);

  const normals = await listImages(normalDir, skipped, 'the normal image folder (normalDir)', 'Check the normalDir setting.', await own(normalDir, 'the normal image folder (normalDir)'));
  if (normals.length === 0) throw new DataError('empty', normalDir, 'the normal image folder (normalDir) has no images', 'Put the defect-free images there, or fix the normalDir setting.');

  let train = normals;
  let testNormals: string[];
  if (options.normalTestDir !== undefined) {
    const dir = resolve(base, options.normalTestDir);
    testNormals = await listImages(dir, skipped, 'the normal test folder (normalTestDir)', 'Check the normalTestDir setting, or omit it to hold out part of normalDir.', await own(dir, 'the normal test folder (normalTestDir)'));
  } else {
    const holdOut = options.holdOut ?? 0.2;
    if (!(holdOut >= 0 && holdOut < 1)) throw new DataError('invalid-option', 'holdOut', `must be in [0, 1), got ${holdOut}`, 'Pass a fraction such as 0.2.');
    const count = Math.round(normals.length * holdOut);
    if (count >= normals.length) {
      throw new DataError('empty', normalDir, `holding out ${count} of ${normals.length} normal images leaves none for training`, 'Add normal images, lower holdOut, or pass normalTestDir.');
    }
    const picked = new Set(shuffled(normals, new Rng(deriveSeed(options.seed ?? 0, 'folder-hold-out'))).slice(0, count));
    train = normals.filter((p) => !picked.has(p));
    testNormals = normals.filter((p) => picked.has(p));
  }

  const test: Sample[] = testNormals.map((path) => ({ path, category, label: 0, defectType: 'good' }));
  if (options.abnormalDir !== undefined) {
    const abnormalDir = resolve(base, options.abnormalDir);
    const defectType = options.defectType ?? basename(abnormalDir);
    const anomalies = await listImages(abnormalDir, skipped, 'the anomalous image folder (abnormalDir)', 'Check the abnormalDir setting.', await own(abnormalDir, 'the anomalous image folder (abnormalDir)'));
    const maskDir = options.maskDir === undefined ? undefined : resolve(base, options.maskDir);
    const masks = maskDir !== undefined ? await indexMasks(maskDir, skipped, await own(maskDir, 'the mask folder (maskDir)')) : undefined;
    const used = new Set<string>();
    for (const path of anomalies) {
      const maskPath = masks?.get(stemOf(path));
      if (masks && !maskPath) {
        throw new DataError(
          'missing-mask',
          path,
          `anomalous image has no mask in ${resolve(base, options.maskDir!)} (looked for ${stemOf(path)}.<ext> and ${stemOf(path)}_mask.<ext>)`,
          'Add the mask, move the image out of abnormalDir, or omit maskDir for image-level evaluation only.',
        );
      }
      if (maskPath) used.add(maskPath);
      test.push({ path, category, label: 1, defectType, ...(maskPath ? { maskPath } : {}) });
    }
    if (masks) reportUnusedMasks(masks, used, skipped);
  } else if (options.maskDir !== undefined) {
    throw new DataError('invalid-option', 'maskDir', 'is set but abnormalDir is not', 'Pass the folder of anomalous images as abnormalDir, or drop maskDir.');
  }

  return {
    format: 'folder',
    root: base,
    categories: [category],
    train: train.map((path) => ({ path, category, label: 0, defectType: 'good' })),
    test,
    skipped,
  };
}

const FOLDER_OPTIONS = ['normalDir', 'abnormalDir', 'maskDir', 'normalTestDir'] as const;

/**
 * Refuses folder options that name the same folder (links resolved) or nest one inside another:
 * the same images would count as normal and anomalous, or training images as test images.
 */
async function checkSeparate(base: string, options: FolderOptions): Promise<void> {
  const given: { name: string; path: string; real: string }[] = [];
  for (const name of FOLDER_OPTIONS) {
    const value = options[name];
    if (value === undefined) continue;
    const path = resolve(base, value);
    given.push({ name, path, real: await realOrResolved(path) });
  }
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      const [a, b] = [given[i], given[j]];
      const problem =
        a.real === b.real
          ? `${a.name} (${a.path}) and ${b.name} (${b.path}) are the same folder`
          : isWithin(b.real, a.real)
            ? `${b.name} (${b.path}) is inside ${a.name} (${a.path})`
            : isWithin(a.real, b.real)
              ? `${a.name} (${a.path}) is inside ${b.name} (${b.path})`
              : undefined;
      if (problem) {
        throw new DataError('invalid-option', `${a.name} and ${b.name}`, `${problem}; each role needs its own folder, or the same images would be counted twice`, 'Give normalDir, abnormalDir, maskDir and normalTestDir separate folders side by side (e.g. parts/good, parts/defect, parts/masks).');
      }
    }
  }
}
