import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { classifyEntry, IMAGE_EXTENSIONS, stemOf } from '../image-files.js';
import type { SkippedEntry } from '../types.js';
import type { Confinement } from './confine.js';

/** One directory's entries, split into sub-folders and files, sorted by name (code-point order). */
export interface DirectoryEntries {
  dirs: string[];
  files: string[];
  /** The names (of `dirs` and `files`) that are symbolic links. */
  links: Set<string>;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Whether `path` is an existing directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Lists a directory (following symbolic links). `what` describes the folder's role for the
 * error message when it is missing, e.g. "the training folder of category bottle".
 */
export async function listDirectory(dir: string, what: string, fix: string): Promise<DirectoryEntries> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? `${what} does not exist` : code === 'ENOTDIR' ? `${what} is a file, not a folder` : `${what} could not be read (${(e as Error).message})`;
    throw new DataError('not-found', dir, problem, fix);
  }
  const dirs: string[] = [];
  const files: string[] = [];
  const links = new Set<string>();
  for (const entry of entries) {
    if (entry.isSymbolicLink()) links.add(entry.name);
    const isDir = entry.isSymbolicLink() ? await isDirectory(join(dir, entry.name)) : entry.isDirectory();
    (isDir ? dirs : files).push(entry.name);
  }
  return { dirs: dirs.sort(byName), files: files.sort(byName), links };
}

/**
 * The image files directly inside `dir`, as absolute paths in name order. Stray files (hidden,
 * `Thumbs.db`, ...) and sub-folders are recorded in `skipped`; a file of any other type is an
 * error, so nothing is silently dropped. With `confine`, the folder itself and every linked image
 * must resolve inside the confinement's root (checked before anything is opened).
 */
export async function listImages(dir: string, skipped: SkippedEntry[], what: string, fix: string, confine?: Confinement): Promise<string[]> {
  await confine?.check(dir);
  const { dirs, files, links } = await listDirectory(dir, what, fix);
  for (const d of dirs) {
    const kind = classifyEntry(d);
    skipped.push({ path: join(dir, d), reason: kind.kind === 'stray' ? `${kind.reason} (folder)` : 'sub-folder: images are read only directly from this folder' });
  }
  const images: string[] = [];
  for (const f of files) {
    const kind = classifyEntry(f);
    if (kind.kind === 'image') {
      if (links.has(f)) await confine?.check(join(dir, f));
      images.push(join(dir, f));
    } else if (kind.kind === 'stray') skipped.push({ path: join(dir, f), reason: kind.reason });
    else {
      throw new DataError(
        'unsupported-format',
        join(dir, f),
        `${kind.extension ? `"${kind.extension}" files are` : 'files without an extension are'} not supported as images (supported: ${IMAGE_EXTENSIONS.join(' ')})`,
        `Convert it to PNG, or move it out of ${dir}.`,
      );
    }
  }
  return images;
}

/**
 * Masks in `dir` indexed by the stem of the image they belong to: `<stem>_mask.<ext>` (MVTec)
 * or `<stem>.<ext>`. Two masks for one stem is an error.
 */
export async function indexMasks(dir: string, skipped: SkippedEntry[], confine?: Confinement): Promise<Map<string, string>> {
  const masks = await listImages(dir, skipped, 'the mask folder', 'Create it, or point to the folder holding the masks.', confine);
  const index = new Map<string, string>();
  for (const path of masks) {
    const stem = stemOf(path);
    const key = stem.endsWith('_mask') ? stem.slice(0, -'_mask'.length) : stem;
    const other = index.get(key);
    if (other) {
      throw new DataError('invalid-layout', path, `is a second mask for image stem "${key}" (the first is ${other})`, 'Keep one mask per image and remove the other.');
    }
    index.set(key, path);
  }
  return index;
}

/** Masks of `index` that no image claimed, reported as skipped. */
export function reportUnusedMasks(index: Map<string, string>, used: Set<string>, skipped: SkippedEntry[]): void {
  for (const [, path] of index) if (!used.has(path)) skipped.push({ path, reason: 'mask without a matching image' });
}
