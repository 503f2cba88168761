import { resolve, join } from 'node:path';
import { DataError } from '../errors.js';
import { classifyEntry, stemOf } from '../image-files.js';
import type { AnomalyDataset, Sample, SkippedEntry } from '../types.js';
import { selectCategories } from './category-filter.js';
import { Confinement } from './confine.js';
import { indexMasks, isDirectory, listDirectory, listImages, reportUnusedMasks } from './directory-scan.js';
import { readSyntheticManifest, SYNTHETIC_MANIFEST } from './synthetic-manifest.js';

/** Options of {@link loadMvtec}. */
export interface MvtecOptions {
  /** Only these categories (default: every category folder under the root). */
  categories?: readonly string[];
  /**
   * Every anomalous test image must have a mask (default true). With false, anomalous images
   * without a mask are kept with `maskPath` unset (image-level evaluation only).
   */
  requireMasks?: boolean;
}

const LAYOUT_HINT = 'An MVTec AD root holds one folder per category, each with train/good/, test/<type>/ and ground_truth/<type>/<stem>_mask.png.';

/**
 * Reads the file lists of an MVTec AD-layout dataset:
 * `<root>/<category>/train/good/*`, `<root>/<category>/test/<type>/*` and
 * `<root>/<category>/ground_truth/<type>/<stem>_mask.<ext>` (also `<stem>.<ext>`). Any category
 * names and image extensions (case-insensitive) are accepted. Nothing is decoded here.
 *
 * Only files inside the root are read: a folder or image that is a symbolic link leading outside
 * the root is refused before it is opened.
 */
export async function loadMvtec(root: string, options: MvtecOptions = {}): Promise<AnomalyDataset> {
  root = resolve(root);
  const skipped: SkippedEntry[] = [];
  const top = await listDirectory(root, 'the dataset root', `Pass the folder that holds the category folders. ${LAYOUT_HINT}`);
  for (const f of top.files) {
    // generateDataset's manifest.json belongs to the dataset (only at the root, only its own).
    if (f === SYNTHETIC_MANIFEST && (await readSyntheticManifest(join(root, f)))) continue;
    const kind = classifyEntry(f);
    skipped.push({ path: join(root, f), reason: kind.kind === 'stray' ? kind.reason : 'file at the dataset root (not a category folder)' });
  }
  const found: string[] = [];
  for (const d of top.dirs) {
    if (classifyEntry(d).kind === 'stray') skipped.push({ path: join(root, d), reason: 'hidden or system folder' });
    else if (await isDirectory(join(root, d, 'train'))) found.push(d);
    else skipped.push({ path: join(root, d), reason: 'no train/ folder, so not a category' });
  }
  if (options.categories?.length) {
    for (const name of options.categories) {
      if (top.dirs.includes(name) && !found.includes(name)) {
        throw new DataError('invalid-layout', join(root, name), `category "${name}" has no train/ folder`, LAYOUT_HINT);
      }
    }
  }
  const categories = selectCategories(found, options.categories, root);
  if (categories.length === 0) throw new DataError('empty', root, 'holds no category folders', LAYOUT_HINT);

  const train: Sample[] = [];
  const test: Sample[] = [];
  const confine = await Confinement.of(root);
  for (const category of categories) {
    const dir = join(root, category);
    await readCategory(dir, category, options.requireMasks ?? true, train, test, skipped, confine);
  }
  return { format: 'mvtec', root, categories, train, test, skipped };
}

async function readCategory(dir: string, category: string, requireMasks: boolean, train: Sample[], test: Sample[], skipped: SkippedEntry[], confine: Confinement): Promise<void> {
  const trainDir = join(dir, 'train');
  const trainEntries = await listDirectory(trainDir, `the training folder of category ${category}`, LAYOUT_HINT);
  for (const d of trainEntries.dirs) if (d !== 'good') skipped.push({ path: join(trainDir, d), reason: 'only train/good/ is read (training uses normal images only)' });
  for (const f of trainEntries.files) skipped.push({ path: join(trainDir, f), reason: 'file outside train/good/' });
  const goodDir = join(trainDir, 'good');
  const normals = await listImages(goodDir, skipped, `the normal training folder of category ${category}`, `Create ${goodDir} with the category's defect-free images.`, confine);
  if (normals.length === 0) {
    throw new DataError('empty', goodDir, `category ${category} has no training images`, "Put the category's defect-free images in this folder, or leave the category out with the categories option.");
  }
  for (const path of normals) train.push({ path, category, label: 0, defectType: 'good' });

  const testDir = join(dir, 'test');
  const testEntries = await listDirectory(testDir, `the test folder of category ${category}`, `Create ${testDir}/good/ and one ${testDir}/<defect type>/ per defect. ${LAYOUT_HINT}`);
  for (const f of testEntries.files) {
    const kind = classifyEntry(f);
    if (kind.kind === 'stray') skipped.push({ path: join(testDir, f), reason: kind.reason });
    else throw new DataError('invalid-layout', join(testDir, f), 'is directly in test/', 'Test images go in test/good/ (normal) or test/<defect type>/ (anomalous).');
  }
  const gtDir = join(dir, 'ground_truth');
  const gtTypes = new Set((await isDirectory(gtDir)) ? (await listDirectory(gtDir, 'the ground-truth folder', LAYOUT_HINT)).dirs : []);
  for (const type of testEntries.dirs) {
    if (classifyEntry(type).kind === 'stray') {
      skipped.push({ path: join(testDir, type), reason: 'hidden or system folder' });
      continue;
    }
    const images = await listImages(join(testDir, type), skipped, `test folder ${type} of category ${category}`, LAYOUT_HINT, confine);
    if (type === 'good') {
      for (const path of images) test.push({ path, category, label: 0, defectType: 'good' });
      if (gtTypes.delete('good')) skipped.push({ path: join(gtDir, 'good'), reason: 'normal images have no mask; not read' });
      continue;
    }
    const maskDir = join(gtDir, type);
    const masks = gtTypes.has(type) ? await indexMasks(maskDir, skipped, confine) : new Map<string, string>();
    gtTypes.delete(type);
    const used = new Set<string>();
    for (const path of images) {
      const maskPath = masks.get(stemOf(path));
      if (maskPath) used.add(maskPath);
      else if (requireMasks) {
        throw new DataError(
          'missing-mask',
          path,
          `anomalous test image has no mask (looked for ${join(maskDir, `${stemOf(path)}_mask.png`)}, any image extension, or ${stemOf(path)}.<ext>)`,
          'Add the mask, move the image out of the test set, or load with requireMasks: false for image-level evaluation only.',
        );
      }
      test.push({ path, category, label: 1, defectType: type, ...(maskPath ? { maskPath } : {}) });
    }
    reportUnusedMasks(masks, used, skipped);
  }
  for (const type of gtTypes) skipped.push({ path: join(gtDir, type), reason: `masks for test/${type}/, which does not exist` });
}
